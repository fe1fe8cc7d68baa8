"""Every envelope past step 2 gets a signed receipt and a leaf, whatever text it carries (DESIGN §2).

Over a real gRPC server with the real standards validator, on SQLite and on PostgreSQL: a lone UTF-16
surrogate in a signed payload, surrogate or NUL bytes in the header, 50 000 faults in one record, and a
bad envelope in the same commit batch as other senders' good ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
import structlog

import standards
from gateway.cli._logging import configure_logging
from gateway.dsse import MESSAGE_TYPE
from gateway.envelope import seal
from gateway.hub import Hub
from gateway.logbook import parse_leaf
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import MAX_FINDINGS, MAX_FINDINGS_BYTES, OMITTED_RULE, FindingLike, verify_receipt
from gateway.server import Server
from gateway.storage import Appended, Entry
from gateway.storage.postgres import PostgresStore
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from gateway.validation import standards_validator
from tests.gateway.nodes import UnreadableFinding
from tests.gateway.storage.pgschema import fresh_schema

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SUBMIT = "/jgx.exchange.v1.Exchange/Submit"


class _Gate:
    """Holds every append until `gate` is set and records the message ids of each batch written."""

    gate: asyncio.Event
    batches: list[list[str]]
    entered: int = 0

    async def append(self, entries: Sequence[Entry]) -> list[Appended]:
        self.entered += 1
        await self.gate.wait()
        self.batches.append([entry.message_id for entry in entries])
        return await super().append(entries)  # type: ignore[misc]


class GatedSqlite(_Gate, SqliteStore):
    """The SQLite store behind a gate."""


class GatedPostgres(_Gate, PostgresStore):
    """The PostgreSQL store behind a gate."""


@dataclass
class Node:
    """A hub with the real validator, served over gRPC, and a client channel with default limits."""

    fed: Federation
    hub: Hub
    store: Any
    channel: grpc.aio.Channel

    async def submit(self, data: bytes) -> exchange_pb2.Receipt:
        """Submit ``data``; the receipt, verified offline, whose leaf must hold this envelope's digest."""
        call = self.channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
        response = await call(data)
        receipt = verify_receipt(
            response.receipt, self.fed.trust, issuer="sc.hub", now=NOW,
            envelope_sha256=hashlib.sha256(data).digest(),
        )  # fmt: skip
        [stored] = await self.store.leaves(receipt.log_index, receipt.log_index + 1)
        leaf = parse_leaf(stored.leaf)
        assert (hashlib.sha256(data).digest(), receipt.outcome) == (leaf.envelope_sha256, leaf.outcome)
        return receipt


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def node(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Node]:
    """A running node on each backend, its appends behind an open gate (tests may close it)."""
    async with contextlib.AsyncExitStack() as stack:
        store: GatedSqlite | GatedPostgres
        if request.param == "sqlite":
            store = GatedSqlite(tmp_path / "hub.db")
        else:
            store = GatedPostgres(await stack.enter_async_context(fresh_schema()))
        store.gate, store.batches = asyncio.Event(), []
        store.gate.set()
        await store.open()
        stack.push_async_callback(store.close)
        fed = Federation.create(NOW)
        hub = Hub(
            node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: NOW,
            validate=standards_validator,
        )  # fmt: skip
        await hub.start()
        server = Server(hub)
        port = server.add_port("127.0.0.1:0")
        await server.start()
        stack.push_async_callback(server.stop, 1)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")  # gRPC's default 4 MiB receive limit
        stack.push_async_callback(channel.close)
        yield Node(fed, hub, store, channel)


def _with(sample: str, extra: str) -> bytes:
    """The SC-06 sample record with ``extra`` (raw JSON text, escapes kept) appended to its members."""
    text = standards.sample("SC-06").decode("utf-8").rstrip()
    assert text.endswith("}")
    return (text[:-1] + ", " + extra + "}").encode("utf-8")


