"""Every row of docs/wire.md §6 against a live node: real gRPC over mTLS sockets, SQLite, signatures.

The expected gRPC status and "answered with (step)" of each code are read from docs/wire.md itself
(which tests/gateway/test_docs.py keeps equal to `gateway.errors.CATALOGUE`). Each (code, step,
answer) the table names has one scenario here that provokes it; codes that cannot arise at a live
node's Submit (trust-file codes, RECEIPT_INVALID on the sending side) are provoked where the table
says they arise. Receipts are checked against §8's rule of which fields name the message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from structlog.testing import capture_logs

import standards
from gateway import tls
from gateway.dsse import RECEIPT_TYPE
from gateway.envelope import seal
from gateway.error_details import error_info, reason_of
from gateway.errors import ERROR_DOMAIN, Answer, JgxError, ReasonCode
from gateway.hub import Hub
from gateway.keys import generate_key
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pki import create_ca, issue_node_certificate
from gateway.ratelimit import RateLimiter
from gateway.receipts import carries_findings, names_message, verify_receipt
from gateway.server import Server
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from gateway.trust import AclEntry, key_record
from gateway.trust_update import load_trust, sign_trust
from gateway.validation import standards_validator
from tests.gateway.nodes import UnreadableFinding

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
WIRE = (Path(__file__).resolve().parents[2] / "docs" / "wire.md").read_text(encoding="utf-8")
DATA = Path(standards.__file__).resolve().parent / "data"
MAX_ENVELOPE = 64 * 1024
BUG = b'{"trigger": "a fault inside the node"}'
UNKEEPABLE = b'{"trigger": "a verdict the node cannot keep"}'


def spec_rows() -> dict[str, tuple[str, set[tuple[str, int | None]]]]:
    """code -> (gRPC status, {(answer, step)}) as docs/wire.md §6 states them."""
    rows: dict[str, tuple[str, set[tuple[str, int | None]]]] = {}
    for line in WIRE.splitlines():
        match = re.fullmatch(r"\| `([A-Z_]+)` \| ([A-Z_]+) \| \d+ \| ([^|]+) \|.*", line)
        if match is None:
            continue
        where: set[tuple[str, int | None]] = set()
        for part in match[3].strip().split("; "):
            answer, _, steps = part.partition(" (")
            numbers = re.findall(r"\d+", steps)
            where |= {(answer, int(n)) for n in numbers} if numbers else {(answer, None)}
        rows[match[1]] = (match[2], where)
    return rows


SPEC = spec_rows()
ROWS = sorted((code, answer, step) for code, (_, where) in SPEC.items() for answer, step in where)


@dataclass
class Observed:
    """What came back, and at which step the node's event log says it was decided."""

    answer: str
    code: str
    step: int | None = None
    status: str = ""
    domain: str = ""
    receipt: exchange_pb2.Receipt | None = None
    body: exchange_pb2.Message | None = None
    leaf_sha256: bytes | None = None  # the envelope digest of the leaf the receipt names, when read


@dataclass
class Wire:
    """A validating hub served over mTLS, the federation, and a CA to make client identities."""

    fed: Federation
    hub: Hub
    port: int
    ca: tuple[bytes, bytes]
    revoked: object
    expired: object
    tmp: Path

    def channel(self, node_id: str) -> grpc.aio.Channel:
        """An mTLS channel presenting a certificate for ``node_id`` from the federation's CA."""
        cert, key = issue_node_certificate(*self.ca, node_id, now=datetime.now(UTC))
        credentials = tls.channel_credentials(cert, key, self.ca[0])
        return grpc.aio.secure_channel(f"127.0.0.1:{self.port}", credentials)

    async def submit(
        self, data: bytes, *, body: exchange_pb2.Message | None = None, via: str = "sc.amr"
    ) -> Observed:
        """Submit ``data`` over ``via``'s mTLS connection; the receipt verified, or the status read."""
        async with self.channel(via) as channel:
            return await submit_on(channel, data, self.fed, body)


async def submit_on(
    channel: grpc.aio.Channel, data: bytes, fed: Federation, body: exchange_pb2.Message | None = None
) -> Observed:
    """Submit on ``channel`` and observe the answer and the step the node's events name."""
    call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
    with capture_logs() as events:
        try:
            response = await call(data)
        except grpc.aio.AioRpcError as error:
            info = error_info(error)
            observed = Observed(
                "status",
                reason_of(error).value,
                status=error.code().name,
                domain=info.domain if info is not None else "",
            )
        else:
            digest = hashlib.sha256(data).digest()
            receipt = verify_receipt(
                response.receipt, fed.trust, issuer="sc.hub", now=NOW, envelope_sha256=digest
            )
            code = receipt.reason_codes[0] if receipt.reason_codes else ""
            observed = Observed("receipt", code, receipt=receipt, body=body)
    steps = [e["step"] for e in events if e.get("event") == "envelope" and "step" in e]
    observed.step = steps[-1] if steps else None
    return observed


