"""The delivery claim of both backends: every channel's head by a skip scan, whatever the backlog.

Only the oldest pending row of each (sender, recipient) channel may be claimed, so a channel is delivered
in order. Asked as "pending rows with no earlier pending row in their channel", that is an anti-join of
the backlog with itself: with 3 000 rows pending on one channel PostgreSQL spent 0.36 s per claim in a
hash anti-join (4.5 million comparisons), and the time grows with the square of the backlog.

Asked instead channel by channel, it is one probe of the partial index ``outbox_pending_by_channel
(channel, id) WHERE state = 'pending'`` per channel: a recursive query walks the distinct channels in
index order (each step: the next channel after the last one), then takes each channel's lowest id.
The cost grows with the number of channels, not the number of rows. ``'pending'`` is written as a
literal so that a prepared (generic) plan can still use the partial index. The SQL is plain: recursive
common table expressions and scalar subqueries, no LATERAL (absent from some PostgreSQL-protocol
databases of the production family).
"""

from __future__ import annotations

from typing import Final

from gateway.storage.base import OutboxState
from gateway.storage.sqlite_rows import OUTBOX_COLUMNS

__all__ = ["CLAIM_INDEX", "POSTGRES_CLAIM", "POSTGRES_HEADS", "SQLITE_CLAIM", "channel"]

CLAIM_INDEX: Final = "outbox_pending_by_channel"
_PENDING: Final = f"'{OutboxState.PENDING}'"
assert OutboxState.PENDING.isalpha()  # a constant, safe to write into the SQL


def channel(sender: str, recipient: str) -> str:
    """The channel of an outbox row: its envelope's sender and its recipient (node ids hold no ``>``)."""
    return f"{sender}>{recipient}"


# The head (lowest pending id) of every channel, as SQLite's common table expressions. SQLite has no
# statistics unless ANALYZE ran, so the partial index is named (INDEXED BY) rather than left to chance.
_SQLITE_HEADS: Final = (
    "WITH RECURSIVE channels(channel) AS ("  # noqa: S608 - constants only, no value formatted in
    f"SELECT (SELECT channel FROM outbox INDEXED BY {CLAIM_INDEX} WHERE state = {_PENDING} "
    "ORDER BY channel LIMIT 1) "
    "UNION ALL "
    f"SELECT (SELECT o.channel FROM outbox o INDEXED BY {CLAIM_INDEX} WHERE o.state = {_PENDING} "
    "AND o.channel > c.channel ORDER BY o.channel LIMIT 1) FROM channels c WHERE c.channel IS NOT NULL), "
    f"heads(id) AS (SELECT (SELECT h.id FROM outbox h INDEXED BY {CLAIM_INDEX} WHERE h.state = {_PENDING} "
    "AND h.channel = c.channel ORDER BY h.channel, h.id LIMIT 1) FROM channels c WHERE c.channel IS NOT NULL)"
)

#: SQLite (the writer's transaction serialises claims): (now_us, now_us, limit).
SQLITE_CLAIM: Final = (
    f"{_SQLITE_HEADS} SELECT {OUTBOX_COLUMNS}, m.envelope FROM heads "  # noqa: S608 - constants only
    "JOIN outbox o ON o.id = heads.id JOIN messages m ON m.log_index = o.log_index "
    "WHERE o.next_attempt_us <= ? AND o.claimed_until_us <= ? "
    "ORDER BY o.next_attempt_us, o.id LIMIT ?"
)

#: PostgreSQL, first statement of a claim: ($1 now_us, $2 limit) -> the due heads' ids. Each head is
#: read as one array [id, next_attempt_us, claimed_until_us] from the partial index's probe, so no
#: join with the outbox is left for a planner to get wrong on stale statistics.
POSTGRES_HEADS: Final = (
    "WITH RECURSIVE channels(channel) AS ("  # noqa: S608 - constants only, no value formatted in
    f"SELECT (SELECT channel FROM outbox WHERE state = {_PENDING} ORDER BY channel LIMIT 1) "
    "UNION ALL "
    f"SELECT (SELECT o.channel FROM outbox o WHERE o.state = {_PENDING} AND o.channel > c.channel "
    "ORDER BY o.channel LIMIT 1) FROM channels c WHERE c.channel IS NOT NULL), "
    "heads(head) AS (SELECT (SELECT ARRAY[h.id, h.next_attempt_us, h.claimed_until_us] FROM outbox h "
    f"WHERE h.state = {_PENDING} AND h.channel = c.channel ORDER BY h.channel, h.id LIMIT 1) "
    "FROM channels c WHERE c.channel IS NOT NULL) "
    "SELECT head[1] FROM heads WHERE head[2] <= $1 AND head[3] <= $1 ORDER BY head[2], head[1] LIMIT $2"
)

#: PostgreSQL, second statement, in the same transaction: ($1 head ids, $2 now_us, $3 lease end,
#: $4 worker). The heads are locked by primary key (the only index their condition names, so no stale
#: statistics can send the planner through the backlog); rows another claimer holds locked are skipped,
#: not waited for. Locking returns each row's latest version, so a head settled or claimed by another
#: transaction since the first statement fails the check of its state and lease and is left out. After
#: the claim commits, the lease keeps its rows away from every other claimer.
POSTGRES_CLAIM: Final = (
    "WITH locked AS (SELECT o.id, o.state, o.next_attempt_us, o.claimed_until_us FROM outbox o "  # noqa: S608
    "WHERE o.id = ANY($1::BIGINT[]) FOR UPDATE OF o SKIP LOCKED) "
    "UPDATE outbox o SET claimed_until_us = $3, claimed_by = $4, attempts = o.attempts + 1 FROM locked l "
    f"WHERE o.id = ANY($1::BIGINT[]) AND o.id = l.id AND l.state = {_PENDING} "
    "AND l.next_attempt_us <= $2 AND l.claimed_until_us <= $2 "
    f"RETURNING {OUTBOX_COLUMNS}, (SELECT envelope FROM messages m WHERE m.log_index = o.log_index)"
)
