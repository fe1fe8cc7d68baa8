"""Storage of a gateway node: the `Store` interface and its backends (DESIGN §9)."""

from __future__ import annotations

from gateway.storage.base import (
    Appended,
    AuditEntry,
    Cursor,
    Entry,
    LeafRecord,
    MessageQuery,
    MessageRecord,
    MessageSummary,
    OutboxItem,
    OutboxState,
    Seen,
    Session,
    StorageError,
    Store,
    StoredCheckpoint,
    TrafficBucket,
    User,
)

__all__ = [
    "Appended",
    "AuditEntry",
    "Cursor",
    "Entry",
    "LeafRecord",
    "MessageQuery",
    "MessageRecord",
    "MessageSummary",
    "OutboxItem",
    "OutboxState",
    "Seen",
    "Session",
    "StorageError",
    "Store",
    "StoredCheckpoint",
    "TrafficBucket",
    "User",
]