async def serve(hub: Hub, **options: object) -> tuple[Server, int]:
    """Serve ``hub`` in plaintext on loopback (for the scenarios that need a node of their own)."""
    server = Server(hub, **options)  # type: ignore[arg-type]
    port = server.add_port("127.0.0.1:0")
    await server.start()
    return server, port



def _validate_with_a_fault(payload: bytes, *args: str):  # type: ignore[no-untyped-def]
    # Stand-ins for bugs in the node: nothing a peer sends can make the real code raise, which is
    # the point of INTERNAL; these payloads make the validator raise, or return what cannot be kept.
    if payload == BUG:
        raise RuntimeError("a fault inside the node")
    if payload == UNKEEPABLE:
        return [UnreadableFinding()]
    return standards_validator(payload, *args)  # type: ignore[arg-type]


class _FaultyStore(SqliteStore):
    """A store with a bug in its lookup of earlier submissions (a fault outside any step)."""

    async def find_original(self, envelope_sha256: bytes) -> None:  # type: ignore[override]
        raise RuntimeError("a fault inside the node")


@pytest.fixture
async def wire(tmp_path: Path) -> AsyncIterator[Wire]:
    """The live node every Submit scenario talks to."""
    fed = Federation.create(NOW)
    revoked, expired = generate_key(), generate_key()
    trust = (
        fed.trust.with_node_key("sc.amr", key_record(revoked.public_key))
        .with_key_revoked(revoked.key_id)
        .with_node_key("sc.amr", key_record(expired.public_key, valid_to=NOW - timedelta(days=1)))
        .with_acl(AclEntry("sc.amr", ("sc.hub",), ("SC-99",)))
        .with_policies(max_envelope_bytes=MAX_ENVELOPE, replay_ttl_seconds=86_400)
    )
    fed.resign(trust)
    store = SqliteStore(tmp_path / "hub.db")
    await store.open()
    hub = Hub(
        node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store,
        validate=_validate_with_a_fault, clock=lambda: NOW,
    )  # fmt: skip
    await hub.start()
    ca = create_ca("jgx test CA", datetime.now(UTC))
    hub_cert, hub_key = issue_node_certificate(*ca, "sc.hub", now=datetime.now(UTC))
    server = Server(hub, peer_node=tls.peer_node_id)
    port = server.add_port("127.0.0.1:0", tls.server_credentials(hub_cert, hub_key, ca[0]))
    await server.start()
    yield Wire(fed, hub, port, ca, revoked, expired, tmp_path)
    await server.stop(grace=1)
    await store.close()


Scenario = Callable[[Wire], Awaitable[Observed]]
SCENARIOS: dict[tuple[str, str, int | None], Scenario] = {}


def scenario(code: ReasonCode, answer: Answer, step: int | None) -> Callable[[Scenario], Scenario]:
    """Register the scenario that provokes ``code`` answered with ``answer`` at ``step``."""

    def register(fn: Scenario) -> Scenario:
        SCENARIOS[(code.value, answer.value, step)] = fn
        return fn

    return register


async def _message(w: Wire, sender: str = "sc.amr", *, key: object = None, **fields: object) -> Observed:
    body = w.fed.message(sender, fields.pop("recipient", "sc.hub"), **fields)  # type: ignore[arg-type]
    return await w.submit(w.fed.envelope(body, key=key), body=body)  # type: ignore[arg-type]


def _reseal(w: Wire, change: Callable[[exchange_pb2.Envelope], None]) -> bytes:
    envelope = exchange_pb2.Envelope.FromString(w.fed.envelope(w.fed.message("sc.amr", "sc.hub")))
    change(envelope)
    return envelope.SerializeToString()


@scenario(ReasonCode.MALFORMED, Answer.STATUS, 2)
async def _not_an_envelope(w: Wire) -> Observed:
    return await w.submit(b"\xff\x00garbage\x01")


@scenario(ReasonCode.MALFORMED, Answer.RECEIPT, 5)
async def _bad_header(w: Wire) -> Observed:
    return await _message(w, batch_id="2026")


