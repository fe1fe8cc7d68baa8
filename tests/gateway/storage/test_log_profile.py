"""A log's hash profile is recorded when the log is created and never changes, on every backend."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from gateway.storage import LogProfileMismatch, Store
from gateway.storage.postgres import PostgresStore
from gateway.storage.sqlite import SqliteStore
from gateway.storage.sqlite_schema import MIGRATIONS
from gateway.treehash import SHA256, SM3, TreeHash
from tests.gateway.storage.conftest import entry, mth
from tests.gateway.storage.pgschema import fresh_schema
from tests.vectors.generate_merkle_sm3 import mth as sm3_mth

Factory = Callable[[TreeHash], Store]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Factory]:
    """A factory of (unopened) stores of one backend, all on the same database."""
    if request.param == "sqlite":
        yield lambda hasher: SqliteStore(tmp_path / "jgx.db", hasher=hasher)
        return
    async with fresh_schema("prof") as url:
        yield lambda hasher: PostgresStore(url, hasher=hasher)


async def test_the_profile_of_the_first_open_is_kept_and_another_refused(backend: Factory) -> None:
    """An sm3 log builds an SM3 tree; reopening it as sha256 is LogProfileMismatch, in both languages."""
    store = backend(SM3)
    await store.open()
    try:
        await store.append([entry(n) for n in range(5)])
        leaves = [record.leaf for record in await store.leaves(0, 5)]
        assert sm3_mth(leaves) == await store.root(5)
        assert mth(leaves) != await store.root(5)
    finally:
        await store.close()
    wrong = backend(SHA256)
    with pytest.raises(LogProfileMismatch) as refused:
        await wrong.open()
    assert ("sm3", "sha256") == (refused.value.recorded, refused.value.configured)
    assert "日志哈希方案不符" in str(refused.value)
    again = backend(SM3)
    await again.open()
    await again.close()


async def test_an_empty_log_takes_the_profile_of_its_first_node(backend: Factory) -> None:
    """Opening creates the log: a sha256 store, even without leaves, fixes sha256."""
    store = backend(SHA256)
    await store.open()
    await store.close()
    with pytest.raises(LogProfileMismatch):
        await backend(SM3).open()


def test_a_log_that_predates_profiles_is_sha256(tmp_path: Path) -> None:
    """Migration 6 records sha256 for a log that already had leaves: its tree was built with SHA-256."""
    path = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at_us INTEGER)")
        for version in range(1, 6):
            recorded = f"INSERT INTO schema_migrations VALUES ({version}, 0)"
            conn.executescript(f"BEGIN;{MIGRATIONS[version]}\n{recorded};COMMIT;")
        conn.execute("INSERT INTO leaves (idx, leaf, leaf_hash) VALUES (0, x'00', x'00')")

    async def reopen(hasher: TreeHash) -> None:
        store = SqliteStore(path, hasher=hasher)
        await store.open()
        await store.close()

    with pytest.raises(LogProfileMismatch) as refused:
        asyncio.run(reopen(SM3))
    assert "sha256" == refused.value.recorded
    asyncio.run(reopen(SHA256))


def test_a_reader_without_configuration_adopts_the_recorded_profile(tmp_path: Path) -> None:
    """`--db FILE` commands have no jgx.toml: they open an sm3 log as sm3 instead of refusing it."""
    from click.testing import CliRunner

    from gateway.cli import main

    path = tmp_path / "jgx.db"

    async def fill() -> None:
        store = SqliteStore(path, hasher=SM3)
        await store.open()
        await store.append([entry(0)])
        await store.close()
        reader = SqliteStore(path, hasher=None)
        await reader.open()
        assert SM3 is reader.hasher
        assert SM3.leaf((await reader.leaves(0, 1))[0].leaf) == await reader.root(1)
        await reader.close()

    asyncio.run(fill())
    shown = CliRunner().invoke(main, ["log", "show", "0", "--db", str(path)])
    assert 0 == shown.exit_code, shown.output
