"""The embedded store: one SQLite file in WAL mode, zero setup (DESIGN §9).

Threads. sqlite3 blocks, so the store owns two threads, each with its own connection: one writer
(every write goes through it, so the log has exactly one sequencer) and one reader (proofs, lookups,
exports). In WAL mode readers see the last committed snapshot and never block the writer.

Durability. ``synchronous=FULL`` in WAL mode fsyncs the WAL at every commit, so a transaction that
committed survives a power cut, not only a killed process. A receipt promises that the envelope is
logged, so it is issued only after that commit. The cost of one fsync per commit is shared by group
commit: `append` takes a batch and writes it in one transaction (the hub batches concurrent
submissions). ``synchronous=NORMAL`` would survive SIGKILL but could lose the last commits on power
loss; it is available for benchmarks (``durable=False``) and not the default.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from gateway import merkle
from gateway.storage import profile
from gateway.storage.base import (
    PROBE_WRITE,
    Appended,
    AuditEntry,
    Entry,
    LeafRecord,
    LogProfileMismatch,
    MessageRecord,
    NodeKey,
    OutboxItem,
    OutboxState,
    ReplayConflict,
    Seen,
    StorageError,
    StoredCheckpoint,
)
from gateway.storage.guard import check_new_checkpoint
from gateway.storage.outbox_sql import SQLITE_CLAIM, channel
from gateway.storage.refused import EntryRefused, check_entry, issued
from gateway.storage.sqlite_console import SqliteConsole
from gateway.storage.sqlite_rows import (
    MSG_COLUMNS,
    OUTBOX_COLUMNS,
    SqliteNodeReader,
    dt,
    message_record,
    outbox_item,
    us,
)
from gateway.storage.sqlite_schema import migrate
from gateway.storage.sqlite_side import SqliteSideRows
from gateway.treehash import SHA256, TreeHash

__all__ = ["SqliteNodeReader", "SqliteStore"]

T = TypeVar("T")
_PROBE_BYTES = 256 * 1024  # free space `probe_write` asks for: a generous batch of appends


class SqliteStore(SqliteSideRows, SqliteConsole):
    """`Store` on one SQLite file: a writer thread that sequences the log and a reader thread."""

    def __init__(self, path: str | Path, *, durable: bool = True, hasher: TreeHash | None = SHA256) -> None:
        """Prepare a store at ``path`` (created on `open`); ``durable`` selects synchronous=FULL.

        ``hasher`` is the log's hash profile: recorded when the log is created, checked on every `open`.
        None adopts the profile the log recorded (a reader of a database named without its jgx.toml).
        """
        self.path = Path(path)
        self._wanted = hasher
        self.hasher = hasher or SHA256
        self._durable = durable
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jgx-sqlite-writer")
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jgx-sqlite-reader")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._closed = False

    # -- plumbing --------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {'FULL' if self._durable else 'NORMAL'}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed or self._wconn is None:
            raise StorageError("the store is not open")
        conn = self._wconn
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn, conn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed or self._rconn is None:
            raise StorageError("the store is not open")
        conn = self._rconn
        return await asyncio.get_running_loop().run_in_executor(self._reader, fn, conn)

    def _transaction(self, conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def open(self) -> None:
        """Create or open the file, switch it to WAL and apply pending migrations."""
        loop = asyncio.get_running_loop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wconn = await loop.run_in_executor(self._writer, self._connect)
        await loop.run_in_executor(self._writer, migrate, self._wconn)
        await loop.run_in_executor(self._writer, self._check_profile, self._wconn)
        self._rconn = await loop.run_in_executor(self._reader, self._connect)

    def _check_profile(self, conn: sqlite3.Connection) -> None:
        def record(c: sqlite3.Connection) -> str:
            c.execute(profile.RECORD_SQLITE, (self.hasher.name,))
            return str(c.execute(profile.READ).fetchone()[0])

        try:
            self.hasher = profile.settle(self._transaction(conn, record), self._wanted)
        except LogProfileMismatch:
            conn.close()
            self._wconn = None
            raise

    async def close(self) -> None:
        """Wait for queued work, checkpoint the WAL into the main file and close both connections."""
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        if self._rconn is not None:
            await loop.run_in_executor(self._reader, self._rconn.close)
        if self._wconn is not None:
            wconn = self._wconn
            await loop.run_in_executor(self._writer, wconn.execute, "PRAGMA wal_checkpoint(TRUNCATE)")
            await loop.run_in_executor(self._writer, wconn.close)
        self._closed = True
        self._writer.shutdown(wait=True)
        self._reader.shutdown(wait=True)

    async def probe_write(self) -> None:
        """Grow a file beside the database and commit a write; StorageError when either fails."""
        try:
            await self._write(self._probe)
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"SQLite: {exc}") from exc

    def _probe(self, conn: sqlite3.Connection) -> None:
        # A full disk still lets SQLite rewrite pages inside its files; what fails is growing them, as
        # every append does. So the probe grows a file beside the database by what a batch of appends
        # may need, then commits a write through SQLite itself.
        spare = self.path.with_name(self.path.name + "-probe")
        try:
            with spare.open("wb") as out:
                out.write(bytes(_PROBE_BYTES))
                out.flush()
                os.fsync(out.fileno())
        finally:
            spare.unlink(missing_ok=True)
        self._transaction(conn, lambda c: c.execute(PROBE_WRITE))

    # -- the log ---------------------------------------------------------------------------------
    async def append(self, entries: Sequence[Entry]) -> list[Appended]:
        """Append entries in order in one transaction (group commit); all land or none does."""
        if not entries:
            return []
        for entry in entries:
            check_entry(entry)
        try:
            return await self._write(lambda conn: self._transaction(conn, lambda c: self._append(c, entries)))
        except StorageError:
            raise
        except (sqlite3.InterfaceError, sqlite3.DataError, sqlite3.ProgrammingError) as exc:
            raise EntryRefused(f"an entry cannot be bound: {exc}") from exc  # about the values, not the file
        except sqlite3.Error as exc:  # disk full, I/O error, locked: the store cannot write
            raise StorageError(f"SQLite: {exc}") from exc

    def _append(self, conn: sqlite3.Connection, entries: Sequence[Entry]) -> list[Appended]:
        size = int(conn.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves").fetchone()[0])
        hashes = [self.hasher.leaf(entry.leaf) for entry in entries]
        # One read of the tree's right border for the whole batch, then every new complete subtree.
        nodes = merkle.nodes_to_store_on_extend(size, hashes, SqliteNodeReader(conn), hasher=self.hasher)
        conn.executemany(
            "INSERT INTO leaves (idx, leaf, leaf_hash) VALUES (?, ?, ?)",
            [(size + offset, entry.leaf, hashes[offset]) for offset, entry in enumerate(entries)],
        )
        conn.executemany(
            "INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)",
            [(level, idx, value) for (level, idx), value in nodes],
        )
        appended = []
        for offset, entry in enumerate(entries):
            try:
                appended.append(self._side_rows(conn, size + offset, hashes[offset], entry))
            except sqlite3.IntegrityError as error:
                raise StorageError(f"entry {offset} of the batch breaks an invariant: {error}") from error
        return appended

    def _side_rows(self, conn: sqlite3.Connection, index: int, leaf_hash: bytes, entry: Entry) -> Appended:
        receipt = issued(entry, index)
        time_us = us(entry.time)
        conn.execute(
            f"INSERT INTO messages ({MSG_COLUMNS}) VALUES ({', '.join('?' * 17)})",  # noqa: S608
            (index, entry.kind, time_us, entry.sender, entry.recipient, entry.message_id,
             entry.standard, entry.standard_version, entry.correlation_id, entry.action,
             entry.outcome, " ".join(entry.reason_codes), entry.envelope_sha256, entry.envelope,
             entry.payload, receipt, entry.duplicate_of),
        )  # fmt: skip
        conn.executemany(  # the console's "outcome + reason" search index (schema version 2)
            "INSERT OR IGNORE INTO message_reasons (reason, time_us, log_index) VALUES (?, ?, ?)",
            [(code, time_us, index) for code in entry.reason_codes],
        )
        conn.executemany(
            "INSERT INTO outbox (log_index, recipient, next_attempt_us, channel) VALUES (?, ?, ?, ?)",
            [(index, recipient, time_us, channel(entry.sender, recipient)) for recipient in entry.outbox],
        )
        if entry.seen is not None:
            seen = entry.seen
            try:
                conn.execute(
                    "INSERT INTO seen (sender, message_id, log_index, envelope_sha256, until_us) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (seen.sender, seen.message_id, index, entry.envelope_sha256, us(seen.until)),
                )
            except sqlite3.IntegrityError as error:
                raise ReplayConflict(seen.sender, seen.message_id) from error
        if entry.delivers is not None:
            settled = conn.execute(
                "UPDATE outbox SET state = ?, delivery_index = ?, claimed_until_us = 0 WHERE id = ?",
                (OutboxState.DELIVERED, index, entry.delivers),
            ).rowcount
            if settled != 1:
                raise StorageError(f"outbox row {entry.delivers} does not exist")
        return Appended(log_index=index, leaf_hash=leaf_hash, receipt=receipt)

    async def size(self) -> int:
        """The number of leaves in the log."""
        return await self._read(
            lambda conn: int(conn.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves").fetchone()[0])
        )

    async def leaves(self, start: int, end: int) -> list[LeafRecord]:
        """Leaves with ``start <= index < end``, in index order."""

        def read(conn: sqlite3.Connection) -> list[LeafRecord]:
            rows = conn.execute(
                "SELECT idx, leaf, leaf_hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx",
                (start, end),
            )
            return [LeafRecord(int(i), bytes(leaf), bytes(h)) for i, leaf, h in rows]

        return await self._read(read)

    async def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Stored hashes of complete subtrees by (level, index), one query per batch."""
        return await self._read(lambda conn: SqliteNodeReader(conn).get_nodes(keys))

    async def _tree(self, size: int, fn: Callable[[SqliteNodeReader], T]) -> T:
        def run(conn: sqlite3.Connection) -> T:
            stored = int(conn.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves").fetchone()[0])
            if size > stored:
                raise StorageError(f"tree size {size} exceeds the log's {stored} leaves")
            return fn(SqliteNodeReader(conn))

        return await self._read(run)

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
    async def _messages(self, where: str, params: tuple[object, ...]) -> list[MessageRecord]:
        sql = f"SELECT {MSG_COLUMNS} FROM messages WHERE {where} ORDER BY log_index"  # noqa: S608
        return await self._read(lambda conn: [message_record(row) for row in conn.execute(sql, params)])

    async def message(self, log_index: int) -> MessageRecord | None:
        """The side row of a leaf, or None."""
        rows = await self._messages("log_index = ?", (log_index,))
        return rows[0] if rows else None

    async def messages(self, start: int, end: int) -> list[MessageRecord]:
        """The side rows of leaves ``start <= index < end``, in index order."""
        return await self._messages("log_index >= ? AND log_index < ?", (start, end))

    async def find_original(self, envelope_sha256: bytes) -> MessageRecord | None:
        """The earlier submission with these exact envelope bytes whose message id was consumed."""
        rows = await self._messages(
            "log_index IN (SELECT log_index FROM seen WHERE envelope_sha256 = ?)", (envelope_sha256,)
        )
        return rows[0] if rows else None

    async def find_seen(self, sender: str, message_id: str) -> MessageRecord | None:
        """The submission that consumed (sender, message_id), or None."""
        rows = await self._messages(
            "log_index IN (SELECT log_index FROM seen WHERE sender = ? AND message_id = ?)",
            (sender, message_id),
        )
        return rows[0] if rows else None

    async def find_messages(
        self, *, message_id: str = "", correlation_id: str = "", sender: str = ""
    ) -> list[MessageRecord]:
        """Rows by message id (optionally one sender's) or by correlation id, in log order."""
        if correlation_id:
            return await self._messages("correlation_id = ?", (correlation_id,))
        if sender:
            return await self._messages("message_id = ? AND sender = ?", (message_id, sender))
        return await self._messages("message_id = ?", (message_id,))

    async def seen_since(self, now: datetime) -> list[Seen]:
        """Remembered (sender, message_id) pairs still within their replay window at ``now``."""

        def read(conn: sqlite3.Connection) -> list[Seen]:
            rows = conn.execute(
                "SELECT sender, message_id, until_us FROM seen WHERE until_us > ?", (us(now),)
            )
            return [Seen(str(s), str(m), dt(int(u))) for s, m, u in rows]

        return await self._read(read)

    # -- checkpoints -----------------------------------------------------------------------------
    async def save_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint if it is the log's root at its size and extends the latest one."""

        def body(conn: sqlite3.Connection) -> None:
            size = int(conn.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves").fetchone()[0])
            row = conn.execute(
                "SELECT size, root_hash, note, time_us FROM checkpoints ORDER BY size DESC LIMIT 1"
            ).fetchone()
            latest = None if row is None else StoredCheckpoint(int(row[0]), bytes(row[1]), row[2], dt(row[3]))
            check_new_checkpoint(
                checkpoint, log_size=size, latest=latest, reader=SqliteNodeReader(conn), hasher=self.hasher
            )
            conn.execute(
                "INSERT INTO checkpoints (size, root_hash, note, time_us) VALUES (?, ?, ?, ?)",
                (checkpoint.size, checkpoint.root_hash, checkpoint.note, us(checkpoint.time)),
            )

        await self._write(lambda conn: self._transaction(conn, body))

    async def _checkpoints(self, tail: str, params: tuple[object, ...] = ()) -> list[StoredCheckpoint]:
        sql = f"SELECT size, root_hash, note, time_us FROM checkpoints {tail}"  # noqa: S608
        return await self._read(
            lambda conn: [
                StoredCheckpoint(int(s), bytes(r), str(n), dt(int(t)))
                for s, r, n, t in conn.execute(sql, params)
            ]
        )

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size, or None."""
        rows = await self._checkpoints("ORDER BY size DESC LIMIT 1")
        return rows[0] if rows else None

    async def checkpoint(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint of exactly ``size``, or None."""
        rows = await self._checkpoints("WHERE size = ?", (size,))
        return rows[0] if rows else None

    async def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, by size."""
        return await self._checkpoints("ORDER BY size")

    # -- outbox ----------------------------------------------------------------------------------
    async def claim_due(
        self, *, now: datetime, limit: int, lease_seconds: float, worker: str
    ) -> list[OutboxItem]:
        """Claim up to ``limit`` due rows, each the oldest pending row of its channel (with envelopes)."""
        now_us, lease_us = us(now), int(lease_seconds * 1_000_000)

        def body(conn: sqlite3.Connection) -> list[OutboxItem]:
            # Only the oldest pending row of each (sender, recipient) channel is claimable, so a
            # channel is delivered in order: a later row waits while an earlier one is pending.
            rows = conn.execute(SQLITE_CLAIM, (now_us, now_us, limit)).fetchall()
            conn.executemany(
                "UPDATE outbox SET claimed_until_us = ?, claimed_by = ?, attempts = attempts + 1 "
                "WHERE id = ?",
                [(now_us + lease_us, worker, row[0]) for row in rows],
            )
            return [
                outbox_item((*row[:4], int(row[4]) + 1, *row[5:8]), None if row[8] is None else bytes(row[8]))
                for row in rows
            ]

        return await self._write(lambda conn: self._transaction(conn, body))

    async def _update_outbox(self, item_id: int, sql: str, params: tuple[object, ...]) -> None:
        def body(conn: sqlite3.Connection) -> None:
            if conn.execute(sql, (*params, item_id)).rowcount != 1:
                raise StorageError(f"outbox row {item_id} does not exist")

        await self._write(lambda conn: self._transaction(conn, body))

    async def mark_failed(self, item_id: int, *, error: str, next_attempt_at: datetime) -> None:
        """Record a failed attempt and when to try again."""
        await self._update_outbox(
            item_id,
            "UPDATE outbox SET last_error = ?, next_attempt_us = ?, claimed_until_us = 0 WHERE id = ?",
            (error, us(next_attempt_at)),
        )

    async def dead_letter(self, item_id: int, *, error: str, now: datetime) -> None:
        """Give up on a row: it stays listed as dead until an operator replays it."""
        await self._update_outbox(
            item_id,
            "UPDATE outbox SET state = ?, last_error = ?, next_attempt_us = ?, claimed_until_us = 0 "
            "WHERE id = ?",
            (OutboxState.DEAD, error, us(now)),
        )

    async def outbox(self, *, state: str | None = None, limit: int = 100) -> list[OutboxItem]:
        """Outbox rows, optionally of one state, oldest first."""
        where, params = ("WHERE state = ?", (state, limit)) if state else ("", (limit,))
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox o {where} ORDER BY id LIMIT ?"  # noqa: S608
        return await self._read(lambda conn: [outbox_item(tuple(row)) for row in conn.execute(sql, params)])

    async def replay(self, item_id: int, *, now: datetime, actor: str) -> None:
        """Put a dead or delivered row back to pending (due now) and audit who did it."""

        def body(conn: sqlite3.Connection) -> None:
            changed = conn.execute(
                "UPDATE outbox SET state = ?, next_attempt_us = ?, attempts = 0, claimed_until_us = 0, "
                "delivery_index = NULL WHERE id = ?",
                (OutboxState.PENDING, us(now), item_id),
            ).rowcount
            if changed != 1:
                raise StorageError(f"outbox row {item_id} does not exist")
            conn.execute(
                "INSERT INTO audit (time_us, actor, action, detail) VALUES (?, ?, 'outbox.replay', ?)",
                (us(now), actor, f"outbox row {item_id}"),
            )

        await self._write(lambda conn: self._transaction(conn, body))

    # -- audit -----------------------------------------------------------------------------------
    async def audit(self, *, now: datetime, actor: str, action: str, detail: str) -> None:
        """Record an operator action."""
        await self._write(
            lambda conn: self._transaction(
                conn,
                lambda c: c.execute(
                    "INSERT INTO audit (time_us, actor, action, detail) VALUES (?, ?, ?, ?)",
                    (us(now), actor, action, detail),
                ),
            )
        )

    async def audit_entries(self, *, limit: int = 100) -> list[AuditEntry]:
        """The latest operator actions, newest first."""
        sql = "SELECT id, time_us, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?"
        return await self._read(
            lambda conn: [
                AuditEntry(int(i), dt(int(t)), str(a), str(act), str(d))
                for i, t, a, act, d in conn.execute(sql, (limit,))
            ]
        )
