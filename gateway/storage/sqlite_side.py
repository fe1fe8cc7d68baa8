"""The audit's reads beside the leaves on the SQLite store (mixed into `SqliteStore`)."""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TypeVar

from gateway.storage.side_rows import SideRows
from gateway.storage.side_sql import SIDE_QUERIES, STRAY_QUERIES, side_rows

__all__ = ["SqliteSideRows"]

T = TypeVar("T")
# A node (level, idx) is a complete subtree of a tree of n leaves when (idx + 1) * 2^level <= n; levels
# above 62 cannot be (and would overflow the shift).
_STRAY_NODES = (
    "SELECT COUNT(*) FROM nodes WHERE level < 0 OR level > 62 OR idx < 0 OR (idx + 1) * (1 << level) > ?"
)


class SqliteSideRows(ABC):
    """`Store.side_rows` and `Store.stray_rows` over the reader thread."""

    @abstractmethod
    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the reader thread (provided by `SqliteStore`)."""

    async def side_rows(self, start: int, end: int) -> SideRows:
        """The outbox, seen and reason-index rows of leaves ``start <= index < end`` (one snapshot)."""

        def read(conn: sqlite3.Connection) -> SideRows:
            conn.execute("BEGIN")  # the three reads see one committed state
            try:
                outbox, seen, reasons = (
                    conn.execute(sql.format("?", "?"), (start, end)).fetchall() for sql in SIDE_QUERIES
                )
            finally:
                conn.execute("COMMIT")
            return side_rows(outbox, seen, reasons)

        return await self._read(read)

    async def stray_rows(self, size: int) -> dict[str, int]:
        """Per log table, how many rows name no leaf of a log of ``size`` leaves."""

        def read(conn: sqlite3.Connection) -> dict[str, int]:
            counts = {
                table: int(conn.execute(sql.format("?"), (size,)).fetchone()[0])
                for table, sql in STRAY_QUERIES.items()
            }
            counts["nodes"] = int(conn.execute(_STRAY_NODES, (size,)).fetchone()[0])
            return counts

        return await self._read(read)
