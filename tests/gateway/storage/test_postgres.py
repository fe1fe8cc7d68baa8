"""Several replicas on one PostgreSQL schema: one sequence, shared replay protection, disjoint claims."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from gateway import merkle
from gateway.storage import ReplayConflict, StorageError, StoredCheckpoint, store_for
from gateway.storage.postgres import PostgresStore
from gateway.storage.postgres_schema import LATEST
from gateway.storage.sqlite import SqliteStore
from tests.gateway.storage.conftest import NOW, entry, mth
from tests.gateway.storage.pgschema import drop_schema, fresh_schema, new_schema_url

pytestmark = pytest.mark.postgres


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores with their own connection pools on one schema, as two gateway replicas have."""
    async with fresh_schema() as url:
        first, second = PostgresStore(url), PostgresStore(url)
        await asyncio.gather(first.open(), second.open())
        try:
            yield first, second
        finally:
            await first.close()
            await second.close()


async def test_two_replicas_appending_at_once_make_one_contiguous_log(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    """Concurrent batches from two replicas get contiguous indexes, each leaf once, one consistent tree."""
    first, second = replicas

    async def feed(store: PostgresStore, numbers: range) -> list[int]:
        indexes = []
        for start in range(numbers.start, numbers.stop, 3):
            batch = [entry(n, outbox=("sc.sjs",)) for n in range(start, min(start + 3, numbers.stop))]
            indexes.extend(a.log_index for a in await store.append(batch))
        return indexes

    a, b = await asyncio.gather(feed(first, range(60)), feed(second, range(60, 120)))
    leaves = await first.leaves(0, 120)
    assert list(range(120)) == sorted(a + b)
    assert sorted(f"leaf-{n}".encode() for n in range(120)) == sorted(leaf.leaf for leaf in leaves)
    assert (120, mth([leaf.leaf for leaf in leaves])) == (await second.size(), await second.root(120))
    merkle.verify_consistency(37, 120, await first.consistency_proof(37, 120), await second.root(37),
                              await first.root(120))  # fmt: skip


async def test_a_message_id_consumed_on_one_replica_is_refused_on_the_other(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    """Replay protection is shared: the second replica's append of the same id raises ReplayConflict."""
    first, second = replicas
    await first.append([entry(0, seen=True)])
    with pytest.raises(ReplayConflict):
        await second.append([entry(0, seen=True)])
    found = await second.find_seen("sc.amr", "m-0")
    assert found is not None
    assert (0, 1) == (found.log_index, await second.size())


async def test_racing_copies_on_two_replicas_land_once(replicas: tuple[PostgresStore, PostgresStore]) -> None:
    """When both replicas append the same id at the same moment, exactly one of them logs it."""
    first, second = replicas
    outcomes = await asyncio.gather(
        *(store.append([entry(n, seen=True)]) for n in range(20) for store in (first, second)),
        return_exceptions=True,
    )
    conflicts = [o for o in outcomes if isinstance(o, ReplayConflict)]
    assert (20, 20) == (len(conflicts), await first.size())


async def test_two_claimers_never_get_the_same_outbox_row(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    """Delivery workers on two replicas claim disjoint rows that together cover the outbox."""
    first, second = replicas
    # 100 channels (sender, recipient), one row each: every row is the head of its channel.
    await first.append([entry(n, sender=f"dept-{n}", outbox=("sc.sjs", "cn.national")) for n in range(50)])

    async def drain(store: PostgresStore, worker: str) -> list[int]:
        claimed: list[int] = []
        while batch := await store.claim_due(now=NOW + timedelta(hours=1), limit=3, lease_seconds=60,
                                             worker=worker):  # fmt: skip
            claimed.extend(item.id for item in batch)
        return claimed

    a, b = await asyncio.gather(drain(first, "replica-a"), drain(second, "replica-b"))
    assert set() == set(a) & set(b)
    assert 100 == len(set(a) | set(b)) == len(a) + len(b)


async def test_checkpoints_from_two_replicas_are_never_inconsistent(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    """Two replicas saving checkpoints at once: each size stored once, each extends the one before."""
    first, second = replicas
    await first.append([entry(n) for n in range(12)])
    attempts = [
        store.save_checkpoint(StoredCheckpoint(size, await store.root(size), f"note-{size}", NOW))
        for size in (3, 5, 5, 8, 12, 12)
        for store in (first, second)
    ]
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    stored = await second.checkpoints()
    sizes = [c.size for c in stored]
    assert all(isinstance(o, StorageError) for o in outcomes if o is not None)
    assert sorted(set(sizes)) == sizes
    assert 12 == sizes[-1]
    for older, newer in itertools.pairwise(stored):
        proof = await first.consistency_proof(older.size, newer.size)
        merkle.verify_consistency(older.size, newer.size, proof, older.root_hash, newer.root_hash)


async def test_replicas_starting_together_migrate_once() -> None:
    """Opening two stores at once on a schema that does not exist yet applies each migration once."""
    url, schema = new_schema_url("x")  # the stores create it
    stores = [PostgresStore(url), PostgresStore(url)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        conn = await asyncpg.connect(stores[0].dsn, server_settings={"search_path": schema})
        try:
            versions = [row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")]
        finally:
            await conn.close()
    finally:
        for store in stores:
            await store.close()
        await drop_schema(schema)
    assert list(range(1, LATEST + 1)) == versions


async def test_an_unreachable_server_is_a_storage_error() -> None:
    """Opening a store whose server refuses connections raises StorageError, not a driver exception."""
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/test")
    with pytest.raises(StorageError):
        await store.open()


def test_the_url_scheme_chooses_the_backend(tmp_path: Path) -> None:
    """sqlite:/// gives the SQLite store (relative to the node's directory), postgresql:// PostgreSQL."""
    sqlite = store_for("sqlite:///data/jgx.db", base=tmp_path)
    postgres = store_for("postgresql://postgres@127.0.0.1:5432/test?schema=jgx&sslmode=disable")
    assert isinstance(sqlite, SqliteStore)
    assert tmp_path / "data" / "jgx.db" == sqlite.path
    assert isinstance(postgres, PostgresStore)
    assert ("postgresql://postgres@127.0.0.1:5432/test?sslmode=disable", "jgx") == (
        postgres.dsn,
        postgres.schema,
    )
    for bad in ("mysql://x/y", "postgresql://h/db?schema=drop;table"):
        with pytest.raises(StorageError):
            store_for(bad)
