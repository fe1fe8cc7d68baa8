"""The gateway end to end against raw gRPC echo, in one run (issue 4 item 10).

    .venv/bin/python bench/bench_gateway.py            # about a minute on 2 cores
    .venv/bin/python bench/bench_gateway.py --algorithm sm2-sm3   # the same with a 国密 federation

This process serves two things on 127.0.0.1: a raw grpc.aio echo service (unary and duplex stream,
bytes in, the same bytes out) and a jgx hub (`gateway.server.Server`: signature verification, SC-06
validation, the durable SQLite log with synchronous=FULL, signed receipts). A client in a separate
process sends messages of the same size (one signed SC-06 envelope) to each and reports:

- unary throughput: ``concurrency`` calls in flight on one channel;
- stream throughput: one duplex stream carrying every message;
- unary latency p50/p99 at a steady 200 requests a second (open loop: each call starts on schedule).

It prints a table with the ratios jgx / raw and the goals: stream ≥ 50 %, unary ≥ 40 %, p99 ≤ 5 ms, and
the server process's CPU time per message served (what a busy machine moves least), then where the hub's
CPU goes per envelope (CPU time of the thread, in process, no gRPC).
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
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

if TYPE_CHECKING:  # the client process imports no gateway module
    from gateway.server import Server
    from gateway.storage.sqlite import SqliteStore
    from gateway.testing import Federation
    from gateway.treehash import TreeHash

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ECHO_UNARY = "/bench.Echo/Unary"
ECHO_STREAM = "/bench.Echo/Stream"
SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
SUBMIT_STREAM = "/jgx.exchange.v1.Exchange/SubmitStream"
FIXTURE = ROOT / "standards" / "data" / "SC-06" / "1.0.0" / "fixtures" / "good" / "default.json"

UNARY_CALLS = 4000
STREAM_MESSAGES = 8000
PACED_SECONDS = 8
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
        call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
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
        stream = channel.stream_stream(method, request_serializer=None, response_deserializer=None)
        warm = stream(iter(messages[:WARMUP]))
        async for _ in warm:
            pass
        body = messages[WARMUP:]
        started = time.perf_counter()
        answers = 0
        async for _ in stream(iter(body)):
            answers += 1
        seconds = time.perf_counter() - started
    if answers != len(body):
        raise RuntimeError(f"{answers} answers for {len(body)} messages")
    return {"count": answers, "seconds": seconds, "per_second": answers / seconds}


async def client_paced(port: int, method: str, messages: list[bytes], rate: float) -> dict[str, float]:
    """Unary calls started on a fixed schedule of ``rate`` a second; latency percentiles in ms."""
    latencies: list[float] = []
    async with _channel(port) as channel:
        call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
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


def envelopes(count: int, prefix: str, algorithm: str = "ed25519") -> tuple[list[bytes], Federation]:
    """``count`` signed SC-06 envelopes from sc.amr to sc.hub, and the federation that signed them."""
    from gateway.keys import Algorithm
    from gateway.testing import Federation

    fed = Federation.create(datetime.now(UTC), algorithm=Algorithm(algorithm))
    payload = FIXTURE.read_bytes()
    made = [
        fed.envelope(fed.message("sc.amr", "sc.hub", standard="SC-06", version="1.0.0", payload=payload,
                                 message_id=f"{prefix}-{n:08d}"))
        for n in range(count)
    ]  # fmt: skip
    return made, fed


def log_hash(fed: Federation) -> TreeHash:
    """The log hash profile `jgx init` gives a node of this federation's algorithm (sm3 for SM2)."""
    from gateway.treehash import default_profile

    return default_profile(fed.keys["sc.hub"].algorithm)


async def start_hub(
    directory: Path, fed: Federation, *, durable: bool = True
) -> tuple[Server, SqliteStore, int]:
    """A jgx hub with validation on a SQLite log (synchronous=FULL when durable), on an ephemeral port."""
    from gateway.hub import Hub
    from gateway.server import Server
    from gateway.storage.sqlite import SqliteStore
    from gateway.validation import standards_validator

    store = SqliteStore(
        directory / f"hub-{'full' if durable else 'normal'}.db", durable=durable, hasher=log_hash(fed)
    )
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