@scenario(ReasonCode.MALFORMED, Answer.RECEIPT, 6)
async def _lifetime_beyond_the_replay_window(w: Wire) -> Observed:
    return await _message(w, lifetime=timedelta(days=2))


@scenario(ReasonCode.MALFORMED, Answer.RECEIPT, 8)
async def _duplicate_key_in_payload(w: Wire) -> Observed:
    return await _message(w, payload=b'{"punishDocumentCode": "a", "punishDocumentCode": "b"}')


@scenario(ReasonCode.TOO_LARGE, Answer.STATUS, 2)
async def _over_the_policy_limit(w: Wire) -> Observed:
    return await _message(w, payload=b'{"x": "' + b"a" * (2 * MAX_ENVELOPE) + b'"}')


@scenario(ReasonCode.PAYLOAD_TYPE_UNKNOWN, Answer.RECEIPT, 3)
async def _receipt_type(w: Wire) -> Observed:
    body = w.fed.message("sc.amr", "sc.hub").SerializeToString()
    return await w.submit(seal(body, RECEIPT_TYPE, [w.fed.keys["sc.amr"]]).SerializeToString())


@scenario(ReasonCode.SIGNATURE_MISSING, Answer.RECEIPT, 3)
async def _unsigned(w: Wire) -> Observed:
    return await w.submit(_reseal(w, lambda e: e.ClearField("signatures")))


@scenario(ReasonCode.SIGNATURE_INVALID, Answer.RECEIPT, 4)
async def _tampered(w: Wire) -> Observed:
    def flip(e: exchange_pb2.Envelope) -> None:
        e.body = e.body[:-1] + bytes([e.body[-1] ^ 1])

    return await w.submit(_reseal(w, flip))


@scenario(ReasonCode.ALGORITHM_MISMATCH, Answer.RECEIPT, 4)
async def _der_signature_for_an_ed25519_key(w: Wire) -> Observed:
    def der(e: exchange_pb2.Envelope) -> None:
        e.signatures[0].sig = bytes.fromhex("3006020101020101")  # an ECDSA-shaped (r, s) = (1, 1)

    return await w.submit(_reseal(w, der))


@scenario(ReasonCode.KEY_UNKNOWN, Answer.RECEIPT, 3)
async def _unregistered_key(w: Wire) -> Observed:
    return await _message(w, key=generate_key())


@scenario(ReasonCode.KEY_REVOKED, Answer.RECEIPT, 3)
async def _revoked_key(w: Wire) -> Observed:
    return await _message(w, key=w.revoked)


@scenario(ReasonCode.KEY_NOT_VALID, Answer.RECEIPT, 3)
async def _expired_key(w: Wire) -> Observed:
    return await _message(w, key=w.expired)


@scenario(ReasonCode.SENDER_KEY_MISMATCH, Answer.RECEIPT, 5)
async def _signed_by_another_node(w: Wire) -> Observed:
    return await _message(w, key=w.fed.keys["sc.sjs"])


@scenario(ReasonCode.SENDER_UNKNOWN, Answer.RECEIPT, 5)
async def _sender_is_no_node(w: Wire) -> Observed:
    body = w.fed.message("ghost.node", "sc.hub")
    return await w.submit(w.fed.envelope(body, key=w.fed.keys["sc.amr"]), body=body)


@scenario(ReasonCode.IDENTITY_MISMATCH, Answer.STATUS, 1)
async def _certificate_of_no_node(w: Wire) -> Observed:
    return await w.submit(w.fed.envelope(w.fed.message("sc.amr", "sc.hub")), via="zz.stranger")


@scenario(ReasonCode.IDENTITY_MISMATCH, Answer.RECEIPT, 5)
async def _another_nodes_envelope(w: Wire) -> Observed:
    body = w.fed.message("sc.sjs", "sc.hub", standard="SC-09")
    return await w.submit(w.fed.envelope(body), body=body, via="sc.amr")


@scenario(ReasonCode.EXPIRED, Answer.RECEIPT, 6)
async def _expired(w: Wire) -> Observed:
    return await _message(w, issued_at=NOW - timedelta(hours=2))


@scenario(ReasonCode.NOT_YET_VALID, Answer.RECEIPT, 6)
async def _from_the_future(w: Wire) -> Observed:
    return await _message(w, issued_at=NOW + timedelta(hours=1))


@scenario(ReasonCode.REPLAYED, Answer.RECEIPT, 6)
async def _same_id_other_bytes(w: Wire) -> Observed:
    first = await _message(w, message_id="once")
    assert exchange_pb2.OUTCOME_ACCEPTED == first.receipt.outcome  # type: ignore[union-attr]
    return await _message(w, message_id="once", business_key="another")


