"""The standards' own fixtures, signed and sent over real gRPC to a hub that validates (step 8)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

import standards
from gateway.hub import Hub
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from gateway.server import Server
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from gateway.validation import standards_validator

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DATA = Path(standards.__file__).resolve().parent / "data"
SUBMIT_STREAM = "/jgx.exchange.v1.Exchange/SubmitStream"
# Which department the test federation's ACL lets send each record standard to the hub.
SENDERS = {"SC-09": "sc.sjs", "SC-11": "sc.12315"}
RECORDS = [f"SC-{n:02d}" for n in range(1, 16)]


def fixtures(kind: str) -> list[tuple[str, str, Path]]:
    """(standard, version, path) of the good or bad fixtures of the record standards.

    Bad fixtures of the contextual rules (SC-17 limits, SC-18 dates relative to a reporting day, SC-20
    masking per destination) need a context the exchange does not give; the standards' own suite runs them.
    """
    found = []
    for standard in RECORDS:
        for path in sorted((DATA / standard).glob(f"*/fixtures/{kind}/*.json")):
            if kind == "bad" and path.name.split(".", 1)[0] not in (standard, "SC-16"):
                continue
            found.append((standard, path.parts[-4], path))
    return found


@pytest.fixture
async def stream(tmp_path: Path) -> AsyncIterator[tuple[Federation, grpc.aio.Channel]]:
    """A validating hub on 127.0.0.1 and a channel to it."""
    fed = Federation.create(NOW)
    store = SqliteStore(tmp_path / "hub.db")
    await store.open()
    hub = Hub(
        node_id="sc.hub",
        key=fed.keys["sc.hub"],
        trust=fed.trust,
        store=store,
        validate=standards_validator,
        clock=lambda: NOW,
    )
    await hub.start()
    server = Server(hub)
    port = server.add_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield fed, channel
    await server.stop(grace=1)
    await store.close()


async def _send_all(
    fed: Federation, channel: grpc.aio.Channel, cases: list[tuple[str, str, Path]]
) -> list[exchange_pb2.Receipt]:
    envelopes = []
    for n, (standard, version, path) in enumerate(cases):
        sender = SENDERS.get(standard, "sc.amr")
        message = fed.message(
            sender,
            "sc.hub",
            standard=standard,
            version=version,
            payload=path.read_bytes(),
            message_id=f"fx-{n}",
        )
        envelopes.append(fed.envelope(message))
    call = channel.stream_stream(SUBMIT_STREAM, response_deserializer=exchange_pb2.SubmitResponse.FromString)
    return [
        verify_receipt(r.receipt, fed.trust, issuer="sc.hub", now=NOW) async for r in call(iter(envelopes))
    ]


async def test_good_fixtures_are_accepted(stream: tuple[Federation, grpc.aio.Channel]) -> None:
    """Every good fixture of SC-01…SC-15, signed by its department, is accepted with a verifiable receipt."""
    cases = fixtures("good")
    receipts = await _send_all(*stream, cases)
    refused = {
        path.name: list(r.reason_codes)
        for (_, _, path), r in zip(cases, receipts, strict=True)
        if r.reason_codes
    }
    assert {} == refused
    assert len(cases) == len(receipts)


async def test_bad_fixtures_are_rejected_with_the_rule_they_break(
    stream: tuple[Federation, grpc.aio.Channel],
) -> None:
    """Each bad fixture comes back with a finding of its rule; errors reject it with a content reason."""
    cases = fixtures("bad")
    receipts = await _send_all(*stream, cases)
    wrong = {}
    for (_, _, path), receipt in zip(cases, receipts, strict=True):
        rule = path.name.split("-", 2)
        rule_id = f"{rule[0]}-{rule[1]}"
        named = [f for f in receipt.findings if f.rule_id == rule_id]
        errors = [f for f in receipt.findings if f.severity == "error"]
        expected = exchange_pb2.OUTCOME_REJECTED if errors else exchange_pb2.OUTCOME_ACCEPTED
        content = set(receipt.reason_codes) <= {"SCHEMA_INVALID", "RULE_VIOLATION", "MALFORMED"}
        if not named or receipt.outcome != expected or not content:
            wrong[path.name] = (list(receipt.reason_codes), [f.rule_id for f in receipt.findings])
    assert {} == wrong
    assert len(cases) > 100
