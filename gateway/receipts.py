"""回执 (receipts): a node's signed verdict on one envelope, verifiable offline (DESIGN §3).

A receipt is a `Receipt` protobuf sealed in an envelope of its own payload type, so it can never be
mistaken for a message. It binds the SHA-256 of the exact envelope bytes received, the outcome, the
reason codes and findings, and the log index. Anyone holding the trust configuration verifies it with
the issuer's registered key. Per-message signing was chosen over checkpoint-batched receipts: one
Ed25519 signature costs tens of microseconds (bench/README.md), and a receipt that stands alone needs
no second round trip for an inclusion proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from google.protobuf.message import DecodeError

from gateway.dsse import RECEIPT_TYPE
from gateway.envelope import seal, verify_signatures
from gateway.errors import CATALOGUE, Answer, ReasonCode, VerificationError
from gateway.keys import PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

__all__ = [
    "FindingLike",
    "carries_findings",
    "finding_to_proto",
    "issue_receipt",
    "names_message",
    "receipt_fields_table",
    "verify_receipt",
]


class FindingLike(Protocol):
    """Anything shaped like a validation finding (`standards.Finding` is one)."""

    @property
    def rule_id(self) -> str: ...
    @property
    def clause(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def pointer(self) -> str: ...
    @property
    def message_zh(self) -> str: ...
    @property
    def message_en(self) -> str: ...


def names_message(code: ReasonCode, step: int) -> bool:
    """True when a receipt refusing with `code` at `step` (docs/wire.md §7) names the receipted message.

    The receipt's ``message_id``, ``sender`` and ``recipient`` are copied from the body exactly when
    the body was verified, parsed and passed its field checks: for every code decided after that in
    step 5 (SENDER_UNKNOWN, SENDER_KEY_MISMATCH, IDENTITY_MISMATCH) and at steps 6–8. Before that
    (steps 3–4, and MALFORMED at step 5) the body is unknown or unusable, and the three are empty.
    """
    return step >= 6 or (step == 5 and code != ReasonCode.MALFORMED)


def carries_findings(code: ReasonCode, step: int) -> bool:
    """True when a receipt refusing with `code` at `step` lists validation findings (payload judged)."""
    return step == 8 and code in _JUDGED


_JUDGED = frozenset({ReasonCode.MALFORMED, ReasonCode.SCHEMA_INVALID, ReasonCode.RULE_VIOLATION})


def receipt_fields_table() -> str:
    """docs/wire.md §8's table of what each receipt carries, rendered from `CATALOGUE` and `names_message`."""
    lines = [
        "| outcome: code (step) | message_id, sender, recipient | findings |",
        "|---|---|---|",
        "| ACCEPTED | from the body | warnings and infos of step 8, if any |",
    ]
    for reason in CATALOGUE.values():
        for arising in reason.arises:
            if arising.answer is not Answer.RECEIPT or arising.step is None:
                continue
            named = "from the body" if names_message(reason.code, arising.step) else "empty"
            judged = carries_findings(reason.code, arising.step)
            findings = "the error findings, and any others" if judged else "none"
            lines.append(f"| REJECTED: `{reason.code.value}` ({arising.step}) | {named} | {findings} |")
    return "\n".join(lines) + "\n"


def finding_to_proto(finding: FindingLike) -> exchange_pb2.Finding:
    """The wire form of a finding."""
    return exchange_pb2.Finding(
        rule_id=finding.rule_id,
        clause=finding.clause,
        severity=finding.severity,
        pointer=finding.pointer,
        message_zh=finding.message_zh,
        message_en=finding.message_en,
    )


def issue_receipt(
    *,
    issuer: str,
    key: PrivateKey,
    envelope_sha256: bytes,
    message_id: str,
    sender: str,
    recipient: str,
    outcome: exchange_pb2.Outcome.ValueType,
    reason_codes: Sequence[str],
    findings: Sequence[FindingLike],
    log_index: int,
    now: datetime,
) -> exchange_pb2.Envelope:
    """A receipt envelope signed by `issuer`'s `key`."""
    receipt = exchange_pb2.Receipt(
        message_id=message_id,
        sender=sender,
        issuer=issuer,
        recipient=recipient,
        envelope_sha256=envelope_sha256,
        outcome=outcome,
        reason_codes=list(reason_codes),
        findings=[finding_to_proto(f) for f in findings],
        log_index=log_index,
    )
    receipt.issued_at.FromDatetime(now)
    return seal(receipt.SerializeToString(), RECEIPT_TYPE, [key])


def verify_receipt(
    envelope: exchange_pb2.Envelope,
    trust: TrustConfig,
    *,
    issuer: str,
    now: datetime,
    envelope_sha256: bytes | None = None,
) -> exchange_pb2.Receipt:
    """Verify a receipt from `issuer` (for `envelope_sha256` if given); RECEIPT_INVALID if not."""
    if envelope.payload_type != RECEIPT_TYPE:
        raise VerificationError(ReasonCode.RECEIPT_INVALID, f"payload type {envelope.payload_type[:80]!r}")
    try:
        signers = verify_signatures(envelope, trust, now=now)
    except VerificationError as exc:
        raise VerificationError(ReasonCode.RECEIPT_INVALID, f"{exc.reason.value}: {exc.detail}") from None
    if issuer not in {node for node, _ in signers}:
        raise VerificationError(ReasonCode.RECEIPT_INVALID, f"not signed by {issuer}")
    receipt = exchange_pb2.Receipt()
    try:
        receipt.ParseFromString(envelope.body)
    except (DecodeError, ValueError, RecursionError):
        raise VerificationError(ReasonCode.RECEIPT_INVALID, "body is not a Receipt") from None
    if receipt.issuer != issuer:
        raise VerificationError(ReasonCode.RECEIPT_INVALID, f"issuer field says {receipt.issuer!r}")
    if envelope_sha256 is not None and receipt.envelope_sha256 != envelope_sha256:
        raise VerificationError(ReasonCode.RECEIPT_INVALID, "the receipt is for another envelope")
    return receipt
