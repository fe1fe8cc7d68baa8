"""Schema versions of a store named by URL, for operators (``jgx db``): read them, apply pending ones.

Opening a store applies pending migrations too; these functions let an operator do it as a separate,
visible step (before rolling out a new release to N replicas, say) and see where a database stands.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from gateway.storage import POSTGRES_SCHEMES, StorageError, sqlite_path, sqlite_schema

__all__ = ["SchemaState", "apply_migrations", "schema_state"]


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database stands: its backend, the version applied before and after, the latest known."""

    backend: str
    before: int
    after: int
    latest: int


def _sqlite_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if exists is None:
        return 0
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])


def _sqlite(path: Path, *, apply: bool) -> SchemaState:
    latest = max(sqlite_schema.MIGRATIONS)
    if not apply and not path.exists():
        return SchemaState("sqlite", 0, 0, latest)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            before = _sqlite_version(conn)
            after = sqlite_schema.migrate(conn) if apply else before
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"SQLite database {path}: {exc}") from exc
    return SchemaState("sqlite", before, after, latest)


async def _postgres(url: str, *, apply: bool) -> SchemaState:
    import asyncpg

    from gateway.storage import postgres_schema

    try:
        dsn, schema = postgres_schema.split_url(url)
    except ValueError as exc:
        raise StorageError(str(exc)) from exc
    settings = {"application_name": "jgx db"} | ({"search_path": schema} if schema else {})
    try:
        conn = await asyncpg.connect(dsn, server_settings=settings, timeout=30)
        try:
            if apply:
                before, after = await postgres_schema.migrate(conn, schema=schema)
            else:
                before = after = await postgres_schema.schema_version(conn)
        finally:
            await conn.close()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StorageError(f"PostgreSQL: {exc}") from exc
    return SchemaState("postgresql", before, after, postgres_schema.LATEST)


def _run(url: str, base: Path | None, *, apply: bool) -> SchemaState:
    if url.startswith(POSTGRES_SCHEMES):
        return asyncio.run(_postgres(url, apply=apply))
    if url.startswith("sqlite:///"):
        return _sqlite(sqlite_path(url, base=base), apply=apply)
    raise StorageError(f"存储地址须为 sqlite:///… 或 postgresql://… / unknown storage URL {url!r}")


def schema_state(url: str, *, base: Path | None = None) -> SchemaState:
    """The schema version of the store at ``url`` (nothing is created or changed)."""
    return _run(url, base, apply=False)


def apply_migrations(url: str, *, base: Path | None = None) -> SchemaState:
    """Apply every pending migration to the store at ``url``; safe to run from several replicas at once."""
    return _run(url, base, apply=True)
