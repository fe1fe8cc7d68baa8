"""Storage of a gateway node: the `Store` interface and its backends (DESIGN §9).

A node names its store by URL in ``jgx.toml`` (``[storage] url``): ``sqlite:///PATH`` for the embedded
store (a relative PATH is taken from the node's directory) or ``postgresql://user@host:port/db?schema=NAME``
for several replicas on one PostgreSQL-protocol database. `store_for` builds the backend; `open_store`
builds and opens it (opening applies pending migrations).
"""

from __future__ import annotations

from pathlib import Path

from gateway.storage.base import (
    Appended,
    AuditEntry,
    Cursor,
    Entry,
    LeafRecord,
    LogProfileMismatch,
    MessageQuery,
    MessageRecord,
    MessageSummary,
    OutboxItem,
    OutboxState,
    ReplayConflict,
    Seen,
    Session,
    StorageError,
    Store,
    StoredCheckpoint,
    TrafficBucket,
    User,
)
from gateway.storage.refused import EntryRefused, SignerUnavailable, check_entry, issued
from gateway.treehash import SHA256, TreeHash

__all__ = [
    "POSTGRES_SCHEMES",
    "SQLITE_SCHEME",
    "Appended",
    "AuditEntry",
    "Cursor",
    "Entry",
    "EntryRefused",
    "LeafRecord",
    "LogProfileMismatch",
    "MessageQuery",
    "MessageRecord",
    "MessageSummary",
    "OutboxItem",
    "OutboxState",
    "ReplayConflict",
    "Seen",
    "Session",
    "SignerUnavailable",
    "StorageError",
    "Store",
    "StoredCheckpoint",
    "TrafficBucket",
    "User",
    "check_entry",
    "issued",
    "open_store",
    "sqlite_path",
    "store_for",
]

SQLITE_SCHEME = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def sqlite_path(url: str, *, base: Path | None = None) -> Path:
    """The file of ``sqlite:///PATH``: ``sqlite:////srv/jgx.db`` is absolute, others are from ``base``."""
    path = Path(url.removeprefix(SQLITE_SCHEME))
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def store_for(url: str, *, base: Path | None = None, hasher: TreeHash = SHA256) -> Store:
    """The (not yet open) store that ``url`` names, with the log hash profile ``hasher``.

    StorageError for an unknown scheme; `Store.open` raises LogProfileMismatch when the log was
    created with another profile.
    """
    if url.startswith(SQLITE_SCHEME) and len(url) > len(SQLITE_SCHEME):
        from gateway.storage.sqlite import SqliteStore

        return SqliteStore(sqlite_path(url, base=base), hasher=hasher)
    if url.startswith(POSTGRES_SCHEMES):
        from gateway.storage.postgres import PostgresStore  # asyncpg is imported only when needed

        return PostgresStore(url, hasher=hasher)
    raise StorageError(
        f"存储地址须为 sqlite:///… 或 postgresql://… / the storage URL must be sqlite:///… or "
        f"postgresql://…, not {url!r}"
    )


async def open_store(url: str, *, base: Path | None = None, hasher: TreeHash = SHA256) -> Store:
    """Build the store ``url`` names and open it (applying pending migrations, checking the profile)."""
    store = store_for(url, base=base, hasher=hasher)
    await store.open()
    return store
