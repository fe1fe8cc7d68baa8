"""The gateway end to end against raw gRPC echo, in one run (issue 4 item 10).

    .venv/bin/python bench/gateway.py            # about a minute on 2 cores

This process serves two things on 127.0.0.1: a raw grpc.aio echo service (unary and duplex stream,
bytes in, the same bytes out) and a jgx hub (`gateway.server.Server`: signature verification, SC-06
validation, the durable SQLite log with synchronous=FULL, signed receipts). A client in a separate
process sends messages of the same size (one signed SC-06 envelope) to each and reports:

- unary throughput: ``concurrency`` calls in flight on one channel;
- stream throughput: one duplex stream carrying every message;
- unary latency p50/p99 at a steady 200 requests a second (open loop: each call starts on schedule).

It prints a table with the ratios jgx / raw and the goals: stream ≥ 50 %, unary ≥ 40 %, p99 ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ECHO_UNARY = "/bench.Echo/Unary"
ECHO_STREAM = "/bench.Echo/Stream"
SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
SUBMIT_STREAM = "/jgx.exchange.v1.Exchange/SubmitStream"
FIXTURE = ROOT / "standards" / "data" / "SC-06" / "1.0.0" / "fixtures" / "good" / "default.json"

UNARY_CALLS = 6000
STREAM_MESSAGES = 12000
PACED_SECONDS = 10
RATE = 200
CONCURRENCY = 32
WARMUP = 200


# -- files of length-prefixed messages (written by the server side, read by the client) ---------------
def write_messages(path: Path, messages: list[bytes]) -> None:
    """Write ``messages`` length-prefixed."""
    with path.open("wb") as out:
        for message in messages:
            out.write(struct.pack(">I", len(message)))
            out.write(message)


def read_messages(path: Path) -> list[bytes]:
    """Read a file written by `write_messages`."""
    data, messages, at = path.read_bytes(), [], 0
    while at < len(data):
        (size,) = struct.unpack_from(">I", data, at)
        messages.append(data[at + 4 : at + 4 + size])
        at += 4 + size
    return messages


# -- client side (a separate process) ------------------------------------------------------------------
def _channel(port: int) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 8 << 20)]
    )


async def client_unary(port: int, method: str, messages: list[bytes], concurrency: int) -> dict[str, float]:
    """``concurrency`` workers calling ``method`` until every message is sent; calls per second."""
    async with _channel(port) as channel:
        call = channel.unary_unary(method)
        for message in messages[:WARMUP]:
            await call(message)
        todo = iter(messages[WARMUP:])

        async def worker() -> int:
            sent = 0
            for message in todo:
                await call(message)
                sent += 1
            return sent

        started = time.perf_counter()
        sent = sum(await asyncio.gather(*(worker() for _ in range(concurrency))))
        seconds = time.perf_counter() - started
    return {"count": sent, "seconds": seconds, "per_second": sent / seconds}


async def client_stream(port: int, method: str, messages: list[bytes]) -> dict[str, float]:
    """One duplex stream carrying every message; answers per second."""
    async with _channel(port) as channel:
        warm = channel.stream_stream(method)(iter(messages[:WARMUP]))
        async for _ in warm:
            pass
        body = messages[WARMUP:]
        started = time.perf_counter()
        answers = 0
        async for _ in channel.stream_stream(method)(iter(body)):
            answers += 1
        seconds = time.perf_counter() - started
    if answers != len(body):
        raise RuntimeError(f"{answers} answers for {len(body)} messages")
    return {"count": answers, "seconds": seconds, "per_second": answers / seconds}


async def client_paced(port: int, method: str, messages: list[bytes], rate: float) -> dict[str, float]:
    """Unary calls started on a fixed schedule of ``rate`` a second; latency percentiles in ms."""
    latencies: list[float] = []
    async with _channel(port) as channel:
        call = channel.unary_unary(method)
        for message in messages[:WARMUP]:
            await call(message)

        async def one(message: bytes) -> None:
            started = time.perf_counter()
            await call(message)
            latencies.append((time.perf_counter() - started) * 1000)

        tasks = []
        start = time.perf_counter()
        for n, message in enumerate(messages[WARMUP:]):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(message)))
        await asyncio.gather(*tasks)
    quantiles = statistics.quantiles(latencies, n=100)
    return {"count": len(latencies), "p50": quantiles[49], "p99": quantiles[98], "max": max(latencies)}


def run_client(args: argparse.Namespace) -> None:
    """The client process: one measurement, printed as JSON."""
    messages = read_messages(Path(args.messages))
    unary, stream = (ECHO_UNARY, ECHO_STREAM) if args.target == "raw" else (SUBMIT, SUBMIT_STREAM)
    if args.client == "unary":
        result = client_unary(args.port, unary, messages, args.concurrency)
    elif args.client == "stream":
        result = client_stream(args.port, stream, messages)
    else:
        result = client_paced(args.port, unary, messages, args.rate)
    print(json.dumps(asyncio.run(result)))


# -- server side (this process) ------------------------------------------------------------------------
async def _echo(request: bytes, _context: object) -> bytes:
    return request


async def _echo_stream(requests: AsyncIterator[bytes], _context: object) -> AsyncIterator[bytes]:
    async for request in requests:
        yield request


async def start_echo() -> tuple[grpc.aio.Server, int]:
    """The raw echo service: bytes in, the same bytes out, no serialization either way."""
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "bench.Echo",
                {
                    "Unary": grpc.unary_unary_rpc_method_handler(_echo),
                    "Stream": grpc.stream_stream_rpc_method_handler(_echo_stream),
                },
            )
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


def envelopes(count: int, prefix: str) -> tuple[list[bytes], object]:
    """``count`` signed SC-06 envelopes from sc.amr to sc.hub, and the federation that signed them."""
    from gateway.testing import Federation

    fed = Federation.create(datetime.now(UTC))
    payload = FIXTURE.read_bytes()
    made = [
        fed.envelope(fed.message("sc.amr", "sc.hub", standard="SC-06", version="1.0.0", payload=payload,
                                 message_id=f"{prefix}-{n:08d}"))
        for n in range(count)
    ]  # fmt: skip
    return made, fed


async def start_hub(directory: Path, fed: object) -> tuple[object, object, int]:
    """A jgx hub with validation on a durable SQLite log, served on an ephemeral port."""
    from gateway.hub import Hub
    from gateway.server import Server
    from gateway.storage.sqlite import SqliteStore
    from gateway.testing import Federation
    from gateway.validation import standards_validator

    assert isinstance(fed, Federation)
    store = SqliteStore(directory / "hub.db", durable=True)
    await store.open()
    hub = Hub(
        node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, validate=standards_validator
    )
    await hub.start()
    server = Server(hub)
    port = server.add_port("127.0.0.1:0")
    await server.start()
    return server, store, port


async def measure(kind: str, target: str, port: int, messages: Path, **extra: float) -> dict[str, float]:
    """Run one client process and return what it measured."""
    command = [sys.executable, __file__, "--client", kind, "--target", target, "--port", str(port),
               "--messages", str(messages)]  # fmt: skip
    for key, value in extra.items():
        command += [f"--{key}", str(value)]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"client {kind}/{target} failed: {err.decode()[-2000:]}")
    result: dict[str, float] = json.loads(out)
    return result


async def run_bench() -> None:
    """Serve, measure each phase with a client process, print the table."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # warnings off: errors only
    total = UNARY_CALLS + STREAM_MESSAGES + PACED_SECONDS * RATE + 3 * WARMUP
    made, fed = envelopes(total, "bench")
    size = len(made[0])
    with tempfile.TemporaryDirectory(prefix="jgx-bench-") as tmp:
        directory = Path(tmp)
        files = {}
        cuts = {"unary": UNARY_CALLS + WARMUP, "stream": STREAM_MESSAGES + WARMUP,
                "paced": PACED_SECONDS * RATE + WARMUP}  # fmt: skip
        at = 0
        for name, count in cuts.items():
            write_messages(directory / f"jgx-{name}.bin", made[at : at + count])
            write_messages(directory / f"raw-{name}.bin", [made[0]] * count)  # the same size, echoed
            files[name] = count
            at += count
        echo, echo_port = await start_echo()
        hub_server, store, hub_port = await start_hub(directory, fed)
        results: dict[str, dict[str, float]] = {}
        try:
            for target, port in (("raw", echo_port), ("jgx", hub_port)):
                results[f"{target}-unary"] = await measure(
                    "unary", target, port, directory / f"{target}-unary.bin", concurrency=CONCURRENCY
                )
                results[f"{target}-stream"] = await measure("stream", target, port, directory / f"{target}-stream.bin")
                results[f"{target}-paced"] = await measure(
                    "paced", target, port, directory / f"{target}-paced.bin", rate=RATE
                )
            logged = await store.size()  # type: ignore[attr-defined]
        finally:
            await hub_server.stop(1)  # type: ignore[attr-defined]
            await store.close()  # type: ignore[attr-defined]
            await echo.stop(0)
    report(results, size, logged)


