"""The audit of the rows stored beside each leaf: messages, outbox, seen and the reason index.

A version-2 leaf (`gateway.logbook.bind_side_rows`) commits to what those rows must hold; this module
compares every stored column with the leaf and names the leaf and the column of each difference:

- ``messages``: every header column equals the leaf's field; ``envelope`` is present exactly when the
  leaf says it is kept and hashes to the leaf's digest; ``payload`` hashes to the leaf's payload digest
  (NULL exactly when the leaf has none); ``duplicate_of`` is the leaf's; ``receipt`` hashes to the
  leaf's receipt digest, or, for a receipt this node signed after the index was assigned, carries a
  valid signature by one of the node's keys and the leaf's digest, header, outcome, reasons, time
  and index;
- ``outbox``: the rows of a leaf are its outbox recipients, in order; row ids grow with the log; a
  delivered row names a delivery leaf that settled exactly this row;
- ``seen``: a leaf has a seen row exactly when it consumed its id, with its sender, id, digest and
  replay window;
- ``message_reasons``: the rows of a leaf are its reason codes at its time.

Version-1 leaves (written before the binding) are audited for what they carry: header, envelope hash,
receipt signature, reason index; their payload, action, outbox and seen rows are counted as unbound.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TypeVar

from google.protobuf.message import DecodeError

from gateway.dsse import RECEIPT_TYPE, pae
from gateway.errors import JgxError
from gateway.keys import PublicKey
from gateway.logbook import parse_leaf
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.storage import MessageRecord, OutboxState
from gateway.storage.side_rows import OutboxRow, ReasonRow, SeenRow
from gateway.storage.sqlite_rows import us
from gateway.treehash import SM3, TreeHash

__all__ = ["SideRowAudit", "by_index"]

_Row = TypeVar("_Row", OutboxRow, SeenRow, ReasonRow)

_Digest = Literal["payload_sha256", "receipt_sha256", "envelope_sm3", "payload_sm3", "receipt_sm3"]
_HEADER = ("kind", "sender", "recipient", "message_id", "standard", "standard_version", "correlation_id")


def by_index(rows: Iterable[_Row]) -> dict[int, list[_Row]]:
    """Rows grouped by the leaf (log index) they belong to, in their stored order."""
    grouped: dict[int, list[_Row]] = {}
    for row in rows:
        grouped.setdefault(row.log_index, []).append(row)
    return grouped


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class SideRowAudit:
    """Checks the stored rows of each leaf, in log order; ``problem(zh, en)`` records each difference."""

    def __init__(
        self,
        node_id: str,
        receipt_keys: Mapping[str, PublicKey] | None,
        problem: Callable[[str, str], None],
        hasher: TreeHash,
    ) -> None:
        """Audit ``node_id``'s rows; its receipts are verified with ``receipt_keys`` (by key id).

        ``hasher`` is the log's hash profile: under sm3 the leaf's content digests are SM3
        (``envelope_sm3`` beside ``envelope_sha256``, ``payload_sm3``, ``receipt_sm3``), under sha256
        those fields are absent and ``payload_sha256`` / ``receipt_sha256`` are used.
        """
        self.node_id = node_id
        self.hasher = hasher
        self._sm3 = hasher is SM3
        self._digest = hasher.digest if self._sm3 else _sha
        self._payload: _Digest = "payload_sm3" if self._sm3 else "payload_sha256"
        self._receipt_digest: _Digest = "receipt_sm3" if self._sm3 else "receipt_sha256"
        self.receipt_keys = receipt_keys
        self.problem = problem
        self.unbound = 0  # version-1 leaves: payload, action, outbox and seen rows not bound
        self._last_outbox_id = 0

    def _column(
        self, index: int, column: str, zh: str = "与叶子不符", en: str = "differs from the leaf"
    ) -> None:
        self.problem(f"叶子 {index}: {column} {zh}", f"leaf {index}: {column} {en}")

    def check(
        self,
        index: int,
        leaf_bytes: bytes,
        record: MessageRecord | None,
        outbox: list[OutboxRow],
        seen: list[SeenRow],
        reasons: list[ReasonRow],
    ) -> None:
        """Compare the rows of leaf ``index`` with what the leaf commits to."""
        try:
            leaf = parse_leaf(leaf_bytes)
        except JgxError:
            self.problem(f"叶子 {index} 不是日志叶子记录", f"leaf {index}: not a LogLeaf record")
            return
        bound = leaf.version >= 2
        self.unbound += not bound
        if record is None:
            self.problem(
                f"叶子 {index} 缺少消息记录 (messages)", f"leaf {index}: its messages row is missing"
            )
        else:
            self._message(index, leaf, record, bound)
        self._outbox(index, leaf, outbox, bound)
        self._seen(index, leaf, seen, bound)
        expected = sorted({(code, leaf.time.ToMicroseconds()) for code in leaf.reason_codes})
        if sorted((row.reason, row.time_us) for row in reasons) != expected:
            self._column(index, "message_reasons")

    # -- messages --------------------------------------------------------------------------------
    def _message(self, index: int, leaf: exchange_pb2.LogLeaf, record: MessageRecord, bound: bool) -> None:
        for name in _HEADER:
            if getattr(record, name) != getattr(leaf, name):
                self._column(index, f"messages.{name}")
        if us(record.time) != leaf.time.ToMicroseconds():
            self._column(index, "messages.time_us")
        if record.outcome != leaf.outcome:
            self._column(index, "messages.outcome")
        if tuple(record.reason_codes) != tuple(leaf.reason_codes):
            self._column(index, "messages.reason_codes")
        if record.envelope_sha256 != leaf.envelope_sha256:
            self._column(index, "messages.envelope_sha256")
        if record.envelope is not None and _sha(record.envelope) != leaf.envelope_sha256:
            self._column(index, "messages.envelope", "与叶子的摘要不符", "does not hash to the leaf's digest")
        self._profile_digests(index, leaf, record)
        if not bound:
            self._receipt(index, leaf, record)
            return
        if (record.envelope is not None) != leaf.envelope_stored:
            self._column(
                index, "messages.envelope", "缺失或多余", "is missing (NULL) or should not be stored"
            )
        if record.action != leaf.action:
            self._column(index, "messages.action")
        payload = None if record.payload is None else self._digest(record.payload)
        if payload != (getattr(leaf, self._payload) if leaf.HasField(self._payload) else None):
            self._column(index, "messages.payload")
        if record.duplicate_of != (leaf.duplicate_of if leaf.HasField("duplicate_of") else None):
            self._column(index, "messages.duplicate_of")
        if leaf.HasField(self._receipt_digest):
            if record.receipt is None or self._digest(record.receipt) != getattr(leaf, self._receipt_digest):
                self._column(index, "messages.receipt")
        elif leaf.kind == "submission":
            self._receipt(index, leaf, record)
        elif record.receipt is not None:
            self._column(index, "messages.receipt")

    def _profile_digests(self, index: int, leaf: exchange_pb2.LogLeaf, record: MessageRecord) -> None:
        """The leaf's digest fields are those of the log's hash profile, and the envelope's SM3 matches."""
        other: tuple[_Digest, ...] = ("payload_sha256", "receipt_sha256")
        if not self._sm3:
            other = ("envelope_sm3", "payload_sm3", "receipt_sm3")
        for name in other:
            if leaf.HasField(name):
                self._column(index, f"LogLeaf.{name}", f"不属于 {self.hasher.name} 方案", f"is not of the "
                             f"{self.hasher.name} hash profile")  # fmt: skip
        if not self._sm3:
            return
        if len(leaf.envelope_sm3) != self.hasher.size:
            self._column(index, "LogLeaf.envelope_sm3", "缺失", "is missing")
        elif record.envelope is not None and self.hasher.digest(record.envelope) != leaf.envelope_sm3:
            self._column(
                index, "messages.envelope", "与叶子的 SM3 摘要不符", "does not hash to the leaf's SM3"
            )

    def _receipt(self, index: int, leaf: exchange_pb2.LogLeaf, record: MessageRecord) -> None:
        """A receipt this node signed once the index was known: its signature, and its fields = the leaf's."""
        if leaf.kind != "submission" or leaf.outcome == exchange_pb2.OUTCOME_DUPLICATE:
            return  # version 1: a duplicate repeats its original's receipt, a delivery stores the recipient's
        if record.receipt is None:
            self._column(index, "messages.receipt", "缺失", "is missing (NULL)")
            return
        if self.receipt_keys is None:
            return
        envelope, receipt = exchange_pb2.Envelope(), exchange_pb2.Receipt()
        try:
            envelope.ParseFromString(record.receipt)
            receipt.ParseFromString(envelope.body)
        except (DecodeError, ValueError, RecursionError):
            self._column(index, "messages.receipt", "不是回执", "is not a receipt")
            return
        signed = pae(envelope.payload_type, envelope.body)
        if envelope.payload_type != RECEIPT_TYPE or not any(
            (key := self.receipt_keys.get(s.key_id)) is not None
            and key.fits(s.sig)
            and key.verify(s.sig, signed)
            for s in envelope.signatures
        ):
            self._column(index, "messages.receipt", "签名无效", f"is not signed by {self.node_id}")
            return
        fields = (
            receipt.issuer == self.node_id,
            receipt.envelope_sha256 == leaf.envelope_sha256,
            receipt.HasField("envelope_sm3") == self._sm3 and receipt.envelope_sm3 == leaf.envelope_sm3,
            (receipt.message_id, receipt.sender, receipt.recipient)
            == (leaf.message_id, leaf.sender, leaf.recipient),
            receipt.outcome == leaf.outcome,
            tuple(receipt.reason_codes) == tuple(leaf.reason_codes),
            receipt.log_index == index,
            receipt.issued_at.ToMicroseconds() == leaf.time.ToMicroseconds(),
        )
        if not all(fields):
            self._column(
                index, "messages.receipt", "（已签名）与叶子不符", "(signed) does not match the leaf"
            )

    # -- outbox and seen -------------------------------------------------------------------------
    def _outbox(self, index: int, leaf: exchange_pb2.LogLeaf, rows: list[OutboxRow], bound: bool) -> None:
        if bound and [row.recipient for row in rows] != list(leaf.outbox_recipients):
            self._column(
                index, "outbox", "的行与叶子的收件方不符（被删除、插入或改动）",
                f"rows differ from the leaf's recipients {list(leaf.outbox_recipients)} "
                "(deleted, inserted or edited)",
            )  # fmt: skip
        for row in rows:
            if row.id <= self._last_outbox_id:
                self._column(index, f"outbox.id {row.id}", "顺序被改动", "is out of log order")
            self._last_outbox_id = max(self._last_outbox_id, row.id)
            self._settled(index, leaf, row)

    def _settled(self, index: int, leaf: exchange_pb2.LogLeaf, row: OutboxRow) -> None:
        """A delivered row names the delivery leaf that settled it; other states name none."""
        where = f"outbox row {row.id}"
        if row.state not in (OutboxState.PENDING, OutboxState.DELIVERED, OutboxState.DEAD):
            self._column(index, f"{where}.state", "未知", f"is unknown ({row.state[:40]!r})")
        if (row.state == OutboxState.DELIVERED) != (row.delivery_index is not None):
            self._column(
                index, f"{where}.delivery_index", "与状态不符", f"does not fit its state {row.state!r}"
            )
            return
        if row.delivery_index is None:
            return
        try:
            delivery = parse_leaf(row.delivery_leaf) if row.delivery_leaf is not None else None
        except JgxError:
            delivery = None
        if (
            delivery is None
            or row.delivery_index <= index
            or delivery.kind != "delivery"
            or delivery.recipient != row.recipient
            or delivery.envelope_sha256 != leaf.envelope_sha256
            or (delivery.version >= 2 and delivery.delivers_outbox_id != row.id)
        ):
            self._column(
                index,
                f"{where}.delivery_index",
                "不是结算该行的投递叶子",
                "names no delivery leaf of this row",
            )

    def _seen(self, index: int, leaf: exchange_pb2.LogLeaf, rows: list[SeenRow], bound: bool) -> None:
        identity = (leaf.sender, leaf.message_id, leaf.envelope_sha256)
        actual = [(r.sender, r.message_id, r.envelope_sha256, r.until_us) for r in rows]
        if not bound:  # version 1: whether the leaf consumed its id is not recorded, only who it was
            sound = len(rows) <= 1 and all(row[:3] == identity for row in actual)
        elif leaf.HasField("replay_until"):
            sound = actual == [(*identity, leaf.replay_until.ToMicroseconds())]
        else:
            sound = not actual
        if not sound:
            self._column(index, "seen", "的行缺失、多余或被改动", "row is missing, extra or edited")
