"""The PostgreSQL store: several gateway replicas on one database (DESIGN §9), on asyncpg.

One writer at a time. Every append moves the single ``log_head`` row on (``UPDATE … RETURNING``), which
row-locks it until the transaction ends, then reads the tree's right border (kept in memory while no
other replica appended) and writes leaves, nodes and every side row. A replica that dies
mid-transaction holds nothing: PostgreSQL aborts the transaction and releases the row with the
connection. So leaf indexes stay contiguous across replicas, with no gaps and no forks, and a batch
lands whole or not at all.

Replay protection is shared: ``seen`` has a unique (sender, message_id) key, and a conflict raises
`ReplayConflict` (the hub then answers DUPLICATE or REPLAYED). Checkpoints are saved under the same
row lock and only if they are the log's root at their size and extend the latest stored one.
The outbox is claimed with ``FOR UPDATE SKIP LOCKED`` plus a lease, so two replicas' delivery workers
never hold the same row at once.

A URL is ``postgresql://user@host:port/database?schema=NAME``; ``schema`` (optional) puts the store's
tables in their own namespace, created on first use. Other query parameters go to asyncpg (sslmode, …).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import asyncpg

from gateway import merkle
from gateway.storage import profile
from gateway.storage.base import (
    PROBE_WRITE,
    Appended,
    Entry,
    LeafRecord,
    MessageRecord,
    NodeKey,
    OutboxState,
    ReplayConflict,
    Seen,
    StorageError,
    StoredCheckpoint,
)
from gateway.storage.guard import check_new_checkpoint
from gateway.storage.outbox_sql import channel
from gateway.storage.postgres_console import PostgresConsole
from gateway.storage.postgres_outbox import PostgresOutbox
from gateway.storage.postgres_schema import migrate, split_url
from gateway.storage.postgres_side import PostgresSideRows
from gateway.storage.postgres_tree import Conn, border, fetch_nodes, with_nodes
from gateway.storage.refused import EntryRefused, check_entry, issued
from gateway.storage.sqlite_rows import MSG_COLUMNS, dt, message_record, us
from gateway.treehash import SHA256, TreeHash

__all__ = ["PostgresStore"]

T = TypeVar("T")
_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
# Errors about a value (SQLSTATE class 22, or asyncpg failing to encode an argument), not the database.
_DATA_ERRORS = (asyncpg.DataError, asyncpg.exceptions._base.DataError)


def _replay_conflict(exc: asyncpg.UniqueViolationError, seen: list[tuple[Any, ...]]) -> ReplayConflict:
    """Name the consumed (sender, message_id) from PostgreSQL's detail ("Key (…)=(a, b) already exists")."""
    match = re.search(r"=\((.*), (.*)\) already exists", str(exc.detail or ""))
    if match is not None:
        return ReplayConflict(match.group(1), match.group(2))
    return ReplayConflict(str(seen[0][0]), str(seen[0][1]))


