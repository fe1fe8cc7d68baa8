"""The PostgreSQL store's outbox and audit trail: claims that replicas share without double delivery.

A mixin of `gateway.storage.postgres.PostgresStore`. A claim is one statement: it picks the due rows
that head their (sender, recipient) channel, locks them ``FOR UPDATE SKIP LOCKED`` (rows another
replica's claim holds are skipped, not waited for), and stamps a lease; after the claim commits, the
lease keeps them away from every other claimer until it ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.storage.base import AuditEntry, OutboxItem, OutboxState, StorageError
from gateway.storage.postgres_host import PostgresHost
from gateway.storage.sqlite_rows import dt, outbox_item, us

__all__ = ["OUTBOX_COLUMNS", "PostgresOutbox"]

# The columns `outbox_item` reads, qualified: claims join the outbox with other tables.
OUTBOX_COLUMNS = (
    "o.id, o.log_index, o.recipient, o.state, o.attempts, o.next_attempt_us, o.last_error, o.delivery_index"
)
# Only the oldest pending row of each (sender, recipient) channel is claimable, so a channel is
# delivered in order. Rows another claimer holds locked are skipped, not waited for; afterwards the
# lease keeps them away.
_CLAIM = (
    "WITH due AS (SELECT o.id FROM outbox o JOIN messages m ON m.log_index = o.log_index "  # noqa: S608
    "WHERE o.state = $1 AND o.next_attempt_us <= $2 AND o.claimed_until_us <= $2 "
    "AND NOT EXISTS (SELECT 1 FROM outbox p JOIN messages pm ON pm.log_index = p.log_index "
    "WHERE p.recipient = o.recipient AND p.state = $1 AND p.id < o.id AND pm.sender = m.sender) "
    "ORDER BY o.next_attempt_us, o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED) "
    "UPDATE outbox o SET claimed_until_us = $4, claimed_by = $5, attempts = o.attempts + 1 "
    f"FROM due WHERE o.id = due.id RETURNING {OUTBOX_COLUMNS}, "  # a constant column list
    "(SELECT envelope FROM messages m WHERE m.log_index = o.log_index)"
)


class PostgresOutbox(PostgresHost):
    """Outbox and audit queries over the store's pool (mixed into `PostgresStore`)."""

    # -- outbox ----------------------------------------------------------------------------------
    async def claim_due(
        self, *, now: datetime, limit: int, lease_seconds: float, worker: str
    ) -> list[OutboxItem]:
        """Claim up to ``limit`` due rows, each the oldest pending of its channel (with envelopes)."""
        now_us = us(now)
        rows = await self._fetch(
            _CLAIM,
            OutboxState.PENDING, now_us, limit, now_us + int(lease_seconds * 1_000_000), worker,
        )  # fmt: skip
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
