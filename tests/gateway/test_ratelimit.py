"""The per-sender rate limit: token buckets as a pure table, then a flood over real gRPC sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status
from structlog.testing import capture_logs

from gateway.hub import Hub
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.ratelimit import RateLimiter
from gateway.server import Server
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
SUBMIT_STREAM = "/jgx.exchange.v1.Exchange/SubmitStream"

BUCKET_CASES = [
    # (name, rate, burst, [(key, time)], expected allowed)
    ("a burst passes, then the bucket is empty", 1.0, 3, [("a", 0.0)] * 4, [True, True, True, False]),
    ("tokens come back with time", 2.0, 1, [("a", 0.0), ("a", 0.1), ("a", 0.5)], [True, False, True]),
    ("refill never exceeds the burst", 10.0, 2, [("a", 0.0), ("a", 100.0), ("a", 100.0), ("a", 100.0)],
     [True, True, True, False]),
    ("senders have their own buckets", 1.0, 1, [("a", 0.0), ("a", 0.0), ("b", 0.0)], [True, False, True]),
    ("a backwards clock adds nothing", 1.0, 1, [("a", 5.0), ("a", 1.0), ("a", 5.5)], [True, False, False]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "rate", "burst", "calls", "expected"), BUCKET_CASES)
def test_token_buckets(
    name: str, rate: float, burst: int, calls: list[tuple[str, float]], expected: list[bool]
) -> None:
    """Each key may send ``burst`` at once and ``rate`` per second after that."""
    limiter = RateLimiter(rate, burst)
    assert expected == [limiter.allow(key, now) for key, now in calls]


def test_the_bucket_table_stays_bounded() -> None:
    """With max_keys buckets kept, a new sender evicts an idle one and is still limited correctly."""
    limiter = RateLimiter(1.0, 1, max_keys=2)
    assert [True, True, True] == [limiter.allow(k, 0.0) for k in ("a", "b", "c")]
    assert 2 >= len(limiter._buckets)


@pytest.fixture(params=[0.001])
async def limited(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Federation, int]]:
    """A hub allowing each peer 2 envelopes at once and ``request.param`` a second after that."""
    fed = Federation.create(NOW)
    store = SqliteStore(tmp_path / "hub.db")
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: NOW)
    await hub.start()
    server = Server(hub, rate_limit=RateLimiter(rate=request.param, burst=2))
    port = server.add_port("127.0.0.1:0")
    await server.start()
    yield fed, port
    await server.stop(grace=1)
    await store.close()


def _own_connection(port: int) -> grpc.aio.Channel:
    # A private subchannel pool gives each client its own TCP connection (its own peer address).
    return grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])


async def _collect(call: AsyncIterator[bytes], into: list[bytes]) -> None:
    async for answer in call:
        into.append(answer)


def _reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    info = error_details_pb2.ErrorInfo()
    assert status is not None
    status.details[0].Unpack(info)
    return str(info.reason)


async def test_a_flooding_sender_is_refused_while_others_get_through(limited: tuple[Federation, int]) -> None:
    """Past its burst a sender gets RESOURCE_EXHAUSTED / RATE_LIMITED (logged); another sender is served."""
    fed, port = limited
    async with _own_connection(port) as flood, _own_connection(port) as other:
        submit = flood.unary_unary(SUBMIT)
        for n in range(2):
            await submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"f-{n}")))
        with capture_logs() as logs, pytest.raises(grpc.aio.AioRpcError) as refused:
            await submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id="f-2")))
        answer = await other.unary_unary(SUBMIT)(
            fed.envelope(fed.message("sc.sjs", "sc.hub", standard="SC-09"))
        )
    [event] = [e for e in logs if e["event"] == "envelope"]
    receipt = exchange_pb2.Receipt.FromString(exchange_pb2.SubmitResponse.FromString(answer).receipt.body)
    assert (grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED") == (
        refused.value.code(),
        _reason(refused.value),
    )
    assert ("refused", ["RATE_LIMITED"]) == (event["outcome"], event["reasons"])
    assert exchange_pb2.OUTCOME_ACCEPTED == receipt.outcome


@pytest.mark.parametrize("limited", [50.0], indirect=True)  # 50/s: two envelopes over the burst wait 40 ms
async def test_a_stream_over_its_rate_is_paced_not_failed(limited: tuple[Federation, int]) -> None:
    """A SubmitStream past the burst is slowed (and logged) and still gets every receipt, in order."""
    fed, port = limited
    envelopes = [fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"s-{n}")) for n in range(4)]
    receipts: list[bytes] = []
    with capture_logs() as logs:
        async with _own_connection(port) as channel:
            await _collect(channel.stream_stream(SUBMIT_STREAM)(iter(envelopes)), receipts)
    ids = [
        exchange_pb2.Receipt.FromString(exchange_pb2.SubmitResponse.FromString(r).receipt.body).message_id
        for r in receipts
    ]
    assert ["s-0", "s-1", "s-2", "s-3"] == ids
    assert {"stream.rate_limited"} == {e["event"] for e in logs if e["event"].startswith("stream")}
