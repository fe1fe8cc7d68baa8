"""The storage interface of a gateway: one exchange log, its side tables, the outbox.

Every backend (the embedded SQLite store, the PostgreSQL store for replicas) implements `Store` and
passes the same suite (``tests/gateway/storage``). The log is sequenced by one writer at a time: leaf
indexes are contiguous from 0, with no gaps, and everything a submission touches (the leaf, its Merkle
nodes, the envelope, the payload, the message row, the receipt, the outbox rows, the seen id) is
written in one transaction, so a crash leaves either all of it or none of it.

Times are passed in (``now``); a store never reads the clock, so tests decide what "due" means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gateway.storage.side_rows import SideRows
from gateway.treehash import TreeHash

__all__ = [
    "Appended",
    "AuditEntry",
    "Cursor",
    "Entry",
    "LeafRecord",
    "LogProfileMismatch",
    "MessageQuery",
    "MessageRecord",
    "MessageSummary",
    "OutboxItem",
    "OutboxState",
    "ReplayConflict",
    "Seen",
    "Session",
    "StorageError",
    "Store",
    "StoredCheckpoint",
    "TrafficBucket",
    "User",
]

NodeKey = tuple[int, int]  # (level, index) of a complete subtree; level 0 are the leaf hashes


# The write of `Store.probe_write`: one row rewritten with its own values, committed like an append.
PROBE_WRITE = (
    "UPDATE schema_migrations SET applied_at_us = applied_at_us"
    " WHERE version = (SELECT MAX(version) FROM schema_migrations)"
)


class StorageError(Exception):
    """The store cannot do what was asked (corrupt database, broken invariant, closed store)."""


class LogProfileMismatch(StorageError):
    """The log was created with one hash profile and this node is configured with another.

    A log's hash profile (``[log] hash``: sha256 or sm3) is fixed when the log is created: every leaf,
    node and signed checkpoint depends on it. The store refuses to open rather than mix two trees.
    """

    def __init__(self, recorded: str, configured: str) -> None:
        self.recorded, self.configured = recorded, configured
        self.message_zh = (
            f"日志哈希方案不符: 日志创建时为 {recorded}，jgx.toml [log] hash 为 {configured}，不可更改"
        )
        self.message_en = (
            f"log hash profile mismatch: the log was created with {recorded}, jgx.toml [log] hash says "
            f"{configured}; a log's profile cannot change"
        )
        super().__init__(f"{self.message_zh} / {self.message_en}")


class ReplayConflict(StorageError):
    """An entry's (sender, message_id) is already consumed: the store's unique key is the final word.

    Raised by `Store.append` when another submission (a racing copy, or another replica on the same
    database) consumed the id first. Nothing of the batch was written; the hub judges the envelope again
    and answers DUPLICATE (same bytes) or REPLAYED.
    """

    def __init__(self, sender: str, message_id: str) -> None:
        self.sender = sender
        self.message_id = message_id
        super().__init__(f"(sender, message_id) = ({sender!r}, {message_id!r}) is already consumed")


class OutboxState:
    """The states of an outbox row (plain strings so both backends store them as text)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Seen:
    """A (sender, message_id) the replay check remembered, kept until ``until``."""

    sender: str
    message_id: str
    until: datetime


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing to append to the log, with everything that must be written in the same transaction.

    ``leaf`` is the serialized ``LogLeaf`` exactly as hashed; it does not contain its own index, so
    it can be built before the writer assigns one. ``receipt`` signs the receipt once the index is
    known (it runs inside the writer's transaction and must not block). ``duplicate_of`` names the
    original leaf of a duplicate submission: the duplicate gets its own leaf and answers with the
    original receipt. ``delivers`` names the outbox row a delivery leaf settles.
    """

    leaf: bytes
    kind: str
    time: datetime
    envelope_sha256: bytes
    outcome: int
    sender: str = ""
    recipient: str = ""
    message_id: str = ""
    standard: str = ""
    standard_version: str = ""
    correlation_id: str = ""
    action: str = ""
    reason_codes: tuple[str, ...] = ()
    envelope: bytes | None = None
    payload: bytes | None = None
    receipt: Callable[[int], bytes] | None = None
    outbox: tuple[str, ...] = ()  # recipients to deliver to (step 10)
    seen: Seen | None = None
    duplicate_of: int | None = None
    delivers: int | None = None  # outbox row id settled by this delivery leaf


@dataclass(frozen=True, slots=True)
class Appended:
    """Where an entry landed: its log index, leaf hash and the receipt bytes stored with it."""

    log_index: int
    leaf_hash: bytes
    receipt: bytes | None


@dataclass(frozen=True, slots=True)
class LeafRecord:
    """A stored leaf: index, leaf bytes and the stored leaf hash (verify recomputes and compares)."""

    log_index: int
    leaf: bytes
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """The searchable side row of a leaf (message metadata, envelope, payload, receipt)."""

    log_index: int
    kind: str
    time: datetime
    sender: str
    recipient: str
    message_id: str
    standard: str
    standard_version: str
    correlation_id: str
    action: str
    outcome: int
    reason_codes: tuple[str, ...]
    envelope_sha256: bytes
    envelope: bytes | None
    payload: bytes | None
    receipt: bytes | None
    duplicate_of: int | None


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint: tree size, root hash and the signed note text."""

    size: int
    root_hash: bytes
    note: str
    time: datetime


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """An outbox row: one recipient of one accepted envelope, with its delivery state."""

    id: int
    log_index: int
    recipient: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    delivery_index: int | None
    envelope: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An operator action (replay, dead-letter, trust change) kept in the audit table."""

    id: int
    time: datetime
    actor: str
    action: str
    detail: str


# -- the console's records (search, dashboard, accounts) -------------------------------------------


@dataclass(frozen=True, slots=True)
class Cursor:
    """A keyset position in a search: results continue strictly after (time, log_index), newest first."""

    time: datetime
    log_index: int


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Filters of an exchange-log search; empty strings and None mean "any".

    ``party`` restricts to rows the node sent or received (a department user's view). ``outcome`` is
    the wire's ``Outcome`` number. ``reason`` is one reason code. ``since`` is inclusive and ``until``
    exclusive. Results are ordered newest first by (time, log_index) and continue after ``after``.
    """

    message_id: str = ""
    correlation_id: str = ""
    sender: str = ""
    recipient: str = ""
    standard: str = ""
    outcome: int | None = None
    reason: str = ""
    since: datetime | None = None
    until: datetime | None = None
    party: str = ""
    after: Cursor | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class MessageSummary:
    """A search result row: the side row of a leaf without envelope, payload and receipt."""

    log_index: int
    kind: str
    time: datetime
    sender: str
    recipient: str
    message_id: str
    standard: str
    standard_version: str
    correlation_id: str
    action: str
    outcome: int
    reason_codes: tuple[str, ...]
    envelope_sha256: bytes
    duplicate_of: int | None

    @property
    def cursor(self) -> Cursor:
        """The keyset position right after this row."""
        return Cursor(self.time, self.log_index)


@dataclass(frozen=True, slots=True)
class TrafficBucket:
    """How many rows of one (sender, standard, outcome) fell into the bucket starting at ``start``."""

    start: datetime
    sender: str
    standard: str
    outcome: int
    count: int


@dataclass(frozen=True, slots=True)
class User:
    """A console account. ``role`` is operator | auditor | department; ``node`` names a department's node.

    ``password_hash`` is the self-describing scrypt string of `gateway.console.auth`, never a password.
    """

    username: str
    role: str
    node: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """A console login: stored by the SHA-256 of its random token, with its CSRF token and expiry."""

    token_sha256: bytes
    username: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime


class Store(Protocol):
    """The async storage interface of one gateway node (DESIGN §9)."""

    hasher: TreeHash
    """The log's hash profile: `open` checks it against the one recorded when the log was created."""

    async def open(self) -> None:
        """Open the store and apply pending schema migrations."""

    async def close(self) -> None:
        """Finish in-flight work and release the store."""

    async def probe_write(self) -> None:
        """Commit a write that changes no value; StorageError when the store cannot write (disk full…)."""

    # -- the log ---------------------------------------------------------------------------------
    async def append(self, entries: Sequence[Entry]) -> list[Appended]:
        """Append entries in order, each atomically with its side rows; return where each landed.

        All land or none does. EntryRefused when an entry fails `check_entry` or its receipt cannot be
        issued (nothing written); StorageError when the store cannot write.
        """

    async def size(self) -> int:
        """The number of leaves in the log."""

    async def leaves(self, start: int, end: int) -> list[LeafRecord]:
        """Leaves with ``start <= index < end``, in index order."""

    async def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Stored hashes of complete subtrees by (level, index); missing keys are absent."""

    async def root(self, size: int) -> bytes:
        """The RFC 6962 root hash of the first ``size`` leaves, from stored nodes."""

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves (O(log n) reads)."""

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The consistency proof between tree sizes ``first`` and ``second``."""

    # -- messages --------------------------------------------------------------------------------
    async def message(self, log_index: int) -> MessageRecord | None:
        """The side row of a leaf, or None."""

    async def messages(self, start: int, end: int) -> list[MessageRecord]:
        """The side rows of leaves ``start <= index < end``, in index order (for audits and exports)."""

    async def side_rows(self, start: int, end: int) -> SideRows:
        """The outbox, seen and reason-index rows of leaves ``start <= index < end`` (for the audit)."""

    async def stray_rows(self, size: int) -> dict[str, int]:
        """Per log table, how many rows name no leaf of a log of ``size`` leaves (the audit's insert check).

        Counts rows of leaves, messages, outbox, seen and message_reasons whose index is negative or
        at least ``size``, and nodes that are not complete subtrees of a tree of ``size`` leaves.
        """

    async def find_original(self, envelope_sha256: bytes) -> MessageRecord | None:
        """The earlier submission with these exact envelope bytes whose message id was consumed."""

    async def find_seen(self, sender: str, message_id: str) -> MessageRecord | None:
        """The submission that consumed (sender, message_id), or None."""

    async def find_messages(
        self, *, message_id: str = "", correlation_id: str = "", sender: str = ""
    ) -> list[MessageRecord]:
        """Rows by message id (optionally one sender's) or by correlation id, in log order."""

    async def seen_since(self, now: datetime) -> list[Seen]:
        """Remembered (sender, message_id) pairs still within their replay window at ``now``."""

    # -- checkpoints -----------------------------------------------------------------------------
    async def save_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint, refused unless it is the log's root at its size and exceeds the latest.

        The check runs under the writer's lock, so replicas sharing a database never store two
        inconsistent checkpoints.
        """

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size, or None."""

    async def checkpoint(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint of exactly ``size``, or None."""

    async def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, by size."""

    # -- outbox (step 10 writes it with the leaf; the delivery worker drains it) -----------------
    async def claim_due(
        self, *, now: datetime, limit: int, lease_seconds: float, worker: str
    ) -> list[OutboxItem]:
        """Claim up to ``limit`` rows due at ``now`` for ``lease_seconds`` (with envelopes).

        Only the oldest pending row of each (sender, recipient) channel can be claimed, so a channel
        is delivered in order; a dead row no longer holds its channel back.
        """

    async def mark_failed(self, item_id: int, *, error: str, next_attempt_at: datetime) -> None:
        """Record a failed attempt and when to try again."""

    async def dead_letter(self, item_id: int, *, error: str, now: datetime) -> None:
        """Give up on a row: it stays listed as dead until an operator replays it."""

    async def outbox(self, *, state: str | None = None, limit: int = 100) -> list[OutboxItem]:
        """Outbox rows, optionally of one state, oldest first."""

    async def replay(self, item_id: int, *, now: datetime, actor: str) -> None:
        """Put a dead or delivered row back to pending (due now) and audit who did it."""

    # -- audit -----------------------------------------------------------------------------------
    async def audit(self, *, now: datetime, actor: str, action: str, detail: str) -> None:
        """Record an operator action."""

    async def audit_entries(self, *, limit: int = 100) -> list[AuditEntry]:
        """The latest operator actions, newest first."""

    # -- console: search and dashboard -----------------------------------------------------------
    async def search_messages(self, query: MessageQuery) -> list[MessageSummary]:
        """Up to ``query.limit`` rows matching every filter, newest first, after ``query.after``."""

    async def traffic(self, *, since: datetime, until: datetime, bucket_seconds: int) -> list[TrafficBucket]:
        """Submission counts in ``[since, until)`` per time bucket, sender, standard and outcome."""

    async def outbox_counts(self) -> dict[str, int]:
        """The number of outbox rows in each state."""

    async def outbox_of(self, log_index: int) -> list[OutboxItem]:
        """The outbox rows (delivery attempts) of one log entry, by id."""

    async def outbox_item(self, item_id: int) -> OutboxItem | None:
        """One outbox row, or None."""

    async def lifecycle_messages(self, *, since: datetime) -> list[MessageSummary]:
        """Accepted rows with a lifecycle action (dispatch, claim…) at or after ``since``, oldest first."""

    # -- console: accounts and sessions (user changes are audited in the same transaction) -------
    async def add_user(self, user: User, *, now: datetime, actor: str) -> None:
        """Create an account; StorageError when the username is taken."""

    async def set_password(self, username: str, password_hash: str, *, now: datetime, actor: str) -> None:
        """Replace an account's password hash and end its sessions; StorageError when it does not exist."""

    async def remove_user(self, username: str, *, now: datetime, actor: str) -> None:
        """Delete an account and its sessions; StorageError when it does not exist."""

    async def user(self, username: str) -> User | None:
        """One account, or None."""

    async def users(self) -> list[User]:
        """Every account, by username."""

    async def create_session(self, session: Session) -> None:
        """Store a new login session."""

    async def session(self, token_sha256: bytes, *, now: datetime) -> Session | None:
        """The session with this token digest if it has not expired at ``now``, else None."""

    async def delete_session(self, token_sha256: bytes) -> None:
        """End a session (logout); nothing happens when it is unknown."""

    async def purge_sessions(self, *, now: datetime) -> int:
        """Delete sessions expired at ``now``; return how many."""
