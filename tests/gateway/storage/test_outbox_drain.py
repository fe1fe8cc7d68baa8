"""Delivery keeps up with a backlog: the claim probes the pending index per channel, and a backlog drains.

The storage suite's ``store`` fixture runs each test on SQLite and on PostgreSQL. Speed itself is
measured in ``bench/outbox_drain.py``; here the plan is read with EXPLAIN and the drain must complete.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from gateway.storage import OutboxState, Store, postgres_schema, sqlite_schema
from gateway.storage.outbox_sql import CLAIM_INDEX, POSTGRES_CLAIM, POSTGRES_HEADS, SQLITE_CLAIM
from gateway.storage.postgres import PostgresStore
from gateway.storage.sqlite import SqliteStore
from tests.gateway.storage.conftest import NOW, entry
from tests.gateway.storage.pgschema import fresh_schema

BACKLOG = 10_000
CHANNELS = 50
LATER = NOW + timedelta(days=1)


async def _fill(store: Store) -> None:
    """BACKLOG pending rows, the channels' rows interleaved as departments' submissions are."""
    for start in range(0, BACKLOG, 500):
        batch = range(start, start + 500)
        await store.append([entry(n, sender=f"dept-{n % CHANNELS}", outbox=("cn.national",)) for n in batch])


async def _claim_plan(store: Store) -> str:
    """The query plan of the claim on ``store``, as its database explains it (on its own connection)."""
    now_us = int((LATER - NOW).total_seconds() * 1e6) + 10**15
    if isinstance(store, SqliteStore):
        conn = sqlite3.connect(store.path)
        try:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {SQLITE_CLAIM}", (now_us, now_us, 64)).fetchall()
        finally:
            conn.close()
        return "\n".join(str(row[-1]) for row in rows)
    assert isinstance(store, PostgresStore)
    settings = {"search_path": store.schema} if store.schema else {}
    conn = await asyncpg.connect(store.dsn, server_settings=settings)
    try:
        heads = [row[0] for row in await conn.fetch(POSTGRES_HEADS, now_us, 64)]
        plans = [
            *(await conn.fetch(f"EXPLAIN {POSTGRES_HEADS}", now_us, 64)),
            *(await conn.fetch(f"EXPLAIN {POSTGRES_CLAIM}", heads, now_us, now_us, "explain")),
        ]
    finally:
        await conn.close()
    return "\n".join(str(row[0]) for row in plans)


async def test_the_claim_probes_the_pending_index_instead_of_scanning_the_backlog(store: Store) -> None:
    """With 10 000 rows pending, the claim probes the pending-by-channel index and never reads the outbox."""
    await _fill(store)
    plan = await _claim_plan(store)
    assert CLAIM_INDEX in plan
    # A whole read of the table: PostgreSQL's sequential scan, SQLite's SCAN without an index.
    whole = re.compile(r"Seq Scan on outbox|\bSCAN (outbox|o|h)\b(?!.*USING)")
    assert [] == [line for line in plan.splitlines() if whole.search(line)]
    assert "outbox_due" not in plan


async def test_a_backlog_of_ten_thousand_rows_drains_in_channel_order(store: Store) -> None:
    """Claiming and settling until nothing is due delivers all 10 000 rows, each channel in row order."""
    await _fill(store)
    delivered: dict[int, list[int]] = defaultdict(list)
    settled = 0
    while items := await store.claim_due(now=LATER, limit=64, lease_seconds=60, worker="drain"):
        await store.append(
            [entry(BACKLOG + settled + n, delivers=item.id) for n, item in enumerate(items)]
        )
        for item in items:
            delivered[item.log_index % CHANNELS].append(item.id)
        settled += len(items)
    assert {OutboxState.DELIVERED: BACKLOG} == await store.outbox_counts()
    assert all(ids == sorted(ids) for ids in delivered.values())
    assert BACKLOG == sum(len(ids) for ids in delivered.values())


_MIGRATIONS_TABLE = "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at_us BIGINT)"
_V3_ROWS = (  # a submission from sc.amr with one pending outbox row, as schema version 3 stored it
    "INSERT INTO leaves (idx, leaf, leaf_hash) VALUES (0, {blob}, {blob});"
    "INSERT INTO messages (log_index, kind, time_us, sender, recipient, message_id, standard, "
    "standard_version, correlation_id, action, outcome, reason_codes, envelope_sha256, envelope) "
    "VALUES (0, 'submission', 0, 'sc.amr', 'cn.national', 'm-0', 'SC-06', '1.0.0', '', '', 1, '', "
    "{blob}, {blob});"
    "INSERT INTO outbox (log_index, recipient, next_attempt_us) VALUES (0, 'cn.national', 0);"
)


@pytest.mark.postgres
async def test_rows_pending_before_the_upgrade_are_claimed_after_it(tmp_path: Path) -> None:
    """Migrating SQLite and PostgreSQL from version 3 names each pending row's channel, so it is claimed."""
    conn = sqlite3.connect(tmp_path / "v3.db", isolation_level=None)
    conn.execute(_MIGRATIONS_TABLE)
    for version in (1, 2, 3):
        conn.executescript(sqlite_schema.MIGRATIONS[version])
        conn.execute("INSERT INTO schema_migrations VALUES (?, 0)", (version,))
    conn.executescript(_V3_ROWS.format(blob="X'00'"))
    conn.close()
    claimed = []
    sqlite = SqliteStore(tmp_path / "v3.db")
    await sqlite.open()
    claimed.append(await sqlite.claim_due(now=LATER, limit=10, lease_seconds=60, worker="w"))
    await sqlite.close()
    async with fresh_schema() as url:
        dsn, schema = postgres_schema.split_url(url)
        admin = await asyncpg.connect(dsn, server_settings={"search_path": str(schema)})
        await admin.execute(_MIGRATIONS_TABLE)
        for version in (1, 2, 3):
            await admin.execute(postgres_schema.MIGRATIONS[version])
            await admin.execute("INSERT INTO schema_migrations VALUES ($1, 0)", version)
        await admin.execute(_V3_ROWS.format(blob="'\\x00'::bytea"))
        await admin.close()
        postgres = PostgresStore(url)
        await postgres.open()
        claimed.append(await postgres.claim_due(now=LATER, limit=10, lease_seconds=60, worker="w"))
        await postgres.close()
    assert [[(0, "cn.national")], [(0, "cn.national")]] == [
        [(item.log_index, item.recipient) for item in items] for items in claimed
    ]
