"""Storage of a gateway node: the `Store` interface and its backends (DESIGN §9)."""

from __future__ import annotations

from gateway.storage.base import (
    Appended,
    AuditEntry,
    Entry,
    LeafRecord,
    MessageRecord,
    OutboxItem,
    OutboxState,
    Seen,
    StorageError,
    Store,
    StoredCheckpoint,
)

__all__ = [
    "Appended",
    "AuditEntry",
    "Entry",
    "LeafRecord",
    "MessageRecord",
    "OutboxItem",
    "OutboxState",
    "Seen",
    "StorageError",
    "Store",
    "StoredCheckpoint",
]