@scenario(ReasonCode.NOT_ADDRESSED_TO_US, Answer.RECEIPT, 6)
async def _misaddressed(w: Wire) -> Observed:
    return await _message(w, recipient="nobody.here")


@scenario(ReasonCode.ACL_DENIED, Answer.RECEIPT, 7)
async def _not_allowed(w: Wire) -> Observed:
    return await _message(w, standard="SC-09", payload={"x": 1})


@scenario(ReasonCode.STANDARD_UNKNOWN, Answer.RECEIPT, 8)
async def _no_such_standard(w: Wire) -> Observed:
    return await _message(w, standard="SC-99", payload={"x": 1})


@scenario(ReasonCode.VERSION_NOT_IN_FORCE, Answer.RECEIPT, 8)
async def _before_the_version_came_into_force(w: Wire) -> Observed:
    # Every 1.0.0 is in force from 2024-01-01: a node whose clock reads 2023 judges a message of then.
    before = datetime(2023, 6, 1, tzinfo=UTC)
    store = SqliteStore(w.tmp / "2023.db")
    await store.open()
    hub = Hub(
        node_id="sc.hub", key=w.fed.keys["sc.hub"], trust=w.fed.trust, store=store,
        validate=standards_validator, clock=lambda: before,
    )  # fmt: skip
    await hub.start()
    server, port = await serve(hub)
    body = w.fed.message("sc.amr", "sc.hub", issued_at=before)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            observed = await submit_on(channel, w.fed.envelope(body), w.fed, body)
        leaf = await store.message(observed.receipt.log_index)  # type: ignore[union-attr]
        observed.leaf_sha256 = leaf.envelope_sha256 if leaf is not None else None
    finally:
        await server.stop(grace=1)
        await store.close()
    return observed


@scenario(ReasonCode.SCHEMA_INVALID, Answer.RECEIPT, 8)
async def _empty_record(w: Wire) -> Observed:
    return await _message(w, payload={})


@scenario(ReasonCode.RULE_VIOLATION, Answer.RECEIPT, 8)
async def _rule_fixture(w: Wire) -> Observed:
    [fixture] = DATA.glob("SC-06/1.0.0/fixtures/bad/SC-06.R001-*.json")
    return await _message(w, payload=fixture.read_bytes())


@scenario(ReasonCode.RATE_LIMITED, Answer.STATUS, 1)
async def _over_the_rate(w: Wire) -> Observed:
    server, port = await serve(w.hub, rate_limit=RateLimiter(0.001, 1))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await submit_on(channel, w.fed.envelope(w.fed.message("sc.amr", "sc.hub")), w.fed)
            return await submit_on(channel, w.fed.envelope(w.fed.message("sc.amr", "sc.hub")), w.fed)
    finally:
        await server.grpc.stop(0)  # the hub is the fixture's, stopped with it


@scenario(ReasonCode.UNAVAILABLE, Answer.STATUS, 9)
async def _database_gone(w: Wire) -> Observed:
    store = SqliteStore(w.tmp / "other.db")
    await store.open()
    hub = Hub(node_id="sc.hub", key=w.fed.keys["sc.hub"], trust=w.fed.trust, store=store, clock=lambda: NOW)
    await hub.start()
    server, port = await serve(hub)
    await store.close()  # the database goes away under a running node
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            return await submit_on(channel, w.fed.envelope(w.fed.message("sc.amr", "sc.hub")), w.fed)
    finally:
        await server.grpc.stop(0)


@scenario(ReasonCode.INTERNAL, Answer.STATUS, None)
async def _fault_inside_the_node(w: Wire) -> Observed:
    store = _FaultyStore(w.tmp / "faulty.db")
    await store.open()
    hub = Hub(node_id="sc.hub", key=w.fed.keys["sc.hub"], trust=w.fed.trust, store=store, clock=lambda: NOW)
    await hub.start()
    server, port = await serve(hub)
    try:  # a refused message makes the hub look for an earlier copy: the faulty lookup raises
        data = w.fed.envelope(w.fed.message("sc.amr", "cq.hub"))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            return await submit_on(channel, data, w.fed)
    finally:
        await server.grpc.stop(0)
        await hub.close()
        await store.close()


@scenario(ReasonCode.INTERNAL, Answer.RECEIPT, 8)
async def _validator_fault(w: Wire) -> Observed:
    return await _message(w, payload=BUG)


