"""The audit's reads of the rows beside the leaves, one SQL text for both backends (`SideRows`).

Statements use ``{0}``, ``{1}``… for their parameters; each backend substitutes its own placeholder
(``?`` for SQLite, ``$1`` for PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.storage.side_rows import OutboxRow, ReasonRow, SeenRow, SideRows

__all__ = ["SIDE_QUERIES", "STRAY_QUERIES", "side_rows"]

SIDE_QUERIES = (
    "SELECT o.id, o.log_index, o.recipient, o.state, o.delivery_index, l.leaf FROM outbox o "
    "LEFT JOIN leaves l ON l.idx = o.delivery_index WHERE o.log_index >= {0} AND o.log_index < {1} "
    "ORDER BY o.log_index, o.id",
    "SELECT sender, message_id, log_index, envelope_sha256, until_us FROM seen "
    "WHERE log_index >= {0} AND log_index < {1} ORDER BY log_index, sender, message_id",
    "SELECT reason, time_us, log_index FROM message_reasons "
    "WHERE log_index >= {0} AND log_index < {1} ORDER BY log_index, reason, time_us",
)

# table -> rows naming no leaf of a log of {0} leaves; nodes: not a complete subtree of that tree.
STRAY_QUERIES = {
    "leaves": "SELECT COUNT(*) FROM leaves WHERE idx < 0 OR idx >= {0}",
    "messages": "SELECT COUNT(*) FROM messages WHERE log_index < 0 OR log_index >= {0}",
    "outbox": "SELECT COUNT(*) FROM outbox WHERE log_index < 0 OR log_index >= {0}",
    "seen": "SELECT COUNT(*) FROM seen WHERE log_index < 0 OR log_index >= {0}",
    "message_reasons": "SELECT COUNT(*) FROM message_reasons WHERE log_index < 0 OR log_index >= {0}",
}


def _blob(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def side_rows(
    outbox: Sequence[Sequence[Any]], seen: Sequence[Sequence[Any]], reasons: Sequence[Sequence[Any]]
) -> SideRows:
    """`SideRows` from the rows of the three `SIDE_QUERIES`."""
    return SideRows(
        outbox=[
            OutboxRow(int(i), int(index), str(to), str(state), None if d is None else int(d), _blob(leaf))
            for i, index, to, state, d, leaf in outbox
        ],
        seen=[SeenRow(str(s), str(m), int(index), bytes(digest), int(u)) for s, m, index, digest, u in seen],
        reasons=[ReasonRow(str(r), int(t), int(index)) for r, t, index in reasons],
    )
