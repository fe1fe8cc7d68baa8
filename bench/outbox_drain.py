"""Delivery drain rate with a backlog on one channel, on SQLite and on PostgreSQL (issue 11 item 5).

A backlog of N pending outbox rows, all on one (sender, recipient) channel, as a recipient that was
down for a while leaves it. Only the channel's head may be claimed (order per channel), so the channel
drains one row per claim: the claim's cost at that backlog is what limits delivery. For each backend
and backlog the table gives the median time of one claim (``claim_due``, the store's own API) and the
rate of claim + settle cycles (the settle is the ``delivery`` leaf that marks the row delivered, with
the durable commit of each backend: SQLite ``synchronous=FULL``, PostgreSQL ``synchronous_commit=on``),
so no recipient's speed is in the numbers. Uses only the `Store` interface: the same script measures
an older release.

PostgreSQL is the server at ``JGX_BENCH_POSTGRES`` (default: database ``test`` at 127.0.0.1:5432); each
case gets a schema of its own, dropped afterwards.

    .venv/bin/python bench/outbox_drain.py [DRAINED [BACKLOG ...]]
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from gateway.storage import Entry, Store, store_for

SERVER = os.environ.get("JGX_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
CLAIMS = 11


def _entry(n: int, *, delivers: int | None = None) -> Entry:
    envelope = f"envelope-{n}".encode()
    return Entry(
        leaf=f"leaf-{n}".encode(), kind="delivery" if delivers is not None else "submission",
        time=NOW + timedelta(milliseconds=n), envelope_sha256=hashlib.sha256(envelope).digest(), outcome=1,
        sender="sc.amr", recipient="cn.national", message_id=f"m-{n}", standard="SC-06",
        standard_version="1.0.0", envelope=envelope, payload=b"{}", receipt=lambda _index: b"receipt",
        outbox=("cn.national",) if delivers is None else (), delivers=delivers,
    )  # fmt: skip


@asynccontextmanager
async def _store(backend: str, directory: Path) -> AsyncIterator[Store]:
    schema = f"bench_{secrets.token_hex(5)}"
    url = f"sqlite:///{directory / (schema + '.db')}" if backend == "sqlite" else f"{SERVER}?schema={schema}"
    store = store_for(url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        if backend == "postgresql":
            admin = await asyncpg.connect(SERVER)
            await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await admin.close()


async def _case(backend: str, backlog: int, drained: int, directory: Path) -> tuple[float, float]:
    """(median claim seconds, claim + settle cycles per second) at ``backlog`` pending rows."""
    async with _store(backend, directory) as store:
        for start in range(0, backlog, 500):
            await store.append([_entry(n) for n in range(start, min(start + 500, backlog))])
        timings = []
        for _ in range(CLAIMS):  # a zero lease: the head stays claimable, the backlog stays the same
            started = time.perf_counter()
            await store.claim_due(now=LATER, limit=32, lease_seconds=0, worker="bench")
            timings.append(time.perf_counter() - started)
        started, settled = time.perf_counter(), 0
        while settled < drained:
            items = await store.claim_due(now=LATER, limit=32, lease_seconds=60, worker="bench")
            await store.append([_entry(backlog + settled + n, delivers=i.id) for n, i in enumerate(items)])
            settled += len(items)
        return statistics.median(timings), settled / (time.perf_counter() - started)


async def main(drained: int, backlogs: list[int]) -> None:
    """Print the table."""
    print(f"load average {os.getloadavg()[0]:.1f}; {drained} rows drained per case")
    print("| backend | backlog on one channel | claim (median) | drain rows/s |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as directory:
        for backend in ("sqlite", "postgresql"):
            for backlog in backlogs:
                claim, rate = await _case(backend, backlog, drained, Path(directory))
                print(f"| {backend} | {backlog:,} | {claim * 1000:.1f} ms | {rate:.0f} |".replace(",", " "))


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(arguments[0] if arguments else 300, arguments[1:] or [1_000, 3_000, 10_000]))
