"""The console over a log holding sealed values (wire.md §12): a sealed field shows as 已加密 / sealed
to every role, through the JSON API and on the page; never opened; a misshapen one breaks nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import standards
from gateway.console import make_console_app
from gateway.console.auth import hash_password
from gateway.hub import Hub
from gateway.keys import Algorithm
from gateway.sealed_records import seal_payload
from gateway.storage import User
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from gateway.validation import standards_validator
from tests.console.conftest import NOW, PASSWORD, Clock, ConsoleTestServer, Exchange, login

DISPATCH = Path(standards.__file__).parent / "data/SC-13/1.0.0/fixtures/good/dispatch.json"
PARTY_ID = "500103198808080314"
SEALED_TEXT = "已加密 / sealed"


async def build_sealed(store: SqliteStore) -> tuple[Exchange, str]:
    """A hub (SM2, step 8 on) logs a sealed clue for cq.hub (accepted, index "good") and one whose sealed
    value is misshapen (rejected, "bad") into `store`; users ops and audit; the good clue's ciphertext."""
    fed = Federation.create(NOW - timedelta(days=1), algorithm=Algorithm.SM2_SM3)
    clock = Clock(NOW - timedelta(hours=1))
    hub = Hub(
        node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=clock,
        validate=standards_validator,
    )  # fmt: skip
    await hub.start()
    record = standards.mask(json.loads(DISPATCH.read_bytes()), "partner", standard="SC-13")
    header: dict[str, Any] = {"standard": "SC-13", "payload": record, "action": "dispatch"}
    header["issued_at"] = clock.now
    good = fed.message("sc.amr", "cq.hub", **header)
    good.payload = seal_payload(good, ["/partyIdCode"], fed.trust)
    bad = fed.message("sc.amr", "cq.hub", **header)
    spoiled = dict(record, partyIdCode={"jgx:sealed": "rot13", "ct": "x"})
    bad.payload = json.dumps(spoiled, ensure_ascii=False).encode()
    exchange = Exchange(fed, clock)
    for name, message in (("good", good), ("bad", bad)):
        handled = await hub.submit(fed.envelope(message))
        assert handled.log_index is not None
        exchange.index[name] = handled.log_index
    await hub.close()
    for name, role in (("ops", "operator"), ("audit", "auditor")):
        await store.add_user(User(name, role, "", hash_password(PASSWORD), NOW), now=NOW, actor="test")
    clock.now = NOW
    return exchange, str(json.loads(good.payload)["partyIdCode"]["ct"])


@pytest.fixture
async def sealed_console(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], dict[str, int], str]]:
    """The console over `build_sealed`'s log (real HTTP on an ephemeral port)."""
    store = SqliteStore(tmp_path / "jgx.db")
    await store.open()
    exchange, ciphertext = await build_sealed(store)
    app = make_console_app(store, exchange.fed.trust, node_id="sc.hub", clock=exchange.clock)
    client: TestClient[Any, Any] = TestClient(ConsoleTestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client, exchange.index, ciphertext
    finally:
        await client.close()
        await store.close()


@pytest.mark.parametrize("user", ["ops", "audit"])
async def test_a_sealed_field_shows_as_sealed_to_every_role(
    sealed_console: tuple[TestClient[Any, Any], dict[str, int], str], user: str
) -> None:
    """Masked (operator) or not (auditor), the party's number shows as 已加密 / sealed, never as ciphertext
    and never opened; the other fields show as before."""
    client, index, ciphertext = sealed_console
    await login(client, user)
    for name in ("good", "bad"):
        response = await client.get(f"/api/v1/messages/{index[name]}")
        assert 200 == response.status
        detail = await response.json()
        shown = json.loads(detail["payload"])
        assert (SEALED_TEXT, ["/partyIdCode"]) == (shown["partyIdCode"], detail["payload_sealed"])
        assert "重庆市渝中区市场监督管理局" == shown["receiverUnitName"]
        assert PARTY_ID not in detail["payload"]
        assert ciphertext not in detail["payload"]
    outcomes = [
        (await (await client.get(f"/api/v1/messages/{index[n]}")).json())["receipt"]["outcome"]
        for n in ("good", "bad")
    ]
    assert ["accepted", "rejected"] == outcomes
    page = await (await client.get(f"/messages/{index['good']}")).text()
    assert SEALED_TEXT in page
    assert ciphertext not in page