async def run_bench(algorithm: str = "ed25519") -> None:
    """Serve, measure each phase with a client process, print the table."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # warnings off: errors only
    cuts = {"unary": UNARY_CALLS + WARMUP, "stream": STREAM_MESSAGES + WARMUP,
            "paced": PACED_SECONDS * RATE + WARMUP}  # fmt: skip
    made, fed = envelopes(2 * sum(cuts.values()), "bench", algorithm)  # each hub gets its own envelopes
    size = len(made[0])
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="jgx-bench-") as tmp:
        directory = Path(tmp)
        at = 0
        for name, count in cuts.items():
            write_messages(directory / f"raw-{name}.bin", [made[0]] * count)  # the same size, echoed
            for target in ("jgx", "jgx-normal"):
                write_messages(directory / f"{target}-{name}.bin", made[at : at + count])
                at += count
        echo, echo_port = await start_echo()
        try:
            await _phases(results, "raw", "raw", echo_port, directory)
        finally:
            await echo.stop(0)
        for target, durable in (("jgx", True), ("jgx-normal", False)):
            hub_server, store, hub_port = await start_hub(directory, fed, durable=durable)
            try:
                await _phases(results, target, "jgx", hub_port, directory)
            finally:
                await hub_server.stop(1)
                await store.close()
    print(f"node keys: {algorithm}, log hash profile: {log_hash(fed).name}")
    report(results, size)
    whole = await in_process(made[:2000], fed)
    breakdown(made[:1000], fed, whole)


async def _phases(
    results: dict[str, dict[str, float]], name: str, kind: str, port: int, directory: Path
) -> None:
    for phase, extra in (("unary", {"concurrency": CONCURRENCY}), ("stream", {}), ("paced", {"rate": RATE})):
        cpu = time.process_time()
        result = await measure(phase, kind, port, directory / f"{name}-{phase}.bin", **extra)
        # CPU time of this process (the server; the client is another process) per message it served,
        # the warm-up included: unlike the rates, a busy machine does not move it much.
        result["server_cpu_us"] = (time.process_time() - cpu) / (result["count"] + WARMUP) * 1e6
        results[f"{name}-{phase}"] = result


def report(results: dict[str, dict[str, float]], size: int) -> None:
    """Print the table of throughputs, latencies, ratios and goals."""
    raw, full, normal = (
        {kind: results[f"{name}-{kind}"] for kind in ("unary", "stream", "paced")}
        for name in ("raw", "jgx", "jgx-normal")
    )
    print(f"message size {size} bytes; unary concurrency {CONCURRENCY}; {RATE} req/s for {PACED_SECONDS} s")
    print()
    print(
        "| measure | raw gRPC echo | jgx, FULL (durable) | ratio | jgx, NORMAL | ratio | goal (FULL) | met |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for kind, label, goal in (("unary", "unary calls/s", 0.40), ("stream", "stream messages/s", 0.50)):
        r, f, n = raw[kind]["per_second"], full[kind]["per_second"], normal[kind]["per_second"]
        print(
            f"| {label} | {r:,.0f} | {f:,.0f} | {f / r:.0%} | {n:,.0f} | {n / r:.0%} "
            f"| ≥ {goal:.0%} | {_yes(f / r >= goal)} |"
        )
    for kind, label in (("unary", "unary"), ("stream", "stream")):
        r, f, n = (side[kind]["server_cpu_us"] for side in (raw, full, normal))
        print(f"| server CPU per message, {label} (µs) | {r:,.0f} | {f:,.0f} | | {n:,.0f} | | | |")
    for q in ("p50", "p99"):
        r, f, n = raw["paced"][q], full["paced"][q], normal["paced"][q]
        bound = "≤ 5 ms" if q == "p99" else ""
        met = _yes(f <= 5) if q == "p99" else ""
        print(f"| unary {q} at {RATE} req/s (ms) | {r:.2f} | {f:.2f} | | {n:.2f} | | {bound} | {met} |")


async def in_process(sample: list[bytes], fed: Federation) -> tuple[float, float]:
    """µs per envelope of `Hub.submit` with 64 in flight, no gRPC (steps 1–11, SQLite NORMAL): wall time,
    and CPU time of the whole process (the receipt is signed in the store's writer thread)."""
    from gateway.hub import Hub
    from gateway.storage.sqlite import SqliteStore
    from gateway.validation import standards_validator

    with tempfile.TemporaryDirectory(prefix="jgx-bench-") as tmp:
        store = SqliteStore(Path(tmp) / "hub.db", durable=False, hasher=log_hash(fed))
        await store.open()
        hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store,
                  validate=standards_validator)  # fmt: skip
        await hub.start()
        window = asyncio.Semaphore(64)

        async def one(data: bytes) -> None:
            async with window:
                await hub.submit(data)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(data) for data in sample))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        await hub.close()
        await store.close()
    return seconds / len(sample) * 1e6, cpu / len(sample) * 1e6