@scenario(ReasonCode.INTERNAL, Answer.RECEIPT, 9)
async def _verdict_that_cannot_be_kept(w: Wire) -> Observed:
    return await _message(w, payload=UNKEEPABLE)


async def _trust_refusal(signed: bytes, **options: object) -> Observed:
    try:
        load_trust(signed, **options)  # type: ignore[arg-type]
    except JgxError as exc:
        return Observed("trust", exc.reason.value)
    return Observed("trust", "accepted")


@scenario(ReasonCode.TRUST_INVALID, Answer.TRUST, None)
async def _wrong_payload_type(w: Wire) -> Observed:
    return await _trust_refusal(w.fed.signed_trust.replace(b"vnd.jgx.trust.v1", b"vnd.jgx.trust.v9"), now=NOW)


@scenario(ReasonCode.TRUST_THRESHOLD_NOT_MET, Answer.TRUST, None)
async def _signed_by_a_stranger(w: Wire) -> Observed:
    return await _trust_refusal(sign_trust(w.fed.trust, [generate_key()]), now=NOW)


@scenario(ReasonCode.TRUST_ROLLBACK, Answer.TRUST, None)
async def _older_version(w: Wire) -> Observed:
    newer = w.fed.trust.bump(issued_at=NOW, expires_at=NOW + timedelta(days=30))
    return await _trust_refusal(w.fed.signed_trust, now=NOW, previous=newer)


@scenario(ReasonCode.TRUST_EXPIRED, Answer.TRUST, None)
async def _expired_trust(w: Wire) -> Observed:
    return await _trust_refusal(w.fed.signed_trust, now=NOW + timedelta(days=400))


@scenario(ReasonCode.TRUST_EXPIRED, Answer.STATUS, None)
async def _trust_expired_while_running(w: Wire) -> Observed:
    store = SqliteStore(w.tmp / "expired.db")
    await store.open()
    late = w.fed.trust.expires_at + timedelta(seconds=1)
    hub = Hub(node_id="sc.hub", key=w.fed.keys["sc.hub"], trust=w.fed.trust, store=store, clock=lambda: late)
    await hub.start()
    server, port = await serve(hub)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            return await submit_on(channel, w.fed.envelope(w.fed.message("sc.amr", "sc.hub")), w.fed)
    finally:
        await server.stop(0)
        await store.close()


@scenario(ReasonCode.RECEIPT_INVALID, Answer.SENDER, None)
async def _receipt_for_another_envelope(w: Wire) -> Observed:
    call_data = w.fed.envelope(w.fed.message("sc.amr", "sc.hub"))
    async with w.channel("sc.amr") as channel:
        call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
        response = await call(call_data)
    try:  # the sender checks the receipt against what it sent: here, against other bytes
        verify_receipt(response.receipt, w.fed.trust, issuer="sc.hub", now=NOW, envelope_sha256=bytes(32))
    except JgxError as exc:
        return Observed("sender", exc.reason.value)
    return Observed("sender", "accepted")


def test_every_row_of_the_table_has_a_scenario() -> None:
    """The scenarios are exactly the (code, answer, step) rows docs/wire.md §6 names, for every code."""
    assert {code.value for code in ReasonCode} == set(SPEC)
    assert set(ROWS) == set(SCENARIOS)


@pytest.mark.parametrize(("code", "answer", "step"), ROWS)
async def test_each_reason_code_arises_as_the_spec_says(
    wire: Wire, code: str, answer: str, step: int | None
) -> None:
    """A live node answers each row's scenario with that code, status, step and receipt fields."""
    observed = await SCENARIOS[(code, answer, step)](wire)
    assert (code, answer, step) == (observed.code, observed.answer, observed.step)
    if answer == "status":
        assert (SPEC[code][0], ERROR_DOMAIN) == (observed.status, observed.domain)
    if answer == "receipt":
        receipt, body = observed.receipt, observed.body
        assert receipt is not None
        assert step is not None
        named = names_message(ReasonCode(code), step)
        expected = (body.message_id, body.sender, body.recipient) if named and body else ("", "", "")
        assert (exchange_pb2.OUTCOME_REJECTED, [code]) == (receipt.outcome, list(receipt.reason_codes))
        assert expected == (receipt.message_id, receipt.sender, receipt.recipient)
        assert carries_findings(ReasonCode(code), step) == bool(receipt.findings)
        if observed.leaf_sha256 is None:
            leaf = await wire.hub.store.message(receipt.log_index)
            observed.leaf_sha256 = leaf.envelope_sha256 if leaf is not None else None
        assert receipt.envelope_sha256 == observed.leaf_sha256
