"""The audit's reads beside the leaves on the PostgreSQL store (mixed into `PostgresStore`)."""

from __future__ import annotations

from gateway.storage.postgres_host import PostgresHost
from gateway.storage.side_rows import SideRows
from gateway.storage.side_sql import SIDE_QUERIES, STRAY_QUERIES, side_rows

__all__ = ["PostgresSideRows"]

# A node (level, idx) is a complete subtree of a tree of n leaves when (idx + 1) * 2^level <= n
# (numeric: no overflow whatever level an intruder wrote).
_STRAY_NODES = (
    "SELECT COUNT(*) FROM nodes "
    "WHERE level < 0 OR idx < 0 OR (idx + 1)::numeric * power(2::numeric, level) > $1"
)


class PostgresSideRows(PostgresHost):
    """`Store.side_rows` and `Store.stray_rows` over the pool."""

    async def side_rows(self, start: int, end: int) -> SideRows:
        """The outbox, seen and reason-index rows of leaves ``start <= index < end`` (one snapshot)."""
        async with self._conn() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            outbox, seen, reasons = [
                [tuple(row) for row in await conn.fetch(sql.format("$1", "$2"), start, end)]
                for sql in SIDE_QUERIES
            ]
        return side_rows(outbox, seen, reasons)

    async def stray_rows(self, size: int) -> dict[str, int]:
        """Per log table, how many rows name no leaf of a log of ``size`` leaves."""
        counts: dict[str, int] = {}
        async with self._conn() as conn:
            for table, sql in STRAY_QUERIES.items():
                counts[table] = int(await conn.fetchval(sql.format("$1"), size))
            counts["nodes"] = int(await conn.fetchval(_STRAY_NODES, size))
        return counts
