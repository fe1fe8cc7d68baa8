"""Console search on a log of a million entries: latency of the typical filters, keyset page 1000.

Builds (or reuses, with ``--db``) a SQLite store of ``--leaves`` entries appended through the store's
own `append` in batches, so leaves, Merkle nodes, side rows and search indexes are all real. Entries
spread over 30 days; six senders; twenty standards; one in ten rejected with reason codes; one in five
carries a task or clue id. Prints one row per query: median and 95th percentile over ``--runs`` runs,
each with different values, plus the index the planner chose. Not part of ``make test``.

Run: ``.venv/bin/python bench/console_search.py [--leaves 1000000] [--db /tmp/jgx-bench.db]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.logbook import build_leaf
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.storage import Cursor, Entry, MessageQuery, MessageSummary
from gateway.storage.search_sql import search_sql
from gateway.storage.sqlite import SqliteStore

START = datetime(2026, 10, 1, tzinfo=UTC)
SPAN = timedelta(days=30)
SENDERS = ("sc.amr", "sc.12315", "sc.sjs", "cn.national", "cq.hub", "sc.hub")
STANDARDS = tuple(f"SC-{n:02d}" for n in range(1, 21))
REASONS = (
    ("SCHEMA_INVALID",),
    ("RULE_VIOLATION",),
    ("ACL_DENIED",),
    ("EXPIRED",),
    ("SCHEMA_INVALID", "RULE_VIOLATION"),
)
BATCH = 5_000


def entry(n: int, total: int) -> Entry:
    """Entry ``n`` of ``total``: deterministic, realistic spread of senders, standards and outcomes."""
    rng = random.Random(n)
    time_ = START + SPAN * n / total
    sender = SENDERS[n % len(SENDERS)]
    recipient = SENDERS[(n // 7 + 1) % len(SENDERS)]
    rejected = n % 10 == 3
    reasons = REASONS[(n // 10) % len(REASONS)] if rejected else ()
    outcome = exchange_pb2.OUTCOME_REJECTED if rejected else exchange_pb2.OUTCOME_ACCEPTED
    message = exchange_pb2.Message(
        sender=sender, recipient=recipient, message_id=f"m{n:09d}-{rng.getrandbits(32):08x}",
        standard=STANDARDS[n % len(STANDARDS)], standard_version="1.0.0",
        correlation_id=f"TASK-{n % 50_000:05d}" if n % 5 == 0 else "",
    )  # fmt: skip
    envelope = hashlib.sha256(str(n).encode()).digest() * 3
    digest = hashlib.sha256(envelope).digest()
    return Entry(
        leaf=build_leaf(time=time_, kind="submission", envelope_sha256=digest, outcome=outcome,
                        reason_codes=reasons, message=message),
        kind="submission", time=time_, envelope_sha256=digest, outcome=outcome, sender=sender,
        recipient=recipient, message_id=message.message_id, standard=message.standard,
        standard_version="1.0.0", correlation_id=message.correlation_id, reason_codes=reasons,
        envelope=envelope, payload=b'{"k":"v"}',
    )  # fmt: skip


async def fill(store: SqliteStore, total: int) -> float:
    """Append ``total`` entries in batches; return entries per second."""
    started = time.perf_counter()
    for start in range(await store.size(), total, BATCH):
        await store.append([entry(n, total) for n in range(start, min(total, start + BATCH))])
    return total / (time.perf_counter() - started)


async def timed(run: Callable[[int], Awaitable[list[MessageSummary]]], runs: int) -> tuple[float, float, int]:
    """Median and p95 latency in ms over ``runs`` calls, and the last result's row count."""
    samples, rows = [], 0
    for i in range(runs):
        started = time.perf_counter()
        rows = len(await run(i))
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], rows


def plan(path: Path, query: MessageQuery) -> str:
    """The index SQLite's planner picks for a query (first SEARCH line of EXPLAIN QUERY PLAN)."""
    sql, params = search_sql(query, "", ())
    with sqlite3.connect(path) as conn:
        lines = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    found = [line for line in lines if line.startswith(("SEARCH", "SCAN"))]
    return found[0].split(" USING ")[-1][:60] if found else "?"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="Keep (or reuse) the database here.")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    path = args.db or Path(folder.name) / "bench.db"
    store = SqliteStore(path, durable=False)
    await store.open()
    existing = await store.size()
    rate = await fill(store, args.leaves)
    if existing < args.leaves:
        print(
            f"built {args.leaves:,} entries at {rate:,.0f} entries/s ({path.stat().st_size / 2**20:,.0f} MiB)"
        )
    total, rng = args.leaves, random.Random(7)
    day = timedelta(days=1)

    def at(i: int) -> int:
        return rng.randrange(total) if i >= 0 else 0

    # a cursor 1000 pages of 50 deep (row 50 000 from the newest), found once by walking the pages
    deep: Cursor | None = None
    walk_started = time.perf_counter()
    pages = min(999, total // 50 - 1)  # page 1000 when the log is large enough
    for _ in range(pages):
        page = await store.search_messages(MessageQuery(after=deep, limit=50))
        deep = page[-1].cursor
    walk_ms = (time.perf_counter() - walk_started) * 1000
    mid = START + SPAN / 2
    cases: dict[str, Callable[[int], MessageQuery]] = {
        "message id": lambda i: MessageQuery(message_id=entry(at(i), total).message_id),
        "correlation id": lambda i: MessageQuery(correlation_id=f"TASK-{at(i) // 5 * 5 % 50_000:05d}"),
        "sender + 1-day range": lambda i: MessageQuery(
            sender=SENDERS[i % 6], since=mid - day * (i % 10), until=mid - day * (i % 10) + day),
        "outcome + reason": lambda i: MessageQuery(outcome=2, reason=REASONS[i % 4][0]),
        "outcome + reason + 1-day range": lambda i: MessageQuery(
            outcome=2, reason=REASONS[i % 4][0], since=mid - day * (i % 10),
            until=mid - day * (i % 10) + day),
        "standard + sender": lambda i: MessageQuery(standard=STANDARDS[i % 20], sender=SENDERS[i % 6]),
        "department view (party)": lambda i: MessageQuery(party=SENDERS[i % 5]),
        "keyset page 1000 (no filter)": lambda _: MessageQuery(after=deep),
        "keyset page 1000 (sender)": lambda _: MessageQuery(sender="sc.amr", after=deep),
    }  # fmt: skip
    print(f"\n{total:,} entries; {args.runs} runs per query; 50 rows per page\n")
    print("| query | median ms | p95 ms | rows | index |\n|---|---:|---:|---:|---|")
    for name, make in cases.items():

        def search(i: int, make: Callable[[int], MessageQuery] = make) -> Awaitable[list[MessageSummary]]:
            return store.search_messages(make(i))

        median, p95, rows = await timed(search, args.runs)
        print(f"| {name} | {median:.2f} | {p95:.2f} | {rows} | {plan(path, make(0))} |")
    traffic = []
    for _ in range(5):
        started = time.perf_counter()
        await store.traffic(since=mid - day, until=mid, bucket_seconds=3600)
        traffic.append((time.perf_counter() - started) * 1000)
    median = statistics.median(traffic)
    print(f"| dashboard traffic, 24 h by hour | {median:.2f} | {max(traffic):.2f} | – | time |")
    each = walk_ms / pages
    print(f"\nwalking pages 1 → {pages + 1} one after another: {walk_ms:,.0f} ms ({each:.2f} ms a page)")
    await store.close()
    folder.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