def report(results: dict[str, dict[str, float]], size: int, logged: int) -> None:
    """Print the table of throughputs, latencies, ratios and goals."""
    ru, ju = results["raw-unary"]["per_second"], results["jgx-unary"]["per_second"]
    rs, js = results["raw-stream"]["per_second"], results["jgx-stream"]["per_second"]
    rp, jp = results["raw-paced"], results["jgx-paced"]
    print(f"message size {size} bytes; unary concurrency {CONCURRENCY}; {logged} leaves logged (SQLite, FULL)")
    print()
    print("| measure | raw gRPC echo | jgx (verify, validate, log, receipt) | jgx / raw | goal | met |")
    print("|---|---:|---:|---:|---|---|")
    print(f"| unary calls/s | {ru:,.0f} | {ju:,.0f} | {ju / ru:.0%} | ≥ 40 % | {_yes(ju / ru >= 0.40)} |")
    print(f"| stream messages/s | {rs:,.0f} | {js:,.0f} | {js / rs:.0%} | ≥ 50 % | {_yes(js / rs >= 0.50)} |")
    print(f"| unary p50 at {RATE} req/s (ms) | {rp['p50']:.2f} | {jp['p50']:.2f} | | | |")
    print(f"| unary p99 at {RATE} req/s (ms) | {rp['p99']:.2f} | {jp['p99']:.2f} | | ≤ 5 ms | {_yes(jp['p99'] <= 5)} |")


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def main() -> None:
    """Run the benchmark, or one client measurement when called with --client."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--client", choices=("unary", "stream", "paced"))
    parser.add_argument("--target", choices=("raw", "jgx"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--messages")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--rate", type=float, default=RATE)
    args = parser.parse_args()
    if args.client:
        run_client(args)
    else:
        asyncio.run(run_bench())


if __name__ == "__main__":
    main()
