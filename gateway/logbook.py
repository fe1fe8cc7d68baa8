"""What the exchange log records, and who signs its checkpoints (DESIGN §5). Pure: no I/O.

A leaf is a serialized ``LogLeaf``: time, kind, sender, recipient, message id, standard, SHA-256 of the
exact envelope bytes, outcome and reason codes. It is small and rebuildable by an auditor; payloads are
stored beside the log. A version-2 leaf (`bind_side_rows`) also commits to what every row stored beside
it must hold (the action, whether the envelope is kept, the payload's digest, the outbox recipients, the
replay window, the duplicate's original, a receipt that existed before the leaf), so that the audit
detects an edit of any of them. Checkpoints are C2SP signed notes by the node's signing key, whose
origin names the node's log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from google.protobuf.message import DecodeError

from gateway.checkpoint import Checkpoint, NoteVerifier, sign_checkpoint, verify_checkpoint
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import PrivateKey, PublicKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.storage.base import Entry

__all__ = [
    "LEAF_VERSION",
    "LogSigner",
    "bind_side_rows",
    "build_leaf",
    "log_origin",
    "log_verifier",
    "parse_leaf",
]

LEAF_VERSION = 2  # 1: written before the side rows were bound (still read and audited)


def log_origin(node_id: str) -> str:
    """The checkpoint origin line of ``node_id``'s exchange log."""
    return f"jgx.exchange-log/{node_id}"


def build_leaf(
    *,
    time: datetime,
    kind: str,
    envelope_sha256: bytes,
    outcome: exchange_pb2.Outcome.ValueType,
    reason_codes: Sequence[str] = (),
    message: exchange_pb2.Message | None = None,
    payload_type: str = "",
) -> bytes:
    """The leaf bytes for one event; message fields are copied when the body was parsed."""
    leaf = exchange_pb2.LogLeaf(
        version=1,  # bind_side_rows makes it version 2
        kind=kind,
        payload_type=payload_type,
        envelope_sha256=envelope_sha256,
        outcome=outcome,
        reason_codes=list(reason_codes),
    )
    leaf.time.FromDatetime(time)
    if message is not None:
        leaf.sender = message.sender
        leaf.recipient = message.recipient
        leaf.message_id = message.message_id
        leaf.standard = message.standard
        leaf.standard_version = message.standard_version
        leaf.correlation_id = message.correlation_id
    return leaf.SerializeToString(deterministic=True)


def bind_side_rows(entry: Entry, *, receipt: bytes | None = None) -> Entry:
    """``entry`` with a version-2 leaf that commits to every row the store writes beside it.

    ``receipt`` is the receipt to be stored when it exists before the leaf (a duplicate's original
    receipt, a recipient's receipt of a delivery); a receipt this node signs once the index is known
    cannot be hashed into the leaf, and the audit verifies its signature and fields instead.
    """
    leaf = parse_leaf(entry.leaf)
    leaf.version = LEAF_VERSION
    leaf.action = entry.action
    leaf.envelope_stored = entry.envelope is not None
    if entry.payload is not None:
        leaf.payload_sha256 = hashlib.sha256(entry.payload).digest()
    if entry.duplicate_of is not None:
        leaf.duplicate_of = entry.duplicate_of
    if receipt is not None:
        leaf.receipt_sha256 = hashlib.sha256(receipt).digest()
    leaf.outbox_recipients.extend(entry.outbox)
    if entry.seen is not None:
        leaf.replay_until.FromDatetime(entry.seen.until)
    if entry.delivers is not None:
        leaf.delivers_outbox_id = entry.delivers
    return replace(entry, leaf=leaf.SerializeToString(deterministic=True))


def parse_leaf(data: bytes) -> exchange_pb2.LogLeaf:
    """A stored leaf back as a ``LogLeaf``; MALFORMED when the bytes are not one."""
    leaf = exchange_pb2.LogLeaf()
    try:
        leaf.ParseFromString(data)
    except (DecodeError, ValueError, RecursionError) as exc:
        raise VerificationError(ReasonCode.MALFORMED, f"not a LogLeaf: {exc}") from None
    return leaf


def log_verifier(node_id: str, public_key: PublicKey) -> NoteVerifier:
    """The signed-note verifier of ``node_id``'s log for its public key (from the trust configuration)."""
    return NoteVerifier.from_public_key(log_origin(node_id), public_key)


@dataclass(frozen=True)
class LogSigner:
    """Signs checkpoints of one node's log with its signing key (Ed25519, ECDSA P-256 or SM2)."""

    node_id: str
    key: PrivateKey

    @classmethod
    def for_key(cls, node_id: str, key: PrivateKey) -> LogSigner:
        """A signer from the node's signing key."""
        return cls(node_id, key)

    @property
    def origin(self) -> str:
        """The origin line of the checkpoints this signer signs."""
        return log_origin(self.node_id)

    def sign(self, size: int, root_hash: bytes) -> str:
        """The signed note of the checkpoint (origin, size, root_hash)."""
        return sign_checkpoint(Checkpoint(self.origin, size, root_hash), self.origin, self.key)

    def verify(self, note: str) -> Checkpoint:
        """Verify a note this signer signed; return the checkpoint it carries."""
        return verify_checkpoint(note, self.origin, [log_verifier(self.node_id, self.key.public_key)])
