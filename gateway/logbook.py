"""What the exchange log records, and who signs its checkpoints (DESIGN §5). Pure: no I/O.

A leaf is a serialized ``LogLeaf``: time, kind, sender, recipient, message id, standard, SHA-256 of the
exact envelope bytes, outcome and reason codes. It is small and rebuildable by an auditor; payloads are
stored beside the log. A version-2 leaf (`bind_side_rows`) also commits to what every row stored beside
it must hold (the action, whether the envelope is kept, the payload's digest, the outbox recipients, the
replay window, the duplicate's original, a receipt that existed before the leaf), so that the audit
detects an edit of any of them. Checkpoints are C2SP signed notes by the node's signing key, whose
origin names the node's log and declares its hash profile (sha256 or sm3, `gateway.treehash`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from google.protobuf.message import DecodeError

from gateway.checkpoint import Checkpoint, CheckpointError, NoteVerifier, sign_checkpoint, verify_checkpoint
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import PrivateKey, PublicKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.storage.base import Entry
from gateway.treehash import SHA256, SM3, TreeHash

__all__ = [
    "LEAF_VERSION",
    "LogSigner",
    "bind_side_rows",
    "build_leaf",
    "check_declared_profile",
    "log_origin",
    "log_verifier",
    "origin_profile",
    "parse_leaf",
    "verify_log_checkpoint",
    "verify_origin_checkpoint",
]

LEAF_VERSION = 2  # 1: written before the side rows were bound (still read and audited)


_ORIGIN_PREFIXES: dict[str, TreeHash] = {"jgx.exchange-log/": SHA256, "jgx.exchange-log-sm3/": SM3}


def log_origin(node_id: str, hasher: TreeHash = SHA256) -> str:
    """The checkpoint origin line of ``node_id``'s exchange log: it declares the log's hash profile.

    ``jgx.exchange-log/NODE`` for sha256 (RFC 6962), ``jgx.exchange-log-sm3/NODE`` for sm3.
    """
    prefix = next(p for p, h in _ORIGIN_PREFIXES.items() if h is hasher)
    return f"{prefix}{node_id}"


def origin_profile(origin: str) -> TreeHash | None:
    """The hash profile a jgx log origin declares; None when ``origin`` is not a jgx log's."""
    return next((h for p, h in _ORIGIN_PREFIXES.items() if origin.startswith(p)), None)


def verify_log_checkpoint(
    note: str | bytes, node_id: str, hasher: TreeHash, verifiers: Sequence[NoteVerifier | str]
) -> Checkpoint:
    """Verify a checkpoint of ``node_id``'s log built with ``hasher``; a note declaring another profile
    is refused as ``hash_profile_mismatch`` before anything else (its trees cannot be checked here)."""
    check_declared_profile(note, hasher)
    return verify_checkpoint(note, log_origin(node_id, hasher), verifiers)


def verify_origin_checkpoint(
    note: str | bytes, origin: str, verifiers: Sequence[NoteVerifier | str]
) -> Checkpoint:
    """`verify_checkpoint` for a jgx log ``origin``, refusing first (``hash_profile_mismatch``) a note
    whose origin declares another hash profile than ``origin`` does."""
    check_declared_profile(note, origin_profile(origin) or SHA256)
    return verify_checkpoint(note, origin, verifiers)


def check_declared_profile(note: str | bytes, hasher: TreeHash) -> None:
    """CheckpointError ``hash_profile_mismatch`` when the note's origin declares a profile not ``hasher``.

    Read before the signatures are checked, only to say clearly why the note is refused: a verifier
    cannot check a tree built with another hash.
    """
    text = note.decode("utf-8", errors="replace") if isinstance(note, bytes) else note
    declared = origin_profile(text.split("\n", 1)[0])
    if declared is not None and declared is not hasher:
        raise CheckpointError(
            "hash_profile_mismatch",
            f"检查点声明的日志哈希方案为 {declared.name}，校验方使用 {hasher.name} / the checkpoint declares "
            f"log hash profile {declared.name}, this verifier uses {hasher.name}",
        )


def build_leaf(
    *,
    time: datetime,
    kind: str,
    envelope_sha256: bytes,
    envelope_sm3: bytes | None = None,
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
    if envelope_sm3 is not None:  # the sm3 profile (docs/exchange-log.md "Hash profile")
        leaf.envelope_sm3 = envelope_sm3
    leaf.time.FromDatetime(time)
    if message is not None:
        leaf.sender = message.sender
        leaf.recipient = message.recipient
        leaf.message_id = message.message_id
        leaf.standard = message.standard
        leaf.standard_version = message.standard_version
        leaf.correlation_id = message.correlation_id
    return leaf.SerializeToString(deterministic=True)


def bind_side_rows(entry: Entry, *, hasher: TreeHash = SHA256, receipt: bytes | None = None) -> Entry:
    """``entry`` with a version-2 leaf that commits to every row the store writes beside it.

    ``receipt`` is the receipt to be stored when it exists before the leaf (a duplicate's original
    receipt, a recipient's receipt of a delivery); a receipt this node signs once the index is known
    cannot be hashed into the leaf, and the audit verifies its signature and fields instead. Under the
    sm3 profile the payload and receipt digests are SM3 (``payload_sm3``, ``receipt_sm3``).
    """
    leaf = parse_leaf(entry.leaf)
    leaf.version = LEAF_VERSION
    leaf.action = entry.action
    leaf.envelope_stored = entry.envelope is not None
    sm3 = hasher is SM3
    if entry.payload is not None:
        if sm3:
            leaf.payload_sm3 = hasher.digest(entry.payload)
        else:
            leaf.payload_sha256 = hashlib.sha256(entry.payload).digest()
    if entry.duplicate_of is not None:
        leaf.duplicate_of = entry.duplicate_of
    if receipt is not None:
        if sm3:
            leaf.receipt_sm3 = hasher.digest(receipt)
        else:
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


def log_verifier(node_id: str, public_key: PublicKey, hasher: TreeHash = SHA256) -> NoteVerifier:
    """The signed-note verifier of ``node_id``'s log for its public key (from the trust configuration)."""
    return NoteVerifier.from_public_key(log_origin(node_id, hasher), public_key)


@dataclass(frozen=True)
class LogSigner:
    """Signs checkpoints of one node's log with its signing key (Ed25519, ECDSA P-256 or SM2)."""

    node_id: str
    key: PrivateKey
    hasher: TreeHash

    @classmethod
    def for_key(cls, node_id: str, key: PrivateKey, hasher: TreeHash) -> LogSigner:
        """A signer from the node's signing key, for a log of hash profile ``hasher``."""
        return cls(node_id, key, hasher)

    @property
    def origin(self) -> str:
        """The origin line of the checkpoints this signer signs."""
        return log_origin(self.node_id, self.hasher)

    def sign(self, size: int, root_hash: bytes) -> str:
        """The signed note of the checkpoint (origin, size, root_hash)."""
        return sign_checkpoint(Checkpoint(self.origin, size, root_hash), self.origin, self.key)

    def verify(self, note: str) -> Checkpoint:
        """Verify a note this signer signed; return the checkpoint it carries."""
        verifier = log_verifier(self.node_id, self.key.public_key, self.hasher)
        return verify_log_checkpoint(note, self.node_id, self.hasher, [verifier])
