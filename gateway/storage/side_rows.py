"""What the audit reads beside the leaves: the outbox, seen and reason-index rows of a range of leaves.

`Store.side_rows` returns them exactly as stored, and `Store.stray_rows` counts the rows of every log
table that name no leaf of the log (inserted behind the node's back, or left after leaves were
deleted). `gateway.logaudit_rows` compares them with what each leaf commits to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OutboxRow", "ReasonRow", "SeenRow", "SideRows"]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An outbox row as stored, with the leaf bytes of the delivery that settled it (if any)."""

    id: int
    log_index: int
    recipient: str
    state: str
    delivery_index: int | None
    delivery_leaf: bytes | None


@dataclass(frozen=True, slots=True)
class SeenRow:
    """A seen row (a consumed (sender, message_id)) as stored."""

    sender: str
    message_id: str
    log_index: int
    envelope_sha256: bytes
    until_us: int


@dataclass(frozen=True, slots=True)
class ReasonRow:
    """A row of the console's reason-code index as stored."""

    reason: str
    time_us: int
    log_index: int


@dataclass(slots=True)
class SideRows:
    """The outbox, seen and reason rows of a range of leaves, each list ordered by (log_index, key)."""

    outbox: list[OutboxRow] = field(default_factory=list)
    seen: list[SeenRow] = field(default_factory=list)
    reasons: list[ReasonRow] = field(default_factory=list)