def breakdown(sample: list[bytes], fed: Federation, whole: tuple[float, float]) -> None:
    """Where one envelope's CPU time goes in the hub (in this process, no gRPC).

    Each step is timed in CPU time of this thread (`time.thread_time`), so a busy machine does not
    inflate it; the last rows are the bare signature operations the steps contain, through `gateway.keys`.
    """
    from datetime import date

    from gateway.dsse import RECEIPT_TYPE, pae
    from gateway.envelope import parse_envelope
    from gateway.hub import SeenCache
    from gateway.logbook import LogSigner
    from gateway.pb.jgx.exchange.v1 import exchange_pb2
    from gateway.pipeline import judge
    from gateway.receipts import issue_receipt
    from gateway.validation import standards_validator

    now, payload, key = datetime.now(UTC), FIXTURE.read_bytes(), fed.keys["sc.hub"]

    def per_call(fn: Callable[[int], object]) -> float:
        started = time.thread_time()
        for n in range(len(sample)):
            fn(n)
        return (time.thread_time() - started) / len(sample) * 1e6

    today = date.today()

    def steps_1_to_7(n: int) -> object:
        return judge(sample[n], trust=fed.trust, local_node="sc.hub", now=now, seen=SeenCache())

    def step_8(_n: int) -> object:
        return standards_validator(payload, "SC-06", "1.0.0", today, "internal")

    def step_11(n: int) -> bytes:
        receipt = issue_receipt(
            issuer="sc.hub", key=key, envelope_sha256=b"d" * 32, message_id="m", sender="sc.amr",
            recipient="sc.hub", outcome=exchange_pb2.OUTCOME_ACCEPTED, reason_codes=(), findings=(),
            log_index=n, now=now,
        )  # fmt: skip
        return receipt.SerializeToString()

    signer, envelope = LogSigner.for_key("sc.hub", key, log_hash(fed)), parse_envelope(sample[0])
    signed, signature = pae(envelope.payload_type, envelope.body), envelope.signatures[0].sig
    sender_key = fed.keys["sc.amr"].public_key
    receipt_pae = pae(RECEIPT_TYPE, step_11(0)[:200])  # about a receipt's signed bytes
    algorithm = key.algorithm.value

    def checkpoint(n: int) -> object:
        return signer.sign(n + 1, b"h" * 32)

    def bare_verify(_n: int) -> object:
        return sender_key.verify(signature, signed)

    def bare_sign(_n: int) -> object:
        return key.sign(receipt_pae)

    rows = [
        (f"steps 1–7 (parse, {algorithm} verify, freshness, ACL)", per_call(steps_1_to_7)),
        ("step 8 (SC-06 validation)", per_call(step_8)),
        ("step 11 (sign the receipt)", per_call(step_11)),
        ("a checkpoint (sign the note; one per 1000 entries or 5 s)", per_call(checkpoint)),
        (f"of steps 1–7: the bare {algorithm} verification", per_call(bare_verify)),
        (f"of step 11: the bare {algorithm} signature", per_call(bare_sign)),
    ]
    print()
    print("| hub CPU per envelope (in process, CPU time of the thread) | µs |")
    print("|---|---:|")
    for label, micros in rows:
        print(f"| {label} | {micros:.0f} |")
    whole_label = "`Hub.submit`, steps 1–11 with the SQLite log (NORMAL), 64 in flight, no gRPC"
    print(f"| {whole_label}: wall time | {whole[0]:.0f} |")
    print(f"| the same: CPU time of the process (all threads; the writer signs receipts) | {whole[1]:.0f} |")


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def main() -> None:
    """Run the benchmark, or one client measurement when called with --client."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--client", choices=("unary", "stream", "paced"))
    parser.add_argument("--target", choices=("raw", "jgx"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--messages")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--rate", type=float, default=RATE)
    parser.add_argument(
        "--algorithm", default="ed25519", choices=("ed25519", "ecdsa-p256-sha256", "sm2-sm3"),
        help="the federation's node key algorithm (sm2-sm3: a 国密 federation)",
    )
    args = parser.parse_args()
    if args.client:
        run_client(args)
    else:
        asyncio.run(run_bench(args.algorithm))


if __name__ == "__main__":
    main()
