"""The bridge's own durable state (a local SQLite file): the watermark and the journal of sent envelopes.

The journal is what makes a resend harmless: an envelope is written here, committed, and only then
submitted. A bridge killed between the submit and the write-back finds the envelope still ``pending``
on its next pass and resends the *same bytes*, which the hub answers with the original receipt (a
duplicate is never logged as a second accepted record). A row whose verdict was written back is
``done`` and is never sent again, however often the watermark's look-back window re-reads it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

__all__ = ["BridgeState", "JournalEntry"]

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


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One change the bridge has handled or is handling."""

    message_id: str
    envelope: bytes | None
    done: bool


class BridgeState:
    """Watermark and journal of one bridge, in a SQLite file (WAL, every change committed at once)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a journal entry must survive a power cut
        self._db.executescript(_SCHEMA)

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

    def pending(self, source: str, items: Iterable[tuple[str, datetime, bytes]]) -> None:
        """Record signed envelopes as about to be sent (committed before the first byte leaves)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO journal (message_id, source, cd_time, envelope, state) "
                "VALUES (?, ?, ?, ?, 'pending')",
                [(m, source, t.isoformat(), e) for m, t, e in items],
            )

    def done(self, source: str, items: Iterable[tuple[str, datetime]]) -> None:
        """Record rows whose verdict is written back: they are never sent again."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO journal (message_id, source, cd_time, envelope, state) "
                "VALUES (?, ?, ?, NULL, 'done') "
                "ON CONFLICT (message_id) DO UPDATE SET state = 'done', envelope = NULL",
                [(m, source, t.isoformat()) for m, t in items],
            )

    def prune(self, source: str, before: datetime) -> int:
        """Forget done entries older than ``before`` (the look-back window never re-reads them)."""
        cursor = self._db.execute(
            "DELETE FROM journal WHERE source = ? AND state = 'done' AND cd_time < ?",
            (source, before.isoformat()),
        )
        return cursor.rowcount
