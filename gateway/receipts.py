"""回执 (receipts): a node's signed verdict on one envelope, verifiable offline (DESIGN §3).

A receipt is a `Receipt` protobuf sealed in an envelope of its own payload type, so it can never be
mistaken for a message. It binds the SHA-256 of the exact envelope bytes received, the outcome, the
reason codes and findings, and the log index. Anyone holding the trust configuration verifies it with
the issuer's registered key. Per-message signing was chosen over checkpoint-batched receipts: one
Ed25519 signature costs tens of microseconds (bench/README.md), and a receipt that stands alone needs
no second round trip for an inclusion proof.

Findings are bounded (`bounded_findings`): a receipt lists at most `MAX_FINDINGS` of them in at most
`MAX_FINDINGS_BYTES`, the last entry then saying how many more were omitted, so a payload with 50 000
faults still gets a receipt far below any transport limit. Every text a receipt carries is made
encodable first (`gateway._text`): a lone surrogate in a peer's payload never stops a receipt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Final, Protocol

from google.protobuf.message import DecodeError

from gateway._text import encodable
from gateway.dsse import RECEIPT_TYPE
from gateway.envelope import seal, verify_signatures
from gateway.errors import CATALOGUE, Answer, ReasonCode, VerificationError
from gateway.keys import PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.treehash import SM3
from gateway.trust import TrustConfig

__all__ = [
    "MAX_FINDINGS",
    "MAX_FINDINGS_BYTES",
    "OMITTED_RULE",
    "FindingLike",
    "bounded_findings",
    "carries_findings",
    "check_envelope_digests",
    "finding_to_proto",
    "issue_receipt",
    "names_message",
    "receipt_fields_table",
    "receipt_issuer",
    "verify_receipt",
]

#: A receipt lists at most this many findings (the last one may be the "N more omitted" entry) …
MAX_FINDINGS: Final = 100
#: … in at most this many serialized bytes, far below the 4 MiB a gRPC client accepts by default.
MAX_FINDINGS_BYTES: Final = 64 * 1024
#: The rule id of the entry that stands for the findings left out (clause SC-17 6.6, receipts).
OMITTED_RULE: Final = "SC-17.FINDINGS_OMITTED"
# Characters kept of each text field of a finding; a pointer into a 100 000-character key is cut.
_FIELD_LIMITS: Final = {"rule_id": 64, "clause": 64, "severity": 16, "pointer": 512, "message": 1024}
_SEVERITY_ORDER: Final = ("info", "warning", "error")


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
    """The wire form of a finding, every field encodable and cut to its limit."""
    limits = _FIELD_LIMITS
    return exchange_pb2.Finding(
        rule_id=encodable(str(finding.rule_id), limit=limits["rule_id"]),
        clause=encodable(str(finding.clause), limit=limits["clause"]),
        severity=encodable(str(finding.severity), limit=limits["severity"]),
        pointer=encodable(str(finding.pointer), limit=limits["pointer"]),
        message_zh=encodable(str(finding.message_zh), limit=limits["message"]),
        message_en=encodable(str(finding.message_en), limit=limits["message"]),
    )


def _omitted(findings: Sequence[FindingLike]) -> exchange_pb2.Finding:
    """The entry standing for ``findings`` left out: as severe as the worst of them."""
    severities = {str(f.severity) for f in findings}
    worst = next((s for s in reversed(_SEVERITY_ORDER) if s in severities), "info")
    count = len(findings)
    return exchange_pb2.Finding(
        rule_id=OMITTED_RULE,
        clause="SC-17 6.6",
        severity=worst,
        pointer="",
        message_zh=(
            f"另有 {count} 条发现项未列出（回执最多列出 {MAX_FINDINGS} 条、"
            f"{MAX_FINDINGS_BYTES} 字节的发现项）"
        ),
        message_en=(
            f"{count} more findings omitted (a receipt lists at most {MAX_FINDINGS} findings "
            f"in {MAX_FINDINGS_BYTES} bytes)"
        ),
    )


def bounded_findings(
    findings: Sequence[FindingLike], *, max_count: int = MAX_FINDINGS, max_bytes: int = MAX_FINDINGS_BYTES
) -> list[exchange_pb2.Finding]:
    """The wire forms of ``findings``, at most ``max_count`` entries in at most ``max_bytes`` bytes.

    When some must be left out, the last entry (`OMITTED_RULE`) says how many, with the severity of the
    worst one left out. The bound includes that entry, so bounding a bounded list changes nothing.
    """
    kept: list[exchange_pb2.Finding] = []
    used = 0
    # Room kept back for the omission entry (its size varies only with the digits of the count).
    reserve = _omitted(findings).ByteSize() + 8
    for position, finding in enumerate(findings):
        wire = finding_to_proto(finding)
        size = wire.ByteSize() + 4  # + the field tag and length prefix in the Receipt
        rest = len(findings) - position - 1
        room_count = max_count if rest == 0 else max_count - 1
        room_bytes = max_bytes if rest == 0 else max_bytes - reserve
        if len(kept) >= room_count or used + size > room_bytes:
            return [*kept, _omitted(findings[position:])]
        kept.append(wire)
        used += size
    return kept


def issue_receipt(
    *,
    issuer: str,
    key: PrivateKey,
    envelope_sha256: bytes,
    envelope_sm3: bytes | None = None,
    message_id: str,
    sender: str,
    recipient: str,
    outcome: exchange_pb2.Outcome.ValueType,
    reason_codes: Sequence[str],
    findings: Sequence[FindingLike],
    log_index: int,
    now: datetime,
) -> exchange_pb2.Envelope:
    """A receipt envelope signed by `issuer`'s `key`; its findings bounded by `bounded_findings`."""
    receipt = exchange_pb2.Receipt(
        message_id=encodable(message_id),
        sender=encodable(sender),
        issuer=issuer,
        recipient=encodable(recipient),
        envelope_sha256=envelope_sha256,
        outcome=outcome,
        reason_codes=[encodable(code) for code in reason_codes],
        findings=bounded_findings(findings),
        log_index=log_index,
    )
    if envelope_sm3 is not None:  # an issuer whose log has the sm3 profile (国密 federation)
        receipt.envelope_sm3 = envelope_sm3
    receipt.issued_at.FromDatetime(now)
    return seal(receipt.SerializeToString(), RECEIPT_TYPE, [key])


