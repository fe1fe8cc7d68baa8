"""The bridge's own durable state (a local SQLite file): the watermark and the journal of sent envelopes.

The journal is what makes a resend harmless: an envelope is written here, committed, and only then
submitted. A bridge killed between the submit and the write-back finds the envelope still ``pending``
on its next pass and resends the *same bytes*, which the hub answers with the original receipt (a
duplicate is never logged as a second accepted record). A row whose verdict was written back is
``done`` and is never sent again, however often the watermark's look-back window re-reads it.

A ``pending`` entry keeps the row's cd_id, cd_time (as the database gave it) and cd_operation, so the next
pass finishes it from the journal alone (`unfinished`): the source row may have been deleted, or updated
to a new cd_time, in the meantime, and would then never be read again. Such an entry is ``done`` with
``settled`` saying why it was finished without its row (``vanished`` or ``superseded``); no entry stays
``pending`` past the next pass.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

__all__ = ["SUPERSEDED", "VANISHED", "BridgeState", "JournalEntry", "Unfinished"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS watermark (
    source TEXT PRIMARY KEY,
    cd_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    message_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    cd_time TEXT NOT NULL,
    envelope BLOB,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done'))
);
CREATE INDEX IF NOT EXISTS journal_time ON journal (source, cd_time);
"""

#: Columns added since the first release; a state file without them gains them when opened.
_ADDED: Final = ("cd_id TEXT", "cd_time_text TEXT", "operation TEXT", "settled TEXT")

VANISHED: Final = "vanished"  # 源记录已删除: no row with this cd_id is left in the source table
SUPERSEDED: Final = "superseded"  # 源记录已更新: the cd_id is there, but under a different cd_time


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One change the bridge has handled or is handling."""

    message_id: str
    envelope: bytes | None
    done: bool


@dataclass(frozen=True, slots=True)
class Unfinished:
    """A ``pending`` entry with what is needed to finish it without its source row."""

    message_id: str
    cd_id: str
    cd_time: datetime
    cd_time_text: str  # the result row's key with cd_id, exactly as the database gave it
    operation: str  # I | U | D
    envelope: bytes


class BridgeState:
    """Watermark and journal of one bridge, in a SQLite file (WAL, every change committed at once)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a journal entry must survive a power cut
        self._db.executescript(_SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(journal)")}
        for column in _ADDED:
            if column.split()[0] not in present:
                self._db.execute(f"ALTER TABLE journal ADD COLUMN {column}")

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def watermark(self, source: str) -> datetime | None:
        """The latest ``cd_time`` whose rows were all written back, or None before the first pass."""
        row = self._db.execute("SELECT cd_time FROM watermark WHERE source = ?", (source,)).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def advance(self, source: str, cd_time: datetime) -> None:
        """Move the watermark forward to ``cd_time`` (never backward)."""
        current = self.watermark(source)
        if current is not None and current >= cd_time:
            return
        self._db.execute(
            "INSERT INTO watermark (source, cd_time) VALUES (?, ?) "
            "ON CONFLICT (source) DO UPDATE SET cd_time = excluded.cd_time",
            (source, cd_time.isoformat()),
        )

    def entries(self, message_ids: Iterable[str]) -> dict[str, JournalEntry]:
        """The journal entries of those of ``message_ids`` the bridge has seen."""
        ids = list(message_ids)
        found: dict[str, JournalEntry] = {}
        for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for message_id, envelope, state in self._db.execute(
                f"SELECT message_id, envelope, state FROM journal WHERE message_id IN ({marks})",  # noqa: S608
                chunk,
            ):
                found[message_id] = JournalEntry(message_id, envelope, state == "done")
        return found

    def pending(self, source: str, items: Iterable[Unfinished]) -> None:
        """Record signed envelopes as about to be sent (committed before the first byte leaves)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO journal "
                "(message_id, source, cd_time, envelope, state, cd_id, cd_time_text, operation) "
                "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
                [
                    (u.message_id, source, u.cd_time.isoformat(), u.envelope, u.cd_id, u.cd_time_text,
                     u.operation)
                    for u in items
                ],
            )  # fmt: skip

    def unfinished(self, source: str) -> list[Unfinished]:
        """The ``pending`` entries of ``source`` (sent or about to be, no verdict written back yet)."""
        rows = self._db.execute(
            "SELECT message_id, cd_id, cd_time, cd_time_text, operation, envelope FROM journal "
            "WHERE source = ? AND state = 'pending' AND cd_id IS NOT NULL ORDER BY cd_time, cd_id",
            (source,),
        )
        return [Unfinished(m, i, datetime.fromisoformat(t), x, o, e) for m, i, t, x, o, e in rows]

    def done(self, source: str, items: Iterable[tuple[str, datetime]], *, settled: str | None = None) -> None:
        """Record rows whose verdict is written back: they are never sent again. ``settled`` names why an
        entry was finished without its source row (`VANISHED`, `SUPERSEDED`)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO journal (message_id, source, cd_time, envelope, state, settled) "
                "VALUES (?, ?, ?, NULL, 'done', ?) "
                "ON CONFLICT (message_id) DO UPDATE SET state = 'done', envelope = NULL, "
                "settled = excluded.settled",
                [(m, source, t.isoformat(), settled) for m, t in items],
            )

    def settled(self, source: str) -> dict[str, str]:
        """Message id → why, of the entries of ``source`` finished without their source row."""
        rows = self._db.execute(
            "SELECT message_id, settled FROM journal WHERE source = ? AND settled IS NOT NULL", (source,)
        )
        return dict(rows.fetchall())

    def prune(self, source: str, before: datetime) -> int:
        """Forget done entries older than ``before`` (the look-back window never re-reads them)."""
        cursor = self._db.execute(
            "DELETE FROM journal WHERE source = ? AND state = 'done' AND cd_time < ?",
            (source, before.isoformat()),
        )
        return cursor.rowcount
