"""Exchange throughput over real gRPC on 127.0.0.1 with the SQLite log: Submit and SubmitStream.

Prints a table: envelopes per second and latency for sequential and concurrent unary Submit and for
SubmitStream, with the durable store (synchronous=FULL, group commit) and with synchronous=NORMAL; then
the cost of one signed receipt against the whole per-envelope cost (why receipts are signed per message).
Envelopes are signed before timing starts; step 8 (standards validation) is not bound here.

    .venv/bin/python bench/bench_exchange.py [N]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import grpc
import structlog

from gateway.hub import Hub
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import issue_receipt
from gateway.server import Server
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
SUBMIT_STREAM = "/jgx.exchange.v1.Exchange/SubmitStream"


async def _node(fed: Federation, path: Path, durable: bool) -> tuple[Server, int]:
    store = SqliteStore(path, durable=durable)
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, checkpoint_every=10_000)
    await hub.start()
    server = Server(hub, max_in_flight=128)
    port = server.add_port("127.0.0.1:0")
    await server.start()
    return server, port


async def _sequential(channel: grpc.aio.Channel, envelopes: list[bytes]) -> list[float]:
    call = channel.unary_unary(SUBMIT, request_serializer=None, response_deserializer=None)
    latencies = []
    for data in envelopes:
        started = time.perf_counter()
        await call(data)
        latencies.append(time.perf_counter() - started)
    return latencies


async def _concurrent(channel: grpc.aio.Channel, envelopes: list[bytes], clients: int = 32) -> list[float]:
    call = channel.unary_unary(SUBMIT, request_serializer=None, response_deserializer=None)
    latencies: list[float] = []
    queue = list(reversed(envelopes))

    async def worker() -> None:
        while queue:
            data = queue.pop()
            started = time.perf_counter()
            await call(data)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


async def _stream(channel: grpc.aio.Channel, envelopes: list[bytes]) -> list[float]:
    call = channel.stream_stream(SUBMIT_STREAM, request_serializer=None, response_deserializer=None)
    count = 0
    async for _ in call(iter(envelopes)):
        count += 1
    assert count == len(envelopes)
    return []


async def _run(
    label: str, durable: bool, n: int, mode: Callable[[grpc.aio.Channel, list[bytes]], Awaitable[list[float]]]
) -> tuple[str, str, float, str, str]:
    fed = Federation.create(datetime.now(UTC))
    envelopes = [fed.envelope(fed.message("sc.amr", "cn.national", message_id=f"b-{k}")) for k in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        server, port = await _node(fed, Path(tmp) / "jgx.db", durable)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            started = time.perf_counter()
            latencies = await mode(channel, envelopes)
            elapsed = time.perf_counter() - started
        await server.stop(grace=5)
        await server.hub.store.close()
    rate = n / elapsed
    if latencies:
        latencies.sort()
        p50 = f"{statistics.median(latencies) * 1000:.2f}"
        p99 = f"{latencies[int(len(latencies) * 0.99) - 1] * 1000:.2f}"
    else:
        p50 = p99 = "–"
    return label, "FULL" if durable else "NORMAL", rate, p50, p99


def _receipt_cost(samples: int = 5000) -> float:
    fed = Federation.create(datetime.now(UTC))
    key, now = fed.keys["sc.hub"], datetime.now(UTC)
    started = time.perf_counter()
    for index in range(samples):
        issue_receipt(
            issuer="sc.hub",
            key=key,
            envelope_sha256=b"\x00" * 32,
            message_id=f"m-{index}",
            sender="sc.amr",
            recipient="cn.national",
            outcome=exchange_pb2.OUTCOME_ACCEPTED,
            reason_codes=(),
            findings=(),
            log_index=index,
            now=now,
        ).SerializeToString()
    return (time.perf_counter() - started) / samples


async def main(n: int) -> None:
    """Run every case and print the tables (the per-envelope log events are rendered as JSON, unprinted)."""
    structlog.configure(
        processors=[structlog.processors.TimeStamper(fmt="iso"), structlog.processors.JSONRenderer()],
        logger_factory=structlog.WriteLoggerFactory(open(os.devnull, "w")),  # noqa: SIM115
    )
    rows = [
        await _run("Submit, 1 client, sequential", True, n // 4, _sequential),
        await _run("Submit, 32 concurrent calls", True, n, _concurrent),
        await _run("SubmitStream, 1 stream", True, n, _stream),
        await _run("Submit, 32 concurrent calls", False, n, _concurrent),
        await _run("SubmitStream, 1 stream", False, n, _stream),
    ]
    print(f"| case | synchronous | envelopes/s | p50 ms | p99 ms |  (N = {n})")
    print("|---|---|---:|---:|---:|")
    for label, sync, rate, p50, p99 in rows:
        print(f"| {label} | {sync} | {rate:,.0f} | {p50} | {p99} |")
    per_receipt = _receipt_cost()
    best = max(row[2] for row in rows)
    print()
    print("| signed receipt (Ed25519, per message) | µs | share of the per-envelope cost at the best rate |")
    print("|---|---:|---:|")
    print(f"| issue_receipt + serialize | {per_receipt * 1e6:.1f} | {per_receipt * best * 100:.1f} % |")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
