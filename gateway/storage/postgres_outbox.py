"""The PostgreSQL store's outbox and audit trail: claims that replicas share without double delivery.

A mixin of `gateway.storage.postgres.PostgresStore`. A claim is one transaction of two statements
(`gateway.storage.outbox_sql`): the first finds the row that heads each (sender, recipient) channel
by a skip scan of a partial index; the second locks those that are due ``FOR UPDATE SKIP LOCKED``
(rows another replica's claim holds are skipped, not waited for) and stamps a lease; after the claim
commits, the lease keeps them away from every other claimer until it ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.storage.base import AuditEntry, OutboxItem, OutboxState, StorageError
from gateway.storage.outbox_sql import POSTGRES_CLAIM, POSTGRES_HEADS
from gateway.storage.postgres_host import PostgresHost
from gateway.storage.sqlite_rows import OUTBOX_COLUMNS, dt, outbox_item, us

__all__ = ["PostgresOutbox"]


class PostgresOutbox(PostgresHost):
    """Outbox and audit queries over the store's pool (mixed into `PostgresStore`)."""

    # -- outbox ----------------------------------------------------------------------------------
    async def claim_due(
        self, *, now: datetime, limit: int, lease_seconds: float, worker: str
    ) -> list[OutboxItem]:
        """Claim up to ``limit`` due rows, each the oldest pending of its channel (with envelopes)."""
        now_us = us(now)
        lease_end = now_us + int(lease_seconds * 1_000_000)
        async with self._conn(transaction=True) as conn:
            heads = [int(row[0]) for row in await conn.fetch(POSTGRES_HEADS, now_us, limit)]
            if not heads:
                return []
            rows = list(await conn.fetch(POSTGRES_CLAIM, heads, now_us, lease_end, worker))
        rows.sort(key=lambda row: (int(row[5]), int(row[0])))
        return [outbox_item(tuple(row)[:8], None if row[8] is None else bytes(row[8])) for row in rows]

    async def _update_outbox(self, item_id: int, sql: str, *params: Any) -> None:
        if await self._write(sql, *params, item_id) != "UPDATE 1":
            raise StorageError(f"outbox row {item_id} does not exist")

    async def mark_failed(self, item_id: int, *, error: str, next_attempt_at: datetime) -> None:
        """Record a failed attempt and when to try again."""
        await self._update_outbox(
            item_id,
            "UPDATE outbox SET last_error = $1, next_attempt_us = $2, claimed_until_us = 0 WHERE id = $3",
            error,
            us(next_attempt_at),
        )

    async def dead_letter(self, item_id: int, *, error: str, now: datetime) -> None:
        """Give up on a row: it stays listed as dead until an operator replays it."""
        await self._update_outbox(
            item_id,
            "UPDATE outbox SET state = $1, last_error = $2, next_attempt_us = $3, claimed_until_us = 0 "
            "WHERE id = $4",
            OutboxState.DEAD,
            error,
            us(now),
        )

    async def outbox(self, *, state: str | None = None, limit: int = 100) -> list[OutboxItem]:
        """Outbox rows, optionally of one state, oldest first."""
        where, params = ("WHERE state = $1", (state, limit)) if state else ("WHERE $1", (True, limit))
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox o {where} ORDER BY id LIMIT $2"  # noqa: S608
        return [outbox_item(tuple(row)) for row in await self._fetch(sql, *params)]

    async def replay(self, item_id: int, *, now: datetime, actor: str) -> None:
        """Put a dead or delivered row back to pending (due now) and audit who did it."""
        async with self._conn(transaction=True) as conn:
            status = await conn.execute(
                "UPDATE outbox SET state = $1, next_attempt_us = $2, attempts = 0, claimed_until_us = 0, "
                "delivery_index = NULL WHERE id = $3",
                OutboxState.PENDING, us(now), item_id,
            )  # fmt: skip
            if status != "UPDATE 1":
                raise StorageError(f"outbox row {item_id} does not exist")
            await conn.execute(
                "INSERT INTO audit (time_us, actor, action, detail) VALUES ($1, $2, 'outbox.replay', $3)",
                us(now), actor, f"outbox row {item_id}",
            )  # fmt: skip

    # -- audit -----------------------------------------------------------------------------------
    async def audit(self, *, now: datetime, actor: str, action: str, detail: str) -> None:
        """Record an operator action."""
        await self._write(
            "INSERT INTO audit (time_us, actor, action, detail) VALUES ($1, $2, $3, $4)",
            us(now), actor, action, detail,
        )  # fmt: skip

    async def audit_entries(self, *, limit: int = 100) -> list[AuditEntry]:
        """The latest operator actions, newest first."""
        rows = await self._fetch(
            "SELECT id, time_us, actor, action, detail FROM audit ORDER BY id DESC LIMIT $1", limit
        )
        return [AuditEntry(int(i), dt(int(t)), str(a), str(act), str(d)) for i, t, a, act, d in rows]
