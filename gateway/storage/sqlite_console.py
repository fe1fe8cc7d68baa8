"""The SQLite store's side of the operator console: search, dashboard aggregates, accounts, sessions.

A mixin of `gateway.storage.sqlite.SqliteStore`, kept apart so that the log's writer stays short.
Searches are keyset-paginated newest first on (time_us, log_index): every index a search can use ends
in those two columns (schema version 2), so page 1000 costs what page 1 costs.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from gateway.storage.base import (
    MessageQuery,
    MessageSummary,
    OutboxItem,
    Session,
    StorageError,
    TrafficBucket,
    User,
)
from gateway.storage.search_sql import ACCEPTED, SUMMARY_COLUMNS, search_sql, summary_row
from gateway.storage.sqlite_rows import OUTBOX_COLUMNS, dt, outbox_item, us

__all__ = ["SqliteConsole"]

T = TypeVar("T")


class SqliteConsole(ABC):
    """Console queries over the store's reader and writer threads (mixed into `SqliteStore`)."""

    @abstractmethod
    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the reader thread (provided by `SqliteStore`)."""

    @abstractmethod
    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the writer thread (provided by `SqliteStore`)."""

    @abstractmethod
    def _transaction(self, conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run `body` in one transaction on `conn` (provided by `SqliteStore`)."""

    # -- search and dashboard --------------------------------------------------------------------
    async def search_messages(self, query: MessageQuery) -> list[MessageSummary]:
        """Up to ``query.limit`` rows matching every filter, newest first, after ``query.after``."""

        def read(conn: sqlite3.Connection) -> list[MessageSummary]:
            if not query.party:
                sql, params = search_sql(query, "", ())
                return [summary_row(row) for row in conn.execute(sql, params)]
            # sender = party OR recipient = party, as two index walks merged (an OR defeats the index).
            rows: list[MessageSummary] = []
            for clause, party in (
                ("m.sender = ?", (query.party,)),
                ("m.recipient = ? AND m.sender <> ?", (query.party, query.party)),
            ):
                sql, params = search_sql(query, clause, party)
                rows.extend(summary_row(row) for row in conn.execute(sql, params))
            rows.sort(key=lambda r: (r.time, r.log_index), reverse=True)
            return rows[: query.limit]

        return await self._read(read)

    async def traffic(self, *, since: datetime, until: datetime, bucket_seconds: int) -> list[TrafficBucket]:
        """Submission counts in ``[since, until)`` per time bucket, sender, standard and outcome."""
        if bucket_seconds <= 0:
            raise StorageError("bucket_seconds must be positive")
        start, width = us(since), bucket_seconds * 1_000_000

        def read(conn: sqlite3.Connection) -> list[TrafficBucket]:
            rows = conn.execute(
                "SELECT (time_us - ?) / ? AS bucket, sender, standard, outcome, COUNT(*) FROM messages "
                "WHERE kind = 'submission' AND time_us >= ? AND time_us < ? "
                "GROUP BY bucket, sender, standard, outcome ORDER BY bucket, sender, standard, outcome",
                (start, width, start, us(until)),
            )
            return [
                TrafficBucket(dt(start + int(b) * width), str(s), str(std), int(o), int(n))
                for b, s, std, o, n in rows
            ]

        return await self._read(read)

    async def outbox_counts(self) -> dict[str, int]:
        """The number of outbox rows in each state."""

        def read(conn: sqlite3.Connection) -> dict[str, int]:
            rows = conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state")
            return {str(state): int(n) for state, n in rows}

        return await self._read(read)

    async def outbox_of(self, log_index: int) -> list[OutboxItem]:
        """The outbox rows (delivery attempts) of one log entry, by id."""
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE log_index = ? ORDER BY id"  # noqa: S608
        return await self._read(lambda conn: [outbox_item(tuple(r)) for r in conn.execute(sql, (log_index,))])

    async def outbox_item(self, item_id: int) -> OutboxItem | None:
        """One outbox row, or None."""
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE id = ?"  # noqa: S608
        rows = await self._read(lambda conn: [outbox_item(tuple(r)) for r in conn.execute(sql, (item_id,))])
        return rows[0] if rows else None

    async def lifecycle_messages(self, *, since: datetime) -> list[MessageSummary]:
        """Accepted rows with a lifecycle action (dispatch, claim…) at or after ``since``, oldest first."""
        sql = (
            f"SELECT {SUMMARY_COLUMNS} FROM messages m "  # noqa: S608 - constant column list
            "WHERE m.action <> '' AND m.time_us >= ? AND m.outcome = ? AND m.kind = 'submission' "
            "ORDER BY m.time_us, m.log_index"
        )
        return await self._read(
            lambda conn: [summary_row(r) for r in conn.execute(sql, (us(since), ACCEPTED))]
        )

    # -- accounts --------------------------------------------------------------------------------
    async def _audited(
        self,
        body: Callable[[sqlite3.Connection], None],
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: str,
    ) -> None:
        def run(conn: sqlite3.Connection) -> None:
            body(conn)
            conn.execute(
                "INSERT INTO audit (time_us, actor, action, detail) VALUES (?, ?, ?, ?)",
                (us(now), actor, action, detail),
            )

        await self._write(lambda conn: self._transaction(conn, run))

    async def add_user(self, user: User, *, now: datetime, actor: str) -> None:
        """Create an account; StorageError when the username is taken."""

        def body(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO users (username, role, node, password_hash, created_us) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (user.username, user.role, user.node, user.password_hash, us(user.created_at)),
                )
            except sqlite3.IntegrityError as exc:
                raise StorageError(f"user {user.username} already exists") from exc

        detail = f"{user.username} role={user.role}" + (f" node={user.node}" if user.node else "")
        await self._audited(body, now=now, actor=actor, action="user.add", detail=detail)

    async def set_password(self, username: str, password_hash: str, *, now: datetime, actor: str) -> None:
        """Replace an account's password hash and end its sessions; StorageError when it does not exist."""

        def body(conn: sqlite3.Connection) -> None:
            changed = conn.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username)
            ).rowcount
            if changed != 1:
                raise StorageError(f"user {username} does not exist")
            conn.execute("DELETE FROM sessions WHERE username = ?", (username,))

        await self._audited(body, now=now, actor=actor, action="user.passwd", detail=username)

    async def remove_user(self, username: str, *, now: datetime, actor: str) -> None:
        """Delete an account and its sessions; StorageError when it does not exist."""

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
            if conn.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount != 1:
                raise StorageError(f"user {username} does not exist")

        await self._audited(body, now=now, actor=actor, action="user.remove", detail=username)

    async def _users(self, where: str, params: tuple[object, ...]) -> list[User]:
        sql = f"SELECT username, role, node, password_hash, created_us FROM users {where} ORDER BY username"  # noqa: S608
        return await self._read(
            lambda conn: [
                User(str(u), str(r), str(n), str(h), dt(int(c)))
                for u, r, n, h, c in conn.execute(sql, params)
            ]
        )

    async def user(self, username: str) -> User | None:
        """One account, or None."""
        rows = await self._users("WHERE username = ?", (username,))
        return rows[0] if rows else None

    async def users(self) -> list[User]:
        """Every account, by username."""
        return await self._users("", ())

    # -- sessions --------------------------------------------------------------------------------
    async def create_session(self, session: Session) -> None:
        """Store a new login session."""

        def body(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO sessions (token_sha256, username, csrf_token, created_us, expires_us) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (session.token_sha256, session.username, session.csrf_token,
                     us(session.created_at), us(session.expires_at)),
                )  # fmt: skip
            except sqlite3.IntegrityError as exc:
                raise StorageError(f"no session for {session.username}: {exc}") from exc

        await self._write(lambda conn: self._transaction(conn, body))

    async def session(self, token_sha256: bytes, *, now: datetime) -> Session | None:
        """The session with this token digest if it has not expired at ``now``, else None."""

        def read(conn: sqlite3.Connection) -> Session | None:
            row = conn.execute(
                "SELECT token_sha256, username, csrf_token, created_us, expires_us FROM sessions "
                "WHERE token_sha256 = ? AND expires_us > ?",
                (token_sha256, us(now)),
            ).fetchone()
            if row is None:
                return None
            return Session(bytes(row[0]), str(row[1]), str(row[2]), dt(int(row[3])), dt(int(row[4])))

        return await self._read(read)

    async def delete_session(self, token_sha256: bytes) -> None:
        """End a session (logout); nothing happens when it is unknown."""
        await self._write(
            lambda conn: self._transaction(
                conn, lambda c: c.execute("DELETE FROM sessions WHERE token_sha256 = ?", (token_sha256,))
            )
        )

    async def purge_sessions(self, *, now: datetime) -> int:
        """Delete sessions expired at ``now``; return how many."""
        return await self._write(
            lambda conn: self._transaction(
                conn,
                lambda c: int(c.execute("DELETE FROM sessions WHERE expires_us <= ?", (us(now),)).rowcount),
            )
        )