class PostgresStore(PostgresSideRows, PostgresOutbox, PostgresConsole):
    """`Store` on PostgreSQL: a connection pool per replica, one writer at a time across replicas."""

    def __init__(
        self,
        url: str,
        *,
        min_connections: int = 1,
        max_connections: int = 8,
        hasher: TreeHash | None = SHA256,
    ) -> None:
        """Prepare a store for ``url`` (connects on `open`); ``hasher``: the log's hash profile (checked
        against the recorded one on `open`; None adopts the recorded one)."""
        self._wanted = hasher
        self.hasher = hasher or SHA256
        try:
            self.dsn, self.schema = split_url(url)
        except ValueError as exc:
            raise StorageError(str(exc)) from exc
        self._sizes = (min_connections, max_connections)
        self._pool: asyncpg.Pool | None = None  # reads, outbox claims, operator writes
        # One connection of its own for appends and checkpoints: the writer never queues behind reads.
        self._writer: asyncpg.Pool | None = None
        # The tree's right border after this replica's last append: reused while no other replica appended.
        self._border: tuple[int, dict[NodeKey, bytes]] = (-1, {})

    # -- plumbing --------------------------------------------------------------------------------
    def _settings(self) -> dict[str, str]:
        settings = {"application_name": "jgx"}
        if self.schema is not None:
            settings["search_path"] = self.schema
        return settings

    async def open(self) -> None:
        """Connect the pool and apply pending migrations (serialised across replicas)."""
        try:
            conn = await asyncpg.connect(self.dsn, server_settings=self._settings())
            try:
                await migrate(conn, schema=self.schema)
                await conn.execute(profile.RECORD_POSTGRES, self.hasher.name)
                recorded = str(await conn.fetchval(profile.READ))
            finally:
                await conn.close()
            self.hasher = profile.settle(recorded, self._wanted)  # before any pool is opened
            self._pool = await asyncpg.create_pool(
                self.dsn, min_size=self._sizes[0], max_size=self._sizes[1], server_settings=self._settings()
            )
            self._writer = await asyncpg.create_pool(
                self.dsn, min_size=1, max_size=1, server_settings=self._settings()
            )
        except _ERRORS as exc:
            raise StorageError(f"PostgreSQL store cannot be opened: {exc}") from exc

    async def close(self) -> None:
        """Wait for connections in use to be released, then close the pools."""
        pools = [pool for pool in (self._pool, self._writer) if pool is not None]
        self._pool = self._writer = None
        for pool in pools:
            await pool.close()

    async def probe_write(self) -> None:
        """Commit a write that changes no value on the writer's connection; StorageError when it fails."""
        async with self._conn(transaction=True, writer=True) as conn:
            await conn.execute(PROBE_WRITE)

    @contextlib.asynccontextmanager
    async def _conn(self, *, transaction: bool = False, writer: bool = False) -> AsyncIterator[Conn]:
        pool = self._writer if writer else self._pool
        if pool is None:
            raise StorageError("the store is not open")
        try:
            async with pool.acquire() as conn:
                if transaction:
                    async with conn.transaction():
                        yield conn
                else:
                    yield conn
        except StorageError:
            raise
        except _DATA_ERRORS as exc:
            if writer:  # a value of the entries being appended that PostgreSQL cannot take
                raise EntryRefused(f"PostgreSQL refuses a value: {exc}"[:300]) from exc
            raise StorageError(f"PostgreSQL: {exc}") from exc
        except _ERRORS as exc:
            raise StorageError(f"PostgreSQL: {exc}") from exc

    async def _fetch(self, sql: str, *params: Any) -> list[asyncpg.Record]:
        async with self._conn() as conn:
            return list(await conn.fetch(sql, *params))

    async def _write(self, sql: str, *params: Any) -> str:
        async with self._conn(transaction=True) as conn:
            return str(await conn.execute(sql, *params))

    @staticmethod
    async def _lock_head(conn: Conn) -> int:
        """Take the writer's lock (the log_head row) and return the log's size."""
        return int(await conn.fetchval("SELECT size FROM log_head WHERE id = 1 FOR UPDATE"))

    # -- the log ---------------------------------------------------------------------------------
    async def append(self, entries: Sequence[Entry]) -> list[Appended]:
        """Append entries in order in one transaction under the writer's lock; all land or none does."""
        if not entries:
            return []
        for entry in entries:
            check_entry(entry)
        try:
            return await self._append(entries)
        except (ValueError, TypeError, OverflowError) as exc:  # raised while encoding an argument
            raise EntryRefused(f"an entry cannot be stored: {exc}"[:300]) from exc

    async def _append(self, entries: Sequence[Entry]) -> list[Appended]:
        async with self._conn(transaction=True, writer=True) as conn:
            # Lock the head row and move it on in one statement; a failed batch rolls it back.
            size = int(
                await conn.fetchval(
                    "UPDATE log_head SET size = size + $1 WHERE id = 1 RETURNING size - $1", len(entries)
                )
            )
            hashes = [self.hasher.leaf(entry.leaf) for entry in entries]
            known = dict(self._border[1]) if self._border[0] == size else {}
            extend = partial(merkle.nodes_to_store_on_extend, size, hashes, hasher=self.hasher)
            nodes = await with_nodes(conn, extend, known)
            await conn.executemany(
                "INSERT INTO leaves (idx, leaf, leaf_hash) VALUES ($1, $2, $3)",
                [(size + n, entry.leaf, hashes[n]) for n, entry in enumerate(entries)],
            )
            await conn.executemany(
                "INSERT INTO nodes (level, idx, hash) VALUES ($1, $2, $3)",
                [(level, idx, value) for (level, idx), value in nodes],
            )
            appended = await self._side_rows(conn, size, hashes, entries)
        self._border = border(size + len(entries), known | dict(nodes))  # committed: the next starts here
        return appended

    async def _side_rows(
        self, conn: Conn, size: int, hashes: list[bytes], entries: Sequence[Entry]
    ) -> list[Appended]:
        receipts = [issued(e, size + n) for n, e in enumerate(entries)]
        placeholders = ", ".join(f"${n}" for n in range(1, 18))
        await conn.executemany(
            f"INSERT INTO messages ({MSG_COLUMNS}) VALUES ({placeholders})",  # noqa: S608
            [
                (size + n, e.kind, us(e.time), e.sender, e.recipient, e.message_id, e.standard,
                 e.standard_version, e.correlation_id, e.action, e.outcome, " ".join(e.reason_codes),
                 e.envelope_sha256, e.envelope, e.payload, receipts[n], e.duplicate_of)
                for n, e in enumerate(entries)
            ],
        )  # fmt: skip
        reasons = {(code, us(e.time), size + n) for n, e in enumerate(entries) for code in e.reason_codes}
        if reasons:  # the console's "outcome + reason" search index (schema version 3)
            await conn.executemany(
                "INSERT INTO message_reasons (reason, time_us, log_index) VALUES ($1, $2, $3)",
                sorted(reasons),
            )
        outbox = [
            (size + n, to, us(e.time), channel(e.sender, to))
            for n, e in enumerate(entries)
            for to in e.outbox
        ]
        if outbox:
            await conn.executemany(
                "INSERT INTO outbox (log_index, recipient, next_attempt_us, channel) VALUES ($1, $2, $3, $4)",
                outbox,
            )
        seen = [
            (e.seen.sender, e.seen.message_id, size + n, e.envelope_sha256, us(e.seen.until))
            for n, e in enumerate(entries)
            if e.seen is not None
        ]
        if seen:
            try:
                await conn.executemany(
                    "INSERT INTO seen (sender, message_id, log_index, envelope_sha256, until_us) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    seen,
                )
            except asyncpg.UniqueViolationError as exc:
                raise _replay_conflict(exc, seen) from exc
        settles = [(size + n, e.delivers) for n, e in enumerate(entries) if e.delivers is not None]
        for index, item_id in settles:
            status = await conn.execute(
                "UPDATE outbox SET state = $1, delivery_index = $2, claimed_until_us = 0 WHERE id = $3",
                OutboxState.DELIVERED, index, item_id,
            )  # fmt: skip
            if status != "UPDATE 1":
                raise StorageError(f"outbox row {item_id} does not exist")
        return [Appended(size + n, hashes[n], receipts[n]) for n in range(len(entries))]

    async def size(self) -> int:
        """The number of leaves in the log."""
        rows = await self._fetch("SELECT size FROM log_head WHERE id = 1")
        return int(rows[0][0])

    async def leaves(self, start: int, end: int) -> list[LeafRecord]:
        """Leaves with ``start <= index < end``, in index order."""
        rows = await self._fetch(
            "SELECT idx, leaf, leaf_hash FROM leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx", start, end
        )
        return [LeafRecord(int(i), bytes(leaf), bytes(h)) for i, leaf, h in rows]

    async def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Stored hashes of complete subtrees by (level, index), one query per 500 keys."""
        async with self._conn() as conn:
            return await fetch_nodes(conn, keys)

    async def _tree(self, size: int, work: Callable[[merkle.NodeReader], T]) -> T:
        async with self._conn() as conn:
            stored = int(await conn.fetchval("SELECT size FROM log_head WHERE id = 1"))
            if size > stored:
                raise StorageError(f"tree size {size} exceeds the log's {stored} leaves")
            return await with_nodes(conn, work)

    async def root(self, size: int) -> bytes:
        """The RFC 6962 root hash of the first ``size`` leaves, from stored nodes."""
        return await self._tree(size, lambda reader: merkle.root(size, reader, hasher=self.hasher))

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves."""
        return await self._tree(
            size, lambda reader: list(merkle.inclusion_proof(index, size, reader, hasher=self.hasher))
        )

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The consistency proof between tree sizes ``first`` and ``second``."""
        return await self._tree(
            second, lambda reader: list(merkle.consistency_proof(first, second, reader, hasher=self.hasher))
        )

    # -- messages --------------------------------------------------------------------------------
    async def _messages(self, where: str, *params: Any) -> list[MessageRecord]:
        sql = f"SELECT {MSG_COLUMNS} FROM messages WHERE {where} ORDER BY log_index"  # noqa: S608
        return [message_record(tuple(row)) for row in await self._fetch(sql, *params)]

    async def message(self, log_index: int) -> MessageRecord | None:
        """The side row of a leaf, or None."""
        rows = await self._messages("log_index = $1", log_index)
        return rows[0] if rows else None

    async def messages(self, start: int, end: int) -> list[MessageRecord]:
        """The side rows of leaves ``start <= index < end``, in index order."""
        return await self._messages("log_index >= $1 AND log_index < $2", start, end)

    async def find_original(self, envelope_sha256: bytes) -> MessageRecord | None:
        """The earlier submission with these exact envelope bytes whose message id was consumed."""
        rows = await self._messages(
            "log_index IN (SELECT log_index FROM seen WHERE envelope_sha256 = $1)", envelope_sha256
        )
        return rows[0] if rows else None

    async def find_seen(self, sender: str, message_id: str) -> MessageRecord | None:
        """The submission that consumed (sender, message_id), or None."""
        rows = await self._messages(
            "log_index IN (SELECT log_index FROM seen WHERE sender = $1 AND message_id = $2)",
            sender,
            message_id,
        )
        return rows[0] if rows else None

    async def find_messages(
        self, *, message_id: str = "", correlation_id: str = "", sender: str = ""
    ) -> list[MessageRecord]:
        """Rows by message id (optionally one sender's) or by correlation id, in log order."""
        if correlation_id:
            return await self._messages("correlation_id = $1", correlation_id)
        if sender:
            return await self._messages("message_id = $1 AND sender = $2", message_id, sender)
        return await self._messages("message_id = $1", message_id)

    async def seen_since(self, now: datetime) -> list[Seen]:
        """Remembered (sender, message_id) pairs still within their replay window at ``now``."""
        rows = await self._fetch("SELECT sender, message_id, until_us FROM seen WHERE until_us > $1", us(now))
        return [Seen(str(s), str(m), dt(int(u))) for s, m, u in rows]

    # -- checkpoints -----------------------------------------------------------------------------
    async def save_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a checkpoint, under the writer's lock, if it is the log's root and extends the latest."""
        async with self._conn(transaction=True, writer=True) as conn:
            size = await self._lock_head(conn)
            row = await conn.fetchrow(
                "SELECT size, root_hash, note, time_us FROM checkpoints ORDER BY size DESC LIMIT 1"
            )
            latest = None if row is None else StoredCheckpoint(int(row[0]), bytes(row[1]), row[2], dt(row[3]))
            await with_nodes(
                conn,
                lambda r: check_new_checkpoint(
                    checkpoint, log_size=size, latest=latest, reader=r, hasher=self.hasher
                ),
            )
            await conn.execute(
                "INSERT INTO checkpoints (size, root_hash, note, time_us) VALUES ($1, $2, $3, $4)",
                checkpoint.size, checkpoint.root_hash, checkpoint.note, us(checkpoint.time),
            )  # fmt: skip

    async def _checkpoints(self, tail: str, *params: Any) -> list[StoredCheckpoint]:
        sql = f"SELECT size, root_hash, note, time_us FROM checkpoints {tail}"  # noqa: S608
        return [
            StoredCheckpoint(int(s), bytes(r), str(n), dt(int(t)))
            for s, r, n, t in await self._fetch(sql, *params)
        ]

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size, or None."""
        rows = await self._checkpoints("ORDER BY size DESC LIMIT 1")
        return rows[0] if rows else None

    async def checkpoint(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint of exactly ``size``, or None."""
        rows = await self._checkpoints("WHERE size = $1", size)
        return rows[0] if rows else None

    async def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, by size."""
        return await self._checkpoints("ORDER BY size")
