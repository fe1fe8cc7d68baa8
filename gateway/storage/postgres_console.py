"""The PostgreSQL store's side of the operator console: search, dashboard aggregates, accounts, sessions.

A mixin of `gateway.storage.postgres.PostgresStore`, with the same statements as the SQLite store
(`gateway.storage.search_sql`, schema version 3 of both backends); user changes and their audit entry
commit in one transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg

from gateway.storage.base import (
    MessageQuery,
    MessageSummary,
    OutboxItem,
    Session,
    StorageError,
    TrafficBucket,
    User,
)
from gateway.storage.postgres_host import PostgresHost
from gateway.storage.postgres_tree import Conn
from gateway.storage.search_sql import ACCEPTED, SUMMARY_COLUMNS, numbered, search_sql, summary_row
from gateway.storage.sqlite_rows import OUTBOX_COLUMNS, dt, outbox_item, us

__all__ = ["PostgresConsole"]


class PostgresConsole(PostgresHost):
    """Console queries over the store's connection pool (mixed into `PostgresStore`)."""

    # -- search and dashboard --------------------------------------------------------------------
    async def search_messages(self, query: MessageQuery) -> list[MessageSummary]:
        """Up to ``query.limit`` rows matching every filter, newest first, after ``query.after``."""
        if not query.party:
            sql, params = search_sql(query, "", ())
            return [summary_row(tuple(r)) for r in await self._fetch(numbered(sql), *params)]
        rows: list[MessageSummary] = []
        for clause, party in (
            ("m.sender = ?", (query.party,)),
            ("m.recipient = ? AND m.sender <> ?", (query.party, query.party)),
        ):
            sql, params = search_sql(query, clause, party)
            rows.extend(summary_row(tuple(r)) for r in await self._fetch(numbered(sql), *params))
        rows.sort(key=lambda r: (r.time, r.log_index), reverse=True)
        return rows[: query.limit]

    async def traffic(self, *, since: datetime, until: datetime, bucket_seconds: int) -> list[TrafficBucket]:
        """Submission counts in ``[since, until)`` per time bucket, sender, standard and outcome."""
        if bucket_seconds <= 0:
            raise StorageError("bucket_seconds must be positive")
        start, width = us(since), bucket_seconds * 1_000_000
        rows = await self._fetch(
            "SELECT (time_us - $1) / $2 AS bucket, sender, standard, outcome, COUNT(*) FROM messages "
            "WHERE kind = 'submission' AND time_us >= $1 AND time_us < $3 "
            "GROUP BY bucket, sender, standard, outcome ORDER BY bucket, sender, standard, outcome",
            start, width, us(until),
        )  # fmt: skip
        return [
            TrafficBucket(dt(start + int(b) * width), str(s), str(std), int(o), int(n))
            for b, s, std, o, n in rows
        ]

    async def outbox_counts(self) -> dict[str, int]:
        """The number of outbox rows in each state."""
        rows = await self._fetch("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        return {str(state): int(n) for state, n in rows}

    async def outbox_of(self, log_index: int) -> list[OutboxItem]:
        """The outbox rows (delivery attempts) of one log entry, by id."""
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE log_index = $1 ORDER BY id"  # noqa: S608
        return [outbox_item(tuple(r)) for r in await self._fetch(sql, log_index)]

    async def outbox_item(self, item_id: int) -> OutboxItem | None:
        """One outbox row, or None."""
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE id = $1"  # noqa: S608
        rows = await self._fetch(sql, item_id)
        return outbox_item(tuple(rows[0])) if rows else None

    async def lifecycle_messages(self, *, since: datetime) -> list[MessageSummary]:
        """Accepted rows with a lifecycle action (dispatch, claim…) at or after ``since``, oldest first."""
        sql = (
            f"SELECT {SUMMARY_COLUMNS} FROM messages m "  # noqa: S608 - constant column list
            "WHERE m.action <> '' AND m.time_us >= $1 AND m.outcome = $2 AND m.kind = 'submission' "
            "ORDER BY m.time_us, m.log_index"
        )
        return [summary_row(tuple(r)) for r in await self._fetch(sql, us(since), ACCEPTED)]

    # -- accounts --------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _audited(self, *, now: datetime, actor: str, action: str, detail: str) -> AsyncIterator[Conn]:
        async with self._conn(transaction=True) as conn:
            yield conn
            await conn.execute(
                "INSERT INTO audit (time_us, actor, action, detail) VALUES ($1, $2, $3, $4)",
                us(now), actor, action, detail,
            )  # fmt: skip

    async def add_user(self, user: User, *, now: datetime, actor: str) -> None:
        """Create an account; StorageError when the username is taken."""
        detail = f"{user.username} role={user.role}" + (f" node={user.node}" if user.node else "")
        async with self._audited(now=now, actor=actor, action="user.add", detail=detail) as conn:
            try:
                await conn.execute(
                    "INSERT INTO users (username, role, node, password_hash, created_us) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    user.username, user.role, user.node, user.password_hash, us(user.created_at),
                )  # fmt: skip
            except asyncpg.UniqueViolationError as exc:
                raise StorageError(f"user {user.username} already exists") from exc

    async def set_password(self, username: str, password_hash: str, *, now: datetime, actor: str) -> None:
        """Replace an account's password hash and end its sessions; StorageError when it does not exist."""
        async with self._audited(now=now, actor=actor, action="user.passwd", detail=username) as conn:
            status = await conn.execute(
                "UPDATE users SET password_hash = $1 WHERE username = $2", password_hash, username
            )
            if status != "UPDATE 1":
                raise StorageError(f"user {username} does not exist")
            await conn.execute("DELETE FROM sessions WHERE username = $1", username)

    async def remove_user(self, username: str, *, now: datetime, actor: str) -> None:
        """Delete an account and its sessions; StorageError when it does not exist."""
        async with self._audited(now=now, actor=actor, action="user.remove", detail=username) as conn:
            await conn.execute("DELETE FROM sessions WHERE username = $1", username)
            if await conn.execute("DELETE FROM users WHERE username = $1", username) != "DELETE 1":
                raise StorageError(f"user {username} does not exist")

    async def _users(self, where: str, *params: Any) -> list[User]:
        sql = f"SELECT username, role, node, password_hash, created_us FROM users {where} ORDER BY username"  # noqa: S608
        return [
            User(str(u), str(r), str(n), str(h), dt(int(c)))
            for u, r, n, h, c in await self._fetch(sql, *params)
        ]

    async def user(self, username: str) -> User | None:
        """One account, or None."""
        rows = await self._users("WHERE username = $1", username)
        return rows[0] if rows else None

    async def users(self) -> list[User]:
        """Every account, by username."""
        return await self._users("")

    # -- sessions --------------------------------------------------------------------------------
    async def create_session(self, session: Session) -> None:
        """Store a new login session."""
        async with self._conn(transaction=True) as conn:
            try:
                await conn.execute(
                    "INSERT INTO sessions (token_sha256, username, csrf_token, created_us, expires_us) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    session.token_sha256, session.username, session.csrf_token,
                    us(session.created_at), us(session.expires_at),
                )  # fmt: skip
            except asyncpg.IntegrityConstraintViolationError as exc:
                raise StorageError(f"no session for {session.username}: {exc}") from exc

    async def session(self, token_sha256: bytes, *, now: datetime) -> Session | None:
        """The session with this token digest if it has not expired at ``now``, else None."""
        rows = await self._fetch(
            "SELECT token_sha256, username, csrf_token, created_us, expires_us FROM sessions "
            "WHERE token_sha256 = $1 AND expires_us > $2",
            token_sha256, us(now),
        )  # fmt: skip
        if not rows:
            return None
        row = rows[0]
        return Session(bytes(row[0]), str(row[1]), str(row[2]), dt(int(row[3])), dt(int(row[4])))

    async def delete_session(self, token_sha256: bytes) -> None:
        """End a session (logout); nothing happens when it is unknown."""
        async with self._conn(transaction=True) as conn:
            await conn.execute("DELETE FROM sessions WHERE token_sha256 = $1", token_sha256)

    async def purge_sessions(self, *, now: datetime) -> int:
        """Delete sessions expired at ``now``; return how many."""
        async with self._conn(transaction=True) as conn:
            status = await conn.execute("DELETE FROM sessions WHERE expires_us <= $1", us(now))
        return int(str(status).rsplit(" ", 1)[-1])
