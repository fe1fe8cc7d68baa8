"""The national bridge's upward journal (beside the downward `BridgeState` in the same SQLite file).

What the hub delivers for the national system is *staged* here first (keyed by message id, so a
redelivery stages nothing twice) and receipted; a flush then gives every unbatched staged row the day's
next ``cd_batch`` (committed before a byte is written to the national database), writes the batch into
the national up-tables in one transaction, and only then marks it written. A bridge killed anywhere in
between rewrites the same batch with the same keys on its next flush, and the up-tables keep one row
per (cd_id, cd_time): nothing is lost and nothing lands twice.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from adapters import national

__all__ = ["NationalJournal", "StagedRow"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS national_staged (
    message_id TEXT PRIMARY KEY,
    up_table TEXT NOT NULL,
    cd_id TEXT NOT NULL,
    cd_time TEXT NOT NULL,
    row TEXT NOT NULL,
    correlation_id TEXT NOT NULL DEFAULT '',
    message BLOB NOT NULL,
    cd_batch TEXT,
    written INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS national_staged_batch ON national_staged (cd_batch, written);
"""


@dataclass(frozen=True, slots=True)
class StagedRow:
    """One delivered message as a row of a national up-table (without its cd_batch until batched)."""

    message_id: str
    up_table: str
    cd_id: str
    cd_time: datetime
    row: dict[str, Any]
    cd_batch: str | None


class NationalJournal:
    """Staged upward rows and their cd_batch runs, in a SQLite file (WAL, every change committed)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # deliveries arrive on the servicer's threads, flushes on the bridge's: one connection, one lock
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def stage(
        self, *, message_id: str, up_table: str, cd_id: str, now: datetime, row: dict[str, Any],
        correlation_id: str, message: bytes,
    ) -> bool:  # fmt: skip
        """Stage a delivered message's row once (False when its message id is already staged).

        Its cd_time is ``now``, moved on by a microsecond past the newest staged row of the same cd_id,
        so two replies of one task never share the up-table key (cd_id, cd_time).
        """
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            if self._db.execute(
                "SELECT 1 FROM national_staged WHERE message_id = ?", (message_id,)
            ).fetchone():
                return False
            (latest,) = self._db.execute(
                "SELECT max(cd_time) FROM national_staged WHERE up_table = ? AND cd_id = ?", (up_table, cd_id)
            ).fetchone()
            moment = now.replace(tzinfo=None)
            if latest is not None and datetime.fromisoformat(latest) >= moment:
                moment = datetime.fromisoformat(latest) + timedelta(microseconds=1)
            self._db.execute(
                "INSERT INTO national_staged "
                "(message_id, up_table, cd_id, cd_time, row, correlation_id, message) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (message_id, up_table, cd_id, moment.isoformat(), json.dumps(row, ensure_ascii=False),
                 correlation_id, message),
            )  # fmt: skip
        return True

    def assign_batch(self, day: date) -> str | None:
        """Give every unbatched staged row the day's next cd_batch (None when nothing is waiting)."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            if not self._db.execute(
                "SELECT 1 FROM national_staged WHERE cd_batch IS NULL LIMIT 1"
            ).fetchone():
                return None
            used = [b for (b,) in self._db.execute("SELECT DISTINCT cd_batch FROM national_staged") if b]
            batch = national.next_batch(day, used)
            self._db.execute("UPDATE national_staged SET cd_batch = ? WHERE cd_batch IS NULL", (batch,))
            return batch

    def unwritten(self) -> list[str]:
        """The batches assigned but not yet written to the national database, oldest first."""
        with self._lock:
            query = "SELECT DISTINCT cd_batch FROM national_staged WHERE cd_batch IS NOT NULL AND written = 0"
            return sorted(b for (b,) in self._db.execute(query))

    def rows(self, batch: str) -> list[StagedRow]:
        """The staged rows of ``batch`` in (cd_time, cd_id) order."""
        with self._lock:
            found = self._db.execute(
                "SELECT message_id, up_table, cd_id, cd_time, row, cd_batch FROM national_staged "
                "WHERE cd_batch = ? ORDER BY cd_time, cd_id",
                (batch,),
            ).fetchall()
        return [StagedRow(m, t, i, datetime.fromisoformat(c), json.loads(r), b) for m, t, i, c, r, b in found]

    def mark_written(self, batch: str) -> None:
        """Record that ``batch`` stands in the national database."""
        with self._lock, self._db:
            self._db.execute("UPDATE national_staged SET written = 1 WHERE cd_batch = ?", (batch,))

    def written(self) -> dict[str, list[tuple[str, str]]]:
        """Every written batch → its rows as (up-table, cd_id)."""
        with self._lock:
            found = self._db.execute(
                "SELECT cd_batch, up_table, cd_id FROM national_staged WHERE written = 1 "
                "ORDER BY cd_batch, cd_time"
            ).fetchall()
        batches: dict[str, list[tuple[str, str]]] = {}
        for batch, table, cd_id in found:
            batches.setdefault(batch, []).append((table, cd_id))
        return batches

    def last_reply(self, correlation_id: str) -> bytes | None:
        """The newest delivered reply (a serialized Message) of the task or clue ``correlation_id``."""
        with self._lock:
            found = self._db.execute(
                "SELECT message FROM national_staged WHERE correlation_id = ? ORDER BY cd_time DESC LIMIT 1",
                (correlation_id,),
            ).fetchone()
        return bytes(found[0]) if found else None

    def messages(self, ids: Iterable[str]) -> int:
        """How many of ``ids`` are staged."""
        with self._lock:
            return sum(
                1
                for m in ids
                if self._db.execute("SELECT 1 FROM national_staged WHERE message_id = ?", (m,)).fetchone()
            )
