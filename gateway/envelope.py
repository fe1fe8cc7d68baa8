"""Signed envelopes on the wire (DESIGN §3): seal a body, and open one without trusting it first.

Opening follows "verify before parse": the signature is checked over PAE(payload_type, body) with the
key and algorithm the trust configuration registers for the key id, and only then is the body parsed
as a `Message`. The body is never re-serialized; digests are taken over the exact bytes received.
Pure: no I/O, and the time is passed in.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from google.protobuf.message import DecodeError

from gateway.dsse import MESSAGE_TYPE, pae
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

__all__ = [
    "DEFAULT_MAX_ENVELOPE",
    "Opened",
    "Read",
    "check_message_fields",
    "check_sender",
    "envelope_digest",
    "open_message",
    "parse_envelope",
    "read_message",
    "seal",
    "seal_message",
    "verify_signatures",
]

DEFAULT_MAX_ENVELOPE: Final = 1 << 20
NODE_ID: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MESSAGE_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
STANDARD_ID: Final = re.compile(r"SC-[0-9]{2}")
SEMVER: Final = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
BATCH_ID: Final = re.compile(r"[0-9]{8}[0-9]{5}")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
ACTIONS: Final = frozenset({"", "dispatch", "claim", "feedback", "close", "return"})
# When several signatures fail, the most telling reason is reported.
_PRECEDENCE: Final = (
    ReasonCode.SIGNATURE_INVALID,
    ReasonCode.ALGORITHM_MISMATCH,
    ReasonCode.KEY_REVOKED,
    ReasonCode.KEY_NOT_VALID,
    ReasonCode.KEY_UNKNOWN,
)


@dataclass(frozen=True, slots=True)
class Read:
    """A verified envelope's parsed, field-checked message and every (node id, key id) that signed it."""

    message: exchange_pb2.Message
    signers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Opened:
    """A verified envelope: the parsed message and who signed it."""

    message: exchange_pb2.Message
    signer: str
    key_id: str


def seal(body: bytes, payload_type: str, keys: Sequence[PrivateKey]) -> exchange_pb2.Envelope:
    """An envelope carrying `body` exactly, signed by each of `keys` over PAE(payload_type, body)."""
    signed = pae(payload_type, body)
    return exchange_pb2.Envelope(
        body=body,
        payload_type=payload_type,
        signatures=[exchange_pb2.Signature(key_id=k.key_id, sig=k.sign(signed)) for k in keys],
    )


def seal_message(message: exchange_pb2.Message, key: PrivateKey) -> exchange_pb2.Envelope:
    """Serialize `message` once and seal those bytes."""
    return seal(message.SerializeToString(), MESSAGE_TYPE, [key])


def envelope_digest(data: bytes) -> bytes:
    """SHA-256 of the exact serialized envelope bytes (what receipts and log leaves commit to)."""
    return hashlib.sha256(data).digest()


def parse_envelope(data: bytes, *, max_size: int = DEFAULT_MAX_ENVELOPE) -> exchange_pb2.Envelope:
    """Parse envelope bytes; TOO_LARGE over `max_size`, MALFORMED when they are not an Envelope."""
    if len(data) > max_size:
        raise VerificationError(ReasonCode.TOO_LARGE, f"{len(data)} bytes > limit {max_size}")
    envelope = exchange_pb2.Envelope()
    try:
        envelope.ParseFromString(data)
    except (DecodeError, ValueError, RecursionError):
        raise VerificationError(ReasonCode.MALFORMED, "not a serialized Envelope") from None
    if not envelope.payload_type:
        raise VerificationError(ReasonCode.MALFORMED, "envelope has no payload_type")
    return envelope


def verify_signatures(
    envelope: exchange_pb2.Envelope, trust: TrustConfig, *, now: datetime
) -> list[tuple[str, str]]:
    """The (node id, key id) of every valid signature; raises with the most telling reason if none is."""
    if not envelope.signatures:
        raise VerificationError(ReasonCode.SIGNATURE_MISSING)
    signed = pae(envelope.payload_type, envelope.body)
    valid: list[tuple[str, str]] = []
    failures: list[ReasonCode] = []
    for signature in envelope.signatures:
        try:
            node, record = trust.key(signature.key_id)
        except VerificationError as exc:
            failures.append(exc.reason)
            continue
        if record.revoked:
            failures.append(ReasonCode.KEY_REVOKED)
        elif not record.valid_at(now):
            failures.append(ReasonCode.KEY_NOT_VALID)
        elif not record.public_key.fits(signature.sig):
            failures.append(ReasonCode.ALGORITHM_MISMATCH)
        elif record.public_key.verify(signature.sig, signed):
            valid.append((node.node_id, record.key_id))
        else:
            failures.append(ReasonCode.SIGNATURE_INVALID)
    if not valid:
        reason = next(r for r in _PRECEDENCE if r in failures)
        raise VerificationError(reason, f"{len(envelope.signatures)} signature(s), none valid")
    return valid


