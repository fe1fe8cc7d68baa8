"""The adapter's small durable store (one SQLite file): received envelopes, its receipts, the outbox.

A restart must not forget which (sender, message_id) pairs were already receipted, or a replay would
slip through and a duplicate would get a different receipt; replies to the hub must survive an outage
of the hub. The store is the I/O edge: the rules live in `adapters.sdk.servicer` and `adapters.lifecycle`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway._time import format_time, parse_time

__all__ = ["AdapterStore", "Pending", "Received"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sender TEXT NOT NULL,
    message_id TEXT NOT NULL,
    envelope_sha256 BLOB NOT NULL,
    outcome INTEGER NOT NULL,
    receipt BLOB NOT NULL,
    received_at TEXT NOT NULL,
    remember_until TEXT NOT NULL,
    standard TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL DEFAULT '',
    correlation_id TEXT NOT NULL DEFAULT '',
    UNIQUE (sender, message_id)
);
CREATE INDEX IF NOT EXISTS received_digest ON received (envelope_sha256);
CREATE INDEX IF NOT EXISTS received_correlation ON received (correlation_id);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    envelope BLOB NOT NULL,
    correlation_id TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at TEXT,
    outcome INTEGER,
    receipt BLOB
);
CREATE TABLE IF NOT EXISTS published (
    standard TEXT NOT NULL,
    business_key TEXT NOT NULL,
    payload_sha256 BLOB NOT NULL,
    batch_id TEXT NOT NULL,
    PRIMARY KEY (standard, business_key)
);
CREATE TABLE IF NOT EXISTS dispatches (
    correlation_id TEXT PRIMARY KEY,
    message BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS work_items (
    correlation_id TEXT PRIMARY KEY,
    item TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Received:
    """A receipted envelope: who sent which message id with which digest, and the receipt given."""

    seq: int
    sender: str
    message_id: str
    envelope_sha256: bytes
    outcome: int
    receipt: bytes
    received_at: datetime
    standard: str
    action: str
    correlation_id: str


@dataclass(frozen=True, slots=True)
class Pending:
    """An outgoing envelope in the outbox and what became of it."""

    seq: int
    message_id: str
    envelope: bytes
    correlation_id: str
    action: str
    attempts: int
    last_error: str
    sent_at: datetime | None
    outcome: int | None
    receipt: bytes | None


_RECEIVED_COLUMNS = (
    "seq, sender, message_id, envelope_sha256, outcome, receipt, received_at,"
    " standard, action, correlation_id"
)
_OUTBOX_COLUMNS = (
    "seq, message_id, envelope, correlation_id, action, attempts, last_error, sent_at, outcome, receipt"
)


def _received(row: Any) -> Received:
    seq, sender, mid, digest, outcome, receipt, at, standard, action, corr = row
    return Received(
        seq, sender, mid, bytes(digest), outcome, bytes(receipt), parse_time(at), standard, action, corr
    )


def _pending(row: Any) -> Pending:
    seq, mid, envelope, corr, action, attempts, error, sent_at, outcome, receipt = row
    sent = parse_time(sent_at) if sent_at is not None else None
    return Pending(
        seq, mid, bytes(envelope), corr, action, attempts, error, sent, outcome,
        bytes(receipt) if receipt is not None else None,
    )  # fmt: skip


class AdapterStore:
    """One SQLite file (WAL) holding the adapter's durable state."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database file."""
        self._db.close()

    # -- received envelopes (implements gateway.freshness.SeenIds) ------------------------------------

    def seen(self, sender: str, message_id: str, *, now: datetime) -> bool:
        """True when (sender, message_id) was receipted and is still remembered at `now`."""
        row = self._db.execute(
            "SELECT remember_until FROM received WHERE sender = ? AND message_id = ?", (sender, message_id)
        ).fetchone()
        return row is not None and now <= parse_time(str(row[0]))

    def by_digest(self, envelope_sha256: bytes) -> Received | None:
        """The earlier receipt for exactly these envelope bytes, if any."""
        row = self._db.execute(
            f"SELECT {_RECEIVED_COLUMNS} FROM received WHERE envelope_sha256 = ? ORDER BY seq LIMIT 1",  # noqa: S608
            (envelope_sha256,),
        ).fetchone()
        return _received(row) if row is not None else None

    def by_id(self, sender: str, message_id: str) -> Received | None:
        """The receipted envelope with this (sender, message_id), if any."""
        row = self._db.execute(
            f"SELECT {_RECEIVED_COLUMNS} FROM received WHERE sender = ? AND message_id = ?",  # noqa: S608
            (sender, message_id),
        ).fetchone()
        return _received(row) if row is not None else None

    def next_seq(self) -> int:
        """The sequence number the next recorded envelope will get (the receipt's log index)."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'received'").fetchone()
        return (int(row[0]) if row is not None else 0) + 1

    def record(
        self,
        *,
        sender: str,
        message_id: str,
        envelope_sha256: bytes,
        outcome: int,
        receipt: bytes,
        received_at: datetime,
        remember_until: datetime,
        standard: str = "",
        action: str = "",
        correlation_id: str = "",
    ) -> Received | None:
        """Record a receipted envelope; None (and nothing written) when the pair is already recorded."""
        try:
            cursor = self._db.execute(
                "INSERT INTO received (sender, message_id, envelope_sha256, outcome, receipt, received_at,"
                " remember_until, standard, action, correlation_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    sender, message_id, envelope_sha256, outcome, receipt, format_time(received_at),
                    format_time(remember_until), standard, action, correlation_id,
                ),
            )  # fmt: skip
        except sqlite3.IntegrityError:
            return None
        return self.by_seq(int(cursor.lastrowid or 0))

    def by_seq(self, seq: int) -> Received | None:
        """The received envelope with sequence number `seq`."""
        row = self._db.execute(
            f"SELECT {_RECEIVED_COLUMNS} FROM received WHERE seq = ?",  # noqa: S608
            (seq,),
        ).fetchone()
        return _received(row) if row is not None else None

    def received_for(self, correlation_id: str) -> list[Received]:
        """Every received envelope of one task or clue, oldest first."""
        rows = self._db.execute(
            f"SELECT {_RECEIVED_COLUMNS} FROM received WHERE correlation_id = ? ORDER BY seq",  # noqa: S608
            (correlation_id,),
        ).fetchall()
        return [_received(r) for r in rows]

    # -- outbox ----------------------------------------------------------------------------------------

    def enqueue(
        self, *, message_id: str, envelope: bytes, now: datetime, correlation_id: str = "", action: str = ""
    ) -> None:
        """Keep a signed outgoing envelope until the hub has receipted it (idempotent per message id)."""
        self._db.execute(
            "INSERT OR IGNORE INTO outbox (message_id, envelope, correlation_id, action, created_at)"
            " VALUES (?,?,?,?,?)",
            (message_id, envelope, correlation_id, action, format_time(now)),
        )

    def pending(self, *, limit: int = 100) -> list[Pending]:
        """Outgoing envelopes not yet receipted, oldest first."""
        rows = self._db.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?",  # noqa: S608
            (limit,),
        ).fetchall()
        return [_pending(r) for r in rows]

    def outbox(self, *, correlation_id: str | None = None) -> list[Pending]:
        """Every outgoing envelope (of one correlation id when given), oldest first."""
        where, args = (
            ("WHERE correlation_id = ?", (correlation_id,)) if correlation_id is not None else ("", ())
        )
        rows = self._db.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox {where} ORDER BY seq",  # noqa: S608 - constant fragments
            args,
        ).fetchall()
        return [_pending(r) for r in rows]

    def mark_attempt(self, message_id: str, error: str) -> None:
        """Count a failed attempt to hand an outgoing envelope to the hub."""
        self._db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE message_id = ?",
            (error, message_id),
        )

    def mark_sent(self, message_id: str, *, outcome: int, receipt: bytes, now: datetime) -> None:
        """Record the hub's verified receipt for an outgoing envelope."""
        self._db.execute(
            "UPDATE outbox SET attempts = attempts + 1, sent_at = ?, outcome = ?, receipt = ?,"
            " last_error = '' WHERE message_id = ?",
            (format_time(now), outcome, receipt, message_id),
        )

    def give_up(self, message_id: str, error: str, *, now: datetime) -> None:
        """Stop retrying an outgoing envelope the hub refused before receipting it (it is kept, not sent)."""
        self._db.execute(
            "UPDATE outbox SET attempts = attempts + 1, sent_at = ?, outcome = 2, last_error = ?"
            " WHERE message_id = ?",
            (format_time(now), error, message_id),
        )

    # -- published records (what was last sent per business key, for cd_operation i/u) --------------

    def published(self, standard: str, business_key: str) -> bytes | None:
        """The payload digest last published for the record, if it was."""
        row = self._db.execute(
            "SELECT payload_sha256 FROM published WHERE standard = ? AND business_key = ?",
            (standard, business_key),
        ).fetchone()
        return bytes(row[0]) if row is not None else None

    def batches(self, prefix: str) -> list[str]:
        """The batch ids already used that start with `prefix` (a day, ``YYYYMMDD``)."""
        rows = self._db.execute(
            "SELECT DISTINCT batch_id FROM published WHERE batch_id LIKE ?", (f"{prefix}%",)
        )
        return [str(r[0]) for r in rows]

    def mark_published(self, standard: str, business_key: str, payload_sha256: bytes, batch_id: str) -> None:
        """Remember what was published for the record and in which batch."""
        self._db.execute(
            "INSERT INTO published (standard, business_key, payload_sha256, batch_id) VALUES (?,?,?,?)"
            " ON CONFLICT (standard, business_key) DO UPDATE"
            " SET payload_sha256 = excluded.payload_sha256, batch_id = excluded.batch_id",
            (standard, business_key, payload_sha256, batch_id),
        )

    # -- dispatched tasks and clues (so a restarted department can still answer them) ------------------

    def save_dispatch(self, correlation_id: str, message: bytes) -> None:
        """Keep the serialized dispatch message of a task or clue (the latest dispatch wins)."""
        self._db.execute(
            "INSERT INTO dispatches (correlation_id, message) VALUES (?, ?)"
            " ON CONFLICT (correlation_id) DO UPDATE SET message = excluded.message",
            (correlation_id, message),
        )

    def dispatches(self) -> Iterator[bytes]:
        """Every kept dispatch message, serialized."""
        for (message,) in self._db.execute("SELECT message FROM dispatches ORDER BY correlation_id"):
            yield bytes(message)

    # -- work items (the lifecycle's values, serialized by adapters.lifecycle) -------------------------

    def save_item(self, correlation_id: str, item_json: str, *, now: datetime) -> None:
        """Store the current state of one task or clue."""
        self._db.execute(
            "INSERT INTO work_items (correlation_id, item, updated_at) VALUES (?,?,?)"
            " ON CONFLICT (correlation_id) DO UPDATE"
            " SET item = excluded.item, updated_at = excluded.updated_at",
            (correlation_id, item_json, format_time(now)),
        )

    def load_item(self, correlation_id: str) -> str | None:
        """The stored state of one task or clue, if any."""
        row = self._db.execute(
            "SELECT item FROM work_items WHERE correlation_id = ?", (correlation_id,)
        ).fetchone()
        return str(row[0]) if row is not None else None

    def items(self) -> Iterator[str]:
        """Every stored task or clue."""
        for (item,) in self._db.execute("SELECT item FROM work_items ORDER BY correlation_id"):
            yield str(item)