def _forged_header(fed: Federation, field: str, raw: bytes) -> bytes:
    """A signed envelope whose Message has ``raw`` bytes (not valid UTF-8) in the string ``field``."""
    marker = "ZZMARKERZZ"
    message = fed.message("sc.amr", "sc.hub", **{field: marker})
    body = message.SerializeToString().replace(marker.encode(), raw)
    return seal(body, MESSAGE_TYPE, [fed.keys["sc.amr"]]).SerializeToString()


# The validator decides how a payload with a lone surrogate is refused: as a decoding fault (MALFORMED)
# or as an undefined field (SCHEMA_INVALID). The hub must receipt it either way.
PAYLOAD_REFUSALS = frozenset({"SCHEMA_INVALID", "MALFORMED"})

# name -> (envelope bytes for the federation, expected outcome, expected reason codes, one of)
CASES: dict[str, tuple[Callable[[Federation], bytes], int, frozenset[str]]] = {
    "lone surrogate as a key": (
        lambda fed: fed.envelope(fed.message("sc.amr", "sc.hub", payload=_with("SC-06", '"\\udfff": 1'))),
        exchange_pb2.OUTCOME_REJECTED, PAYLOAD_REFUSALS,
    ),
    "lone surrogate in a value": (
        lambda fed: fed.envelope(
            fed.message("sc.amr", "sc.hub", payload=_with("SC-06", '"note\\ud800": "\\ud800\\udfff\\udc00"'))
        ),
        exchange_pb2.OUTCOME_REJECTED, PAYLOAD_REFUSALS,
    ),
    "surrogate bytes in message_id": (
        lambda fed: _forged_header(fed, "message_id", b"ab\xed\xbf\xbfcd"),
        exchange_pb2.OUTCOME_REJECTED, frozenset({"MALFORMED"}),
    ),
    "surrogate bytes in business_key": (
        lambda fed: _forged_header(fed, "business_key", b"bk\xed\xa0\x80"),
        exchange_pb2.OUTCOME_REJECTED, frozenset({"MALFORMED"}),
    ),
    "NUL in correlation_id": (
        lambda fed: fed.envelope(fed.message("sc.amr", "sc.hub", correlation_id="CLUE\x00-1")),
        exchange_pb2.OUTCOME_REJECTED, frozenset({"MALFORMED"}),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
async def test_an_envelope_with_unencodable_text_gets_a_receipt_and_a_leaf(node: Node, case: str) -> None:
    """Surrogates or NUL anywhere in a signed envelope give a signed receipt and a leaf, on every resend."""
    build, outcome, reasons = CASES[case]
    data = build(node.fed)
    receipt = await node.submit(data)
    again = await node.submit(data)
    [reason] = receipt.reason_codes
    assert (outcome, True) == (receipt.outcome, reason in reasons)
    assert (receipt.outcome, [reason]) == (again.outcome, list(again.reason_codes))
    assert 2 == await node.store.size()


async def test_fifty_thousand_faults_give_a_bounded_receipt(node: Node) -> None:
    """A record with 50 000 keys gets a receipt within the findings bound, naming how many were left out."""
    members = ", ".join(f'"extra{n:05d}": {n}' for n in range(50_000))
    payload = _with("SC-06", members)
    findings = standards.validate(payload, "SC-06", "1.0.0", on=date(2026, 3, 2), destination="internal")
    data = node.fed.envelope(node.fed.message("sc.amr", "sc.hub", payload=payload))
    receipt = await node.submit(data)
    listed, last = receipt.findings[:-1], receipt.findings[-1]
    assert len(receipt.findings) <= MAX_FINDINGS
    assert sum(f.ByteSize() for f in receipt.findings) <= MAX_FINDINGS_BYTES
    assert [f.pointer for f in findings[: len(listed)]] == [f.pointer for f in listed]
    assert (OMITTED_RULE, "error") == (last.rule_id, last.severity)
    assert last.message_en.startswith(f"{len(findings) - len(listed)} more findings omitted")


def _good(fed: Federation, sender: str, standard: str) -> bytes:
    return fed.envelope(fed.message(sender, "sc.hub", standard=standard))


async def _submit_held(node: Node, envelopes: dict[str, bytes]) -> dict[str, exchange_pb2.Receipt]:
    """Submit ``envelopes`` while the store is held, so that they are written as one batch."""
    store = node.store
    store.gate.clear()
    first = asyncio.create_task(node.submit(_good(node.fed, "sc.sjs", "SC-09")))  # holds the writer
    while store.entered == 0:  # the writer has taken the first entry and waits at the gate
        await asyncio.sleep(0.01)
    calls = {name: asyncio.create_task(node.submit(data)) for name, data in envelopes.items()}
    while node.hub.pending_writes < len(envelopes):
        await asyncio.sleep(0.01)
    store.gate.set()
    await first
    return {name: await call for name, call in calls.items()}


async def test_a_bad_envelope_does_not_fail_the_batch_it_shares(node: Node) -> None:
    """A surrogate-keyed envelope committed in one batch with other senders' envelopes: all are receipted."""
    fed = node.fed
    envelopes = {
        "bad": CASES["lone surrogate as a key"][0](fed),
        "sc.12315": _good(fed, "sc.12315", "SC-11"),
        "sc.sjs": _good(fed, "sc.sjs", "SC-09"),
        "cn.national": _good(fed, "cn.national", "SC-12"),
    }
    receipts = await _submit_held(node, envelopes)
    assert sorted(r.message_id for r in receipts.values()) == sorted(node.store.batches[1])
    outcomes = {name: (r.outcome, list(r.reason_codes)) for name, r in receipts.items()}
    [bad_reason] = outcomes["bad"][1]
    assert bad_reason in PAYLOAD_REFUSALS
    assert {
        "bad": (exchange_pb2.OUTCOME_REJECTED, [bad_reason]),
        "sc.12315": (exchange_pb2.OUTCOME_ACCEPTED, []),
        "sc.sjs": (exchange_pb2.OUTCOME_ACCEPTED, []),
        "cn.national": (exchange_pb2.OUTCOME_ACCEPTED, []),
    } == outcomes



async def test_an_entry_the_hub_cannot_build_is_a_logged_internal_rejection(node: Node) -> None:
    """Findings that break a receipt give an INTERNAL rejection with a leaf; the batch's others pass."""

    def validate(payload: bytes, standard: str, version: str, on: date, dest: str) -> list[FindingLike]:
        if b"poison" in payload:
            return [UnreadableFinding()]
        return list(standards_validator(payload, standard, version, on, dest))

    node.hub.validate = validate
    fed = node.fed
    poisoned = fed.envelope(fed.message("sc.amr", "sc.hub", payload=_with("SC-06", '"poison": 1')))
    with structlog.testing.capture_logs() as events:
        receipts = await _submit_held(
            node, {"poisoned": poisoned, "sc.12315": _good(fed, "sc.12315", "SC-11")}
        )
    poisoned_receipt = receipts["poisoned"]
    assert (exchange_pb2.OUTCOME_REJECTED, ["INTERNAL"], []) == (
        poisoned_receipt.outcome, list(poisoned_receipt.reason_codes), list(poisoned_receipt.findings)
    )  # fmt: skip
    assert exchange_pb2.OUTCOME_ACCEPTED == receipts["sc.12315"].outcome
    assert "envelope.entry_refused" in [e["event"] for e in events if e["log_level"] == "error"]
    assert receipts["poisoned"] == await node.submit(poisoned)  # a resend: the original receipt


def test_a_log_event_with_a_lone_surrogate_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lone surrogate in an event's fields is written escaped, not lost with an encoding error."""
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    monkeypatch.setattr(sys, "stdout", stdout)
    try:
        configure_logging("json")
        structlog.get_logger("jgx.test").info("envelope", detail="key \udfff", reasons=["\ud800"])
    finally:
        structlog.reset_defaults()
    event = json.loads(raw.getvalue().decode("utf-8"))
    assert ("key \\udfff", ["\\ud800"]) == (event["detail"], event["reasons"])