def check_message_fields(message: exchange_pb2.Message) -> None:
    """MALFORMED unless every header field of `message` is present and within its limits (docs/wire.md §4)."""
    problems: list[str] = []
    if not MESSAGE_ID.fullmatch(message.message_id):
        problems.append("message_id must be 1-64 characters of [A-Za-z0-9._:-]")
    for name in ("sender", "recipient"):
        if not NODE_ID.fullmatch(getattr(message, name)):
            problems.append(f"{name} is not a node id")
    if not STANDARD_ID.fullmatch(message.standard):
        problems.append("standard must look like SC-06")
    if not SEMVER.fullmatch(message.standard_version):
        problems.append("standard_version must be a semantic version such as 1.0.0")
    if message.operation == exchange_pb2.OPERATION_UNSPECIFIED or not exchange_pb2.Operation.Name(
        message.operation
    ):
        problems.append("operation is required")
    if not 1 <= len(message.business_key) <= 128:
        problems.append("business_key must be 1-128 characters")
    if message.batch_id and not BATCH_ID.fullmatch(message.batch_id):
        problems.append("batch_id must be YYYYMMDD followed by a 5-digit run number")
    if len(message.correlation_id) > 128 or len(message.in_reply_to) > 64:
        problems.append("correlation_id is at most 128 and in_reply_to at most 64 characters")
    ids = (message.business_key, message.correlation_id, message.in_reply_to)
    if any(_CONTROL.search(text) for text in ids):
        # Ids are stored, searched and logged as text: NUL and other control characters have no place.
        problems.append("business_key, correlation_id and in_reply_to must not contain control characters")
    if message.action not in ACTIONS:
        problems.append(f"action must be one of {sorted(ACTIONS - {''})} or empty")
    if not message.HasField("issued_at") or not message.HasField("expires_at"):
        problems.append("issued_at and expires_at are required")
    elif message.expires_at.ToNanoseconds() <= message.issued_at.ToNanoseconds():
        problems.append("expires_at must be after issued_at")
    if problems:
        raise VerificationError(ReasonCode.MALFORMED, "; ".join(problems))


def read_message(envelope: exchange_pb2.Envelope, trust: TrustConfig, *, now: datetime) -> Read:
    """Steps 3–5 up to the body's own checks: verify `envelope`, then parse and check its `Message`.

    Raises `VerificationError` (steps 3–4 codes, or MALFORMED) while the body is not yet known; the
    sender checks that need the parsed body are `check_sender`'s, so a caller can still name the body.
    """
    # (a) Only message envelopes are opened here; the type is authenticated by the signature.
    if envelope.payload_type != MESSAGE_TYPE:
        raise VerificationError(ReasonCode.PAYLOAD_TYPE_UNKNOWN, repr(envelope.payload_type[:80]))
    # (b) Signatures over the exact body bytes, with keys and algorithms from the trust configuration.
    signers = verify_signatures(envelope, trust, now=now)
    # (c) Only now parse the body.
    message = exchange_pb2.Message()
    try:
        message.ParseFromString(envelope.body)
    except (DecodeError, ValueError, RecursionError):
        raise VerificationError(ReasonCode.MALFORMED, "body is not a serialized Message") from None
    check_message_fields(message)
    return Read(message, tuple(signers))


def check_sender(read: Read, trust: TrustConfig) -> Opened:
    """Step 5 on the sender: SENDER_UNKNOWN unless it is a node, SENDER_KEY_MISMATCH unless it signed."""
    message = read.message
    if message.sender not in trust.nodes:
        raise VerificationError(ReasonCode.SENDER_UNKNOWN, f"sender {message.sender!r}")
    for node_id, key_id in read.signers:
        if node_id == message.sender:
            return Opened(message, node_id, key_id)
    raise VerificationError(
        ReasonCode.SENDER_KEY_MISMATCH, f"signed by {read.signers[0][0]}, sender says {message.sender!r}"
    )


def open_message(envelope: exchange_pb2.Envelope, trust: TrustConfig, *, now: datetime) -> Opened:
    """Verify `envelope` against `trust`, then parse and check its `Message`; `VerificationError` if not."""
    return check_sender(read_message(envelope, trust, now=now), trust)