def verify_receipt(
    envelope: exchange_pb2.Envelope,
    trust: TrustConfig,
    *,
    issuer: str,
    now: datetime,
    envelope_sha256: bytes | None = None,
    sent: bytes | None = None,
) -> exchange_pb2.Receipt:
    """Verify a receipt from `issuer`; RECEIPT_INVALID if not.

    ``envelope_sha256``: the receipt must name that digest. ``sent``: the exact envelope bytes the
    receipt answers; every digest the receipt carries (``envelope_sha256``, and ``envelope_sm3`` when
    present) must be theirs.
    """
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
    if sent is not None:
        check_envelope_digests(receipt, sent)
    return receipt


def check_envelope_digests(receipt: exchange_pb2.Receipt, sent: bytes) -> None:
    """RECEIPT_INVALID unless every envelope digest ``receipt`` carries is the digest of ``sent``."""
    if receipt.envelope_sha256 != hashlib.sha256(sent).digest():
        raise VerificationError(ReasonCode.RECEIPT_INVALID, "the receipt is for another envelope (SHA-256)")
    if receipt.HasField("envelope_sm3") and receipt.envelope_sm3 != SM3.digest(sent):
        raise VerificationError(ReasonCode.RECEIPT_INVALID, "the receipt is for another envelope (SM3)")


def receipt_issuer(trust: TrustConfig, local_node: str, *, kind: str, recipient: str) -> str:
    """The node whose signed receipt ``local_node`` keeps with a log entry of ``kind`` for ``recipient``.

    A submission's receipt is the node's own. A delivery's receipt comes from the node that took the
    envelope: the recipient itself when it is a department behind this gateway or a gateway of its
    own, otherwise the gateway the recipient sits behind (the same node `gateway.delivery_plan.route`
    calls and expects the receipt from).
    """
    if kind != "delivery":
        return local_node
    node = trust.nodes.get(recipient)
    if node is None or not node.gateway or node.gateway == local_node:
        return recipient
    return node.gateway
