"""Delivery (step 12) over real gRPC sockets: two gateways, an adapter, real SQLite files and signatures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from structlog.testing import capture_logs

from adapters.sdk import (
    AdapterIdentity,
    AdapterServicer,
    AdapterStore,
    Handling,
    Record,
    StandardClaim,
    serve_adapter,
)
from gateway.delivery import (
    DELIVER,
    SUBMIT,
    DeliveryPolicy,
    DeliveryWorker,
    Route,
    backoff,
    route,
    start_delivery,
)
from gateway.errors import ReasonCode, TransportError
from gateway.hub import Hub
from gateway.logbook import parse_leaf
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import issue_receipt, verify_receipt
from gateway.server import ExchangeService
from gateway.storage import OutboxState
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class PeerExchange(ExchangeService):
    """A peer gateway's real Exchange service that can be told to stay silent or forge its receipts."""

    mode = "honest"

    async def submit(self, request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        if self.mode == "silent":
            await asyncio.Event().wait()
        answer = await super().submit(request, context)
        if self.mode == "forge":  # the same receipt, signed by a key that is not the peer's
            receipt = exchange_pb2.SubmitResponse.FromString(answer).receipt
            body = exchange_pb2.Receipt.FromString(receipt.body)
            forged = issue_receipt(
                issuer=body.issuer, key=FED.keys["sc.sjs"], envelope_sha256=body.envelope_sha256,
                message_id=body.message_id, sender=body.sender, recipient=body.recipient,
                outcome=body.outcome, reason_codes=(), findings=(), log_index=body.log_index, now=NOW,
            )  # fmt: skip
            return exchange_pb2.SubmitResponse(receipt=forged).SerializeToString()
        return answer


FED = Federation.create(NOW)


@dataclass
class Peer:
    """cn.national running as a jgx gateway on its own SQLite file."""

    hub: Hub
    service: PeerExchange
    server: grpc.aio.Server
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def message_ids(self) -> list[str]:
        size = await self.hub.store.size()
        return [parse_leaf(leaf.leaf).message_id for leaf in await self.hub.store.leaves(0, size)]

    async def stop(self) -> None:
        await self.server.stop(0)
        await self.hub.close()


async def start_peer(store: SqliteStore, clock: Clock, port: int = 0, node: str = "cn.national") -> Peer:
    """``node``'s gateway on ``store``, listening on ``port`` (0: any free port)."""
    hub = Hub(node_id=node, key=FED.keys[node], trust=FED.trust, store=store, clock=clock)
    await hub.start()
    service = PeerExchange(hub)
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([service.handler()])
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return Peer(hub, service, server, bound)


@dataclass
class Pair:
    """The hub sc.hub and the peer gateway cn.national, and the hub's delivery worker."""

    clock: Clock
    hub: Hub
    peer: Peer
    peer_store: SqliteStore
    worker: DeliveryWorker
    stores: list[SqliteStore] = field(default_factory=list)

    async def relay(
        self,
        sender: str = "sc.amr",
        message_id: str = "m-1",
        recipient: str = "cn.national",
        standard: str = "SC-03",
    ) -> None:
        """Submit a record of ``sender`` for ``recipient`` at the hub; it must be accepted."""
        message = FED.message(sender, recipient, message_id=message_id, standard=standard)
        handled = await self.hub.submit(FED.envelope(message))
        assert exchange_pb2.OUTCOME_ACCEPTED == handled.outcome, handled.reasons

    async def drain(self) -> None:
        """Run passes until nothing is due."""
        while await self.worker.run_once():
            pass


POLICY = DeliveryPolicy(max_attempts=3, backoff_base=1.0, backoff_cap=8.0, timeout=0.5)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    """A running hub and peer on their own SQLite files; the worker is driven pass by pass."""
    clock = Clock()
    hub_store, peer_store = SqliteStore(tmp_path / "hub.db"), SqliteStore(tmp_path / "national.db")
    await hub_store.open()
    await peer_store.open()
    hub = Hub(node_id="sc.hub", key=FED.keys["sc.hub"], trust=FED.trust, store=hub_store, clock=clock)
    await hub.start()
    peer = await start_peer(peer_store, clock)
    worker = DeliveryWorker(
        store=hub_store, trust=FED.trust, node_id="sc.hub", policy=POLICY,
        peers={"cn.national": peer.address}, clock=clock, rand=lambda: 0.5,
    )  # fmt: skip
    running = Pair(clock, hub, peer, peer_store, worker)
    yield running
    await worker.close()
    await running.peer.stop()
    await hub.close()
    await hub_store.close()
    await peer_store.close()


# -- pure parts ----------------------------------------------------------------------------------

BACKOFF_CASES = [
    # (attempt, base, cap, rand, expected seconds)
    ("first retry, full draw", 1, 1.0, 60.0, 0.999, 0.999),
    ("first retry, no wait", 1, 1.0, 60.0, 0.0, 0.0),
    ("doubles", 3, 1.0, 60.0, 0.5, 2.0),
    ("capped", 10, 1.0, 60.0, 0.5, 30.0),
    ("huge attempt stays capped", 10_000, 0.5, 600.0, 1.0, 600.0),
    ("attempt 0 is treated as the first", 0, 2.0, 60.0, 0.5, 1.0),
]


@pytest.mark.parametrize(("name", "attempt", "base", "cap", "rand", "expected"), BACKOFF_CASES)
def test_backoff_is_full_jitter_below_a_doubling_capped_ceiling(
    name: str, attempt: int, base: float, cap: float, rand: float, expected: float
) -> None:
    """The wait is rand × min(cap, base × 2^(attempt−1))."""
    assert expected == pytest.approx(backoff(attempt, base, cap, rand))


def test_routes_follow_the_trust_configuration_and_peers() -> None:
    """Departments behind the hub get Deliver; other nodes get Submit of their own gateway."""
    trust = Federation.create(
        NOW, endpoints={"sc.amr": "grpc://10.0.0.2:7001", "cq.hub": "10.0.0.9:7443"}
    ).trust
    peers = {"cn.national": "127.0.0.1:9000"}
    assert Route(DELIVER, "10.0.0.2:7001", "sc.amr") == route(trust, "sc.hub", "sc.amr", peers)
    assert Route(SUBMIT, "127.0.0.1:9000", "cn.national") == route(trust, "sc.hub", "cn.national", peers)
    assert Route(SUBMIT, "10.0.0.9:7443", "cq.hub") == route(trust, "sc.hub", "cq.hub", peers)
    # Seen from Chongqing, a Sichuan department is reached through Sichuan's hub.
    assert Route(SUBMIT, "10.0.0.1:1", "sc.hub") == route(trust, "cq.hub", "sc.amr", {"sc.hub": "10.0.0.1:1"})
    with pytest.raises(TransportError) as missing:
        route(trust, "sc.hub", "sc.12315", peers)
    assert ReasonCode.UNAVAILABLE == missing.value.reason


# -- two gateways --------------------------------------------------------------------------------


async def test_an_envelope_for_a_peer_gateway_is_delivered_and_its_receipt_logged(pair: Pair) -> None:
    """The peer logs the original bytes; its verified receipt becomes a delivery leaf settling the row."""
    await pair.relay()
    with capture_logs() as logs:
        assert 1 == await pair.worker.run_once()
    [row] = await pair.hub.store.outbox()
    leaf = parse_leaf((await pair.hub.store.leaves(1, 2))[0].leaf)
    record = await pair.hub.store.message(1)
    assert record is not None
    assert record.receipt is not None
    receipt = verify_receipt(
        exchange_pb2.Envelope.FromString(record.receipt), FED.trust, issuer="cn.national", now=NOW
    )
    submitted = await pair.hub.store.message(0)
    assert submitted is not None
    assert (OutboxState.DELIVERED, 1) == (row.state, row.delivery_index)
    assert ("delivery", "m-1", "cn.national") == (leaf.kind, leaf.message_id, leaf.recipient)
    assert (submitted.envelope_sha256, exchange_pb2.OUTCOME_ACCEPTED) == (
        receipt.envelope_sha256,
        receipt.outcome,
    )
    assert ["m-1"] == await pair.peer.message_ids()
    assert [("delivered", "m-1")] == [
        (e["result"], e["message_id"]) for e in logs if e["event"] == "delivery"
    ]


async def test_a_peer_that_is_down_is_retried_after_backoff_and_then_delivered(pair: Pair) -> None:
    """A refused connection is a failed attempt; after its backoff the row reaches the revived peer."""
    await pair.peer.stop()
    await pair.relay()
    assert 1 == await pair.worker.run_once()
    [row] = await pair.hub.store.outbox()
    assert (OutboxState.PENDING, 1, NOW + timedelta(seconds=0.5)) == (
        row.state,
        row.attempts,
        row.next_attempt_at,
    )
    assert row.last_error.startswith("UNAVAILABLE")
    assert 0 == await pair.worker.run_once()  # not due yet
    pair.peer = await start_peer(pair.peer_store, pair.clock, port=pair.peer.port)
    pair.clock.advance(1)
    assert 1 == await pair.worker.run_once()
    [row] = await pair.hub.store.outbox()
    assert (OutboxState.DELIVERED, 2) == (row.state, row.attempts)


async def test_a_peer_that_never_answers_is_dead_lettered_then_replayed(pair: Pair) -> None:
    """Timeouts count as attempts up to max_attempts; an operator's replay then delivers the row."""
    pair.peer.service.mode = "silent"
    await pair.relay()
    with capture_logs() as logs:
        for _ in range(POLICY.max_attempts):
            assert 1 == await pair.worker.run_once()
            pair.clock.advance(POLICY.backoff_cap)
    [dead] = await pair.hub.store.outbox(state=OutboxState.DEAD)
    results = [e["result"] for e in logs if e["event"] == "delivery"]
    assert ["retry", "retry", "dead"] == results
    assert "DEADLINE_EXCEEDED" in dead.last_error
    pair.peer.service.mode = "honest"
    await pair.hub.store.replay(dead.id, now=pair.clock(), actor="operator.li")
    await pair.drain()
    [row] = await pair.hub.store.outbox()
    assert OutboxState.DELIVERED == row.state
    assert ["m-1"] == await pair.peer.message_ids()


async def test_a_forged_receipt_is_refused_logged_and_retried(pair: Pair) -> None:
    """A receipt not signed by the peer is RECEIPT_INVALID, a failed attempt; the honest resend settles it."""
    pair.peer.service.mode = "forge"
    await pair.relay()
    with capture_logs() as logs:
        await pair.worker.run_once()
    [row] = await pair.hub.store.outbox()
    [event] = [e for e in logs if e["event"] == "delivery"]
    assert ("retry", "RECEIPT_INVALID") == (event["result"], event["reason"])
    assert (OutboxState.PENDING, 1) == (row.state, await pair.hub.store.size())
    pair.peer.service.mode = "honest"
    pair.clock.advance(POLICY.backoff_cap)
    await pair.drain()
    [row] = await pair.hub.store.outbox()
    # The peer logged the first copy and the resend (a duplicate answered with the original receipt).
    assert (OutboxState.DELIVERED, ["m-1", "m-1"]) == (row.state, await pair.peer.message_ids())


async def test_order_is_kept_per_channel_while_other_channels_move_on(pair: Pair) -> None:
    """While sc.amr's first row retries its later rows wait; sc.sjs's channel to the same peer moves on."""
    pair.peer.service.mode = "forge"
    await pair.relay(message_id="a-1")
    await pair.relay(message_id="a-2")
    await pair.relay(message_id="a-3")
    await pair.relay(sender="sc.sjs", message_id="s-1")
    assert 2 == await pair.worker.run_once()  # the head of each channel, nothing more
    pair.peer.service.mode = "honest"
    pair.clock.advance(POLICY.backoff_cap)
    await pair.drain()
    delivered = [m for m in await pair.peer.message_ids() if m.startswith("a-")]
    assert ["a-1", "a-1", "a-2", "a-3"] == delivered
    assert {OutboxState.DELIVERED} == {row.state for row in await pair.hub.store.outbox()}


# -- a department behind the hub -----------------------------------------------------------------


class Inbox:
    """A department that keeps what it is delivered."""

    def __init__(self) -> None:
        self.delivered: list[str] = []

    def claims(self) -> Sequence[StandardClaim]:
        return [StandardClaim("SC-12", "1.0.0")]

    def export(self, standard: str) -> Iterable[Record]:
        return []

    def handle_delivered(self, message: exchange_pb2.Message, *, now: datetime) -> Handling:
        self.delivered.append(message.message_id)
        return Handling()


async def test_a_department_behind_the_hub_gets_deliver_and_its_receipt_is_logged(
    pair: Pair, tmp_path: Path
) -> None:
    """A national clue for sc.amr goes to the amr adapter's Deliver; sc.amr's signed receipt is logged."""
    inbox = Inbox()
    servicer = AdapterServicer(
        identity=AdapterIdentity("sc.amr", FED.keys["sc.amr"]), trust=FED.trust, department=inbox,
        store=AdapterStore(tmp_path / "amr.sqlite"), clock=pair.clock,
    )  # fmt: skip
    async with serve_adapter(servicer) as adapter:
        pair.worker.peers["sc.amr"] = f"127.0.0.1:{adapter.port}"
        message = FED.message("cn.national", "sc.amr", message_id="clue-1", standard="SC-12")
        await pair.hub.submit(FED.envelope(message))
        await pair.drain()
    [row] = await pair.hub.store.outbox()
    record = await pair.hub.store.message(1)
    assert record is not None
    assert record.receipt is not None
    receipt = verify_receipt(
        exchange_pb2.Envelope.FromString(record.receipt), FED.trust, issuer="sc.amr", now=NOW
    )
    assert (OutboxState.DELIVERED, ["clue-1"]) == (row.state, inbox.delivered)
    assert ("clue-1", exchange_pb2.OUTCOME_ACCEPTED) == (receipt.message_id, receipt.outcome)


async def test_the_running_worker_delivers_what_the_hub_accepts(pair: Pair) -> None:
    """With start_delivery the hub's acceptance wakes the worker, which delivers without being driven."""
    worker = start_delivery(pair.hub, policy=POLICY, peers={"cn.national": pair.peer.address})
    try:
        await pair.relay()
        for _ in range(500):
            if [r.state for r in await pair.hub.store.outbox()] == [OutboxState.DELIVERED]:
                break
            await asyncio.sleep(0.01)
    finally:
        await worker.close()
    assert ["m-1"] == await pair.peer.message_ids()


async def test_a_silent_recipient_does_not_hold_up_another(pair: Pair, tmp_path: Path) -> None:
    """While a call to the silent national gateway hangs, the running worker delivers to Chongqing."""
    pair.peer.service.mode = "silent"
    store = SqliteStore(tmp_path / "chongqing.db")
    await store.open()
    chongqing = await start_peer(store, pair.clock, node="cq.hub")
    peers = {"cn.national": pair.peer.address, "cq.hub": chongqing.address}
    worker = start_delivery(pair.hub, policy=DeliveryPolicy(timeout=30.0), peers=peers)
    try:
        await pair.relay(message_id="to-national")
        for _ in range(500):  # the call to the national gateway is in flight (claimed, unanswered)
            if [1] == [row.attempts for row in await pair.hub.store.outbox()]:
                break
            await asyncio.sleep(0.01)
        await pair.relay(message_id="to-chongqing", recipient="cq.hub", standard="SC-13")
        for _ in range(500):
            states = {row.recipient: row.state for row in await pair.hub.store.outbox()}
            if states.get("cq.hub") == OutboxState.DELIVERED:
                break
            await asyncio.sleep(0.01)
    finally:
        await worker.close()
        await chongqing.stop()
        await store.close()
    assert {"cn.national": OutboxState.PENDING, "cq.hub": OutboxState.DELIVERED} == states


async def test_a_row_older_than_max_age_is_dead_at_its_next_failure(pair: Pair) -> None:
    """Past max_age a failed attempt dead-letters the row even with attempts to spare."""
    await pair.peer.stop()
    await pair.relay()
    pair.worker.policy = DeliveryPolicy(max_attempts=100, max_age=timedelta(minutes=1), timeout=0.5)
    pair.clock.advance(120)
    await pair.worker.run_once()
    [row] = await pair.hub.store.outbox()
    assert (OutboxState.DEAD, 1) == (row.state, row.attempts)


def test_the_policy_comes_from_the_delivery_table_of_jgx_toml(tmp_path: Path) -> None:
    """[delivery] max_attempts, max_age and the backoff bounds become the worker's policy."""
    from gateway.config import parse_config

    text = (
        'node_id = "sc.hub"\n[delivery]\nmax_attempts = 5\nmax_age_seconds = 3600\n'
        "backoff_base_seconds = 2\nbackoff_cap_seconds = 60\n"
    )
    policy = DeliveryPolicy.from_config(parse_config(text, directory=tmp_path).delivery, timeout=3.0)
    assert (5, timedelta(hours=1), 2.0, 60.0, 3.0) == (
        policy.max_attempts, policy.max_age, policy.backoff_base, policy.backoff_cap, policy.timeout
    )  # fmt: skip
