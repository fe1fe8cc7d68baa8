"""Row conversions and the node reader shared by the SQLite store's threads."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.storage.base import MessageRecord, NodeKey, OutboxItem

__all__ = [
    "MSG_COLUMNS",
    "OUTBOX_COLUMNS",
    "SqliteNodeReader",
    "dt",
    "header_fields",
    "message_record",
    "outbox_item",
    "us",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MSG_COLUMNS = (
    "log_index, kind, time_us, sender, recipient, message_id, standard, standard_version, "
    "correlation_id, action, outcome, reason_codes, envelope_sha256, envelope, payload, receipt, duplicate_of"
)
OUTBOX_COLUMNS = (
    "o.id, o.log_index, o.recipient, o.state, o.attempts, o.next_attempt_us, o.last_error, o.delivery_index"
)


def us(moment: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (how the schema stores times)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def dt(us: int) -> datetime:
    """The aware UTC datetime of a stored microsecond count."""
    return EPOCH + timedelta(microseconds=us)


def header_fields(row: Sequence[Any]) -> dict[str, Any]:
    """The first 13 columns of `MSG_COLUMNS` (a message's header, outcome and digest) as fields."""
    (index, kind, time_us, sender, recipient, message_id, standard, version, correlation, action,
     outcome, reasons, digest) = row[:13]  # fmt: skip
    return {
        "log_index": int(index),
        "kind": str(kind),
        "time": dt(int(time_us)),
        "sender": str(sender),
        "recipient": str(recipient),
        "message_id": str(message_id),
        "standard": str(standard),
        "standard_version": str(version),
        "correlation_id": str(correlation),
        "action": str(action),
        "outcome": int(outcome),
        "reason_codes": tuple(str(reasons).split()),
        "envelope_sha256": _blob(digest) or b"",
    }


def _blob(value: Any) -> bytes | None:
    """A BLOB column's value. SQLite keeps whatever storage class a write gave it: an edited row may hold
    TEXT or a number there, which is read as its text so that the audit reports it instead of crashing."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8")


def message_record(row: tuple[Any, ...]) -> MessageRecord:
    """A `MessageRecord` from a row selected with `MSG_COLUMNS`."""
    envelope, payload, receipt, duplicate_of = tuple(row)[13:]
    return MessageRecord(
        **header_fields(row),
        envelope=_blob(envelope),
        payload=_blob(payload),
        receipt=_blob(receipt),
        duplicate_of=None if duplicate_of is None else int(duplicate_of),
    )


def outbox_item(row: tuple[Any, ...], envelope: bytes | None = None) -> OutboxItem:
    """An `OutboxItem` from a row selected with `OUTBOX_COLUMNS`."""
    item_id, index, recipient, state, attempts, next_us, error, delivery = row
    return OutboxItem(
        id=int(item_id),
        log_index=int(index),
        recipient=str(recipient),
        state=str(state),
        attempts=int(attempts),
        next_attempt_at=dt(int(next_us)),
        last_error=str(error),
        delivery_index=None if delivery is None else int(delivery),
        envelope=envelope,
    )


class SqliteNodeReader:
    """Implements merkle's ``NodeReader`` over one connection: one query per batch of keys."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        """Read nodes through ``conn`` (inside or outside a transaction)."""
        self._conn = conn

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Hashes of the complete subtrees at ``keys``; missing keys are absent from the result."""
        found: dict[NodeKey, bytes] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), 400):  # stay below SQLite's bound-variable limit
            chunk = wanted[start : start + 400]
            clause = " OR ".join("(level = ? AND idx = ?)" for _ in chunk)
            params = [value for key in chunk for value in key]
            for level, idx, value in self._conn.execute(
                f"SELECT level, idx, hash FROM nodes WHERE {clause}",  # noqa: S608 - placeholders only
                params,
            ):
                found[(int(level), int(idx))] = bytes(value)
        return found
