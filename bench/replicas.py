"""Exchange throughput of ``jgx serve`` replicas: SQLite on one node, PostgreSQL with one and two replicas.

Every case runs real ``jgx serve`` processes (plaintext on loopback, standards validation on, JSON events
to /dev/null) and one client process sending pre-signed envelopes with ``CONCURRENCY`` unary Submit calls
in flight, spread round-robin over the replicas as a load balancer would. The three cases run in the
same invocation, interleaved over ROUNDS rounds on the same machine; the table gives each case's
median. Afterwards each log is checked: its size is the number of envelopes sent (no gaps, nothing
lost or doubled).

PostgreSQL is the server at ``JGX_BENCH_POSTGRES`` (default: database ``test`` at 127.0.0.1:5432); each
case gets a schema of its own, dropped afterwards.

    .venv/bin/python bench/replicas.py [N [ROUNDS]]
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import grpc

from gateway.config import CONFIG_FILE, Limits, default_config, render_config
from gateway.storage import Entry, Seen, Store, store_for
from gateway.testing import Federation

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
CONCURRENCY = 64
SERVER = os.environ.get("JGX_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parents[1]


def write_node(directory: Path, fed: Federation, storage_url: str) -> Path:
    """sc.hub's node directory: its key, the federation's trust, jgx.toml naming ``storage_url``."""
    config = default_config(directory, "sc.hub")
    config = dataclasses.replace(
        config,
        storage_url=storage_url,
        limits=Limits(rate_limit_per_sender=1_000_000.0, rate_burst=1_000_000),
        listen=dataclasses.replace(config.listen, metrics_port=0),
    )
    config.paths.node_key.parent.mkdir(parents=True, exist_ok=True)
    config.paths.node_key.write_bytes(fed.keys["sc.hub"].to_pem())
    config.paths.trust.write_bytes(fed.signed_trust)
    (directory / CONFIG_FILE).write_text(render_config(config), encoding="utf-8")
    return directory


class Replica:
    """One ``jgx serve`` process; `port` once it listens."""

    def __init__(self, directory: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from gateway.cli import main; main()", "serve", "--dir", str(directory),
             "--listen", "127.0.0.1:0", "--insecure-dev", "--log-format", "json"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stderr is not None
        self.port = 0
        for line in self.process.stderr:
            if "listening on" in line:
                self.port = int(line.split("listening on ", 1)[1].split()[0].rsplit(":", 1)[1])
                break
        if not self.port:
            raise RuntimeError("jgx serve did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of the whole machine so far, from /proc/stat (0, 0 where there is none)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


async def load(ports: list[int], envelopes: list[bytes]) -> tuple[float, list[float]]:
    """Send the envelopes, CONCURRENCY calls in flight, round-robin over ``ports``: (seconds, latencies)."""
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for port in ports]
    calls = [
        channel.unary_unary(SUBMIT, request_serializer=None, response_deserializer=None)
        for channel in channels
    ]
    queue = list(reversed(list(enumerate(envelopes))))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            n, data = queue.pop()
            started = time.perf_counter()
            await calls[n % len(calls)](data, timeout=60)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    for channel in channels:
        await channel.close(None)
    return elapsed, latencies


async def logged(url: str, base: Path) -> int:
    """The size of the log at ``url`` (after the replicas stopped)."""
    store: Store = store_for(url, base=base)
    await store.open()
    try:
        return await store.size()
    finally:
        await store.close()


async def case(
    label: str, url: str, replicas: int, n: int, tmp: Path
) -> tuple[str, int, float, float, float, int, float]:
    """Start ``replicas`` serve processes on ``url``, warm up, time ``n`` envelopes, check the log: (label,
    replicas, envelopes/s, p50 ms, p99 ms, envelopes logged, machine CPU busy %)."""
    fed = Federation.create(datetime.now(UTC))
    node = write_node(tmp / label.replace(" ", "-"), fed, url)
    warm = [fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"warm-{k}")) for k in range(100)]
    timed = [fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"bench-{k}")) for k in range(n)]
    started = [await asyncio.to_thread(Replica, node) for _ in range(replicas)]
    try:
        ports = [replica.port for replica in started]
        await load(ports, warm)
        busy, total = cpu_ticks()
        elapsed, latencies = await load(ports, timed)
        busy_after, total_after = cpu_ticks()
    finally:
        for replica in started:
            await asyncio.to_thread(replica.stop)
    latencies.sort()
    size = await logged(url, node)
    cpu = 100 * (busy_after - busy) / max(1, total_after - total)
    return (label, replicas, n / elapsed, statistics.median(latencies) * 1000,
            latencies[int(len(latencies) * 0.99) - 1] * 1000, size - len(warm), cpu)  # fmt: skip


def _entry(n: int) -> Entry:
    """A submission entry with a seen id, as the hub writes one (no receipt signing: the store's cost)."""
    envelope = f"envelope-{n}".encode()
    return Entry(
        leaf=f"leaf-{n}".encode(), kind="submission", time=datetime.now(UTC),
        envelope_sha256=hashlib.sha256(envelope).digest(), outcome=1, sender="sc.amr", recipient="sc.hub",
        message_id=f"m-{n}", standard="SC-06", standard_version="1.0.0", envelope=envelope, payload=b"{}",
        receipt=lambda _index: b"receipt", seen=Seen("sc.amr", f"m-{n}", datetime(2100, 1, 1, tzinfo=UTC)),
    )  # fmt: skip


async def appends(url: str, base: Path, batch: int, n: int) -> float:
    """Entries appended per second straight to the store at ``url``, ``batch`` entries a transaction."""
    store = store_for(url, base=base)
    await store.open()
    try:
        started = time.perf_counter()
        for first in range(0, n, batch):
            await store.append([_entry(k) for k in range(first, first + batch)])
        return n / (time.perf_counter() - started)
    finally:
        await store.close()


async def store_table(directory: Path, schemas: list[str]) -> None:
    """The store alone, no gRPC or signatures: one entry per transaction, and 64 (what group commit does)."""
    print("| store | entries per transaction | appends/s |")
    print("|---|---:|---:|")
    for label in ("SQLite", "PostgreSQL"):
        for batch, n in ((1, 300), (64, 3200)):
            schemas.append(f"bench_{secrets.token_hex(5)}")
            url = f"sqlite:///store-{batch}.db" if label == "SQLite" else f"{SERVER}?schema={schemas[-1]}"
            print(f"| {label} | {batch} | {await appends(url, directory, batch, n):,.0f} |")


async def main(n: int, rounds: int) -> None:
    """Run the three cases ``rounds`` times, interleaved, and print the median of each (a shared machine)."""
    cases = [("SQLite", "sqlite:///jgx.db", 1), ("PostgreSQL", "", 1), ("PostgreSQL", "", 2)]
    schemas: list[str] = []
    results: dict[int, list[tuple[float, float, float, int, float]]] = {k: [] for k in range(len(cases))}
    admin = await asyncpg.connect(SERVER)
    try:
        with tempfile.TemporaryDirectory() as directory:
            for round_ in range(rounds):
                for k, (label, sqlite_url, replicas) in enumerate(cases):
                    url = sqlite_url
                    if not url:
                        schemas.append(f"bench_{secrets.token_hex(5)}")
                        url = f"{SERVER}?schema={schemas[-1]}"
                    tmp = Path(directory) / f"round-{round_}"
                    _, _, rate, p50, p99, size, cpu = await case(f"{label} {replicas}", url, replicas, n, tmp)
                    results[k].append((rate, p50, p99, size, cpu))
            await store_table(Path(directory), schemas)
            print()
    finally:
        for schema in schemas:
            await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()
    print(f"N = {n} envelopes a case, median of {rounds} interleaved rounds")
    print("| store | replicas | envelopes/s | p50 ms | p99 ms | machine CPU busy | logged |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for k, (label, _, replicas) in enumerate(cases):
        rate, p50, p99, cpu = (statistics.median(r[i] for r in results[k]) for i in (0, 1, 2, 4))
        logged = "all" if all(r[3] == n for r in results[k]) else f"{[r[3] for r in results[k]]} of {n}"
        print(f"| {label} | {replicas} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {cpu:.0f} % | {logged} |")


if __name__ == "__main__":
    asyncio.run(
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
    )
