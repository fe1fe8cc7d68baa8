"""What the bridge writes back per row: the hub's verdict or the local refusal, as result-table values.

Pure: findings and receipts in, a `Verdict` and a result row (column name → value) out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from adapters.bridge.mapping import BridgeMapping
from adapters.bridge.rows import MappedRow
from adapters.sdk.client import Submitted
from adapters.sdk.department import Record
from adapters.sdk.messages import record_message
from gateway.errors import VerificationError
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig
from gateway.validation import held_keys, judge_payload
from standards.findings import Finding

__all__ = [
    "ACCEPTED",
    "REFUSED_LOCAL",
    "REJECTED",
    "Verdict",
    "local_findings",
    "payload_bytes",
    "result_row",
    "result_values",
    "row_message",
    "sealing_refusal",
]

ACCEPTED: Final = "accepted"  # 已接收: the hub logged and receipted it as accepted
REJECTED: Final = "rejected"  # 被拒收: the hub logged it and refused it (reason codes say why)
REFUSED_LOCAL: Final = "refused_local"  # 本地拒收，未发送: failed the mapping or the standard, never sent
_MESSAGES_MAX: Final = 4000  # the messages column is for people; the receipt keeps everything


@dataclass(frozen=True, slots=True)
class Verdict:
    """One row's outcome: status, reason codes, Chinese messages, and the receipt that proves it."""

    status: str
    reason_codes: tuple[str, ...]
    messages_zh: tuple[str, ...]
    decided_at: datetime
    receipt_sha256: str = ""
    log_index: int | None = None

    @classmethod
    def refused_locally(cls, findings: Iterable[Finding], now: datetime) -> Verdict:
        """The verdict of a row that failed locally: nothing was signed or sent."""
        errors = [f for f in findings if f.severity == "error"]
        messages = (
            "本地校验未通过，未发送至枢纽 / failed local validation, not sent",
            *(f"{f.pointer or '/'} {f.message_zh}" for f in errors),
        )
        return cls(REFUSED_LOCAL, tuple(dict.fromkeys(f.rule_id for f in errors)), messages, now)

    @classmethod
    def from_receipt(cls, submitted: Submitted) -> Verdict:
        """The hub's verdict as its verified receipt states it (a resend gets the original receipt)."""
        receipt = submitted.receipt
        status = ACCEPTED if submitted.accepted else REJECTED
        messages = tuple(f"[{f.severity}] {f.pointer or '/'} {f.message_zh}" for f in receipt.findings)
        return cls(
            status,
            tuple(receipt.reason_codes),
            messages,
            receipt.issued_at.ToDatetime().replace(tzinfo=None),
            hashlib.sha256(submitted.receipt_envelope).hexdigest(),
            receipt.log_index,
        )


def payload_bytes(row: MappedRow) -> bytes:
    """The record's JSON bytes exactly as the message carries them."""
    return json.dumps(row.payload, ensure_ascii=False, sort_keys=True).encode("utf-8")


def row_message(
    row: MappedRow, mapping: BridgeMapping, *, now: datetime, trust: TrustConfig | None
) -> exchange_pb2.Message:
    """The message carrying ``row``'s record, its idempotent message id, the fields the mapping's
    ``seal`` names sealed for the recipient (``trust`` holds the recipient's SM2 key; wire.md §12)."""
    record = Record(
        mapping.standard, mapping.version, row.cd_id, row.payload,
        operation=row.operation, recipient=mapping.recipient, batch_id=row.batch,  # type: ignore[arg-type]
        correlation_id=row.correlation_id, action=row.action, in_reply_to=row.in_reply_to, seal=mapping.seal,
    )  # fmt: skip
    return record_message(
        record, sender=mapping.node, default_recipient=mapping.recipient, now=now,
        message_id=lambda: row.message_id, trust=trust,
    )  # fmt: skip


def local_findings(
    row: MappedRow,
    mapping: BridgeMapping,
    *,
    on: date,
    destination: str | None,
    message: exchange_pb2.Message | None = None,
    trust: TrustConfig | None = None,
) -> tuple[Finding, ...]:
    """The mapping's problems, else the findings of the hub's step 8 on the record as it will be sent
    (`gateway.validation.judge_payload`: a sealed field is judged as the hub judges it, the clear ones
    in full). ``message`` is the message that will carry the row (its payload sealed as the mapping
    says; by default the row's clear record); ``trust`` gives the recipient's keys.

    ``destination`` is the recipient's SC-20 class from the trust configuration, as the hub passes it.
    A refusal without findings (a misplaced sealed value, an unknown standard) is one finding.
    """
    if row.problems:
        return row.problems  # a half-mapped record would only repeat the same fault as schema findings
    payload = message.payload if message is not None else payload_bytes(row)
    verdict = judge_payload(
        payload, mapping.standard, mapping.version, on=on, destination=destination or "internal",
        recipient=mapping.recipient, held=held_keys(trust, mapping.recipient) if trust is not None else None,
    )  # fmt: skip
    if verdict.reason is not None and not verdict.findings:
        return (Finding(verdict.reason.value, "SC-17", "error", "", verdict.detail, verdict.detail),)
    return tuple(f if isinstance(f, Finding) else _finding(f) for f in verdict.findings)


def sealing_refusal(exc: VerificationError) -> tuple[Finding, ...]:
    """A row whose fields could not be sealed (no SM2 key for the recipient, a bad pointer) as a finding."""
    return (Finding(exc.reason.value, "SC-20", "error", "", exc.detail, exc.detail),)


def _finding(f: Any) -> Finding:
    return Finding(f.rule_id, f.clause, f.severity, f.pointer, f.message_zh, f.message_en)


def result_row(mapping: BridgeMapping, row: MappedRow, message_id: str, verdict: Verdict) -> dict[str, Any]:
    """The result-table values for ``row`` (keyed by the mapping's result column names)."""
    letter = {"insert": "I", "update": "U", "delete": "D"}.get(row.operation, "")
    return result_values(mapping, row.cd_id, row.cd_time_text, letter, message_id, verdict)


def result_values(
    mapping: BridgeMapping, cd_id: str, cd_time_text: str, operation: str, message_id: str, verdict: Verdict
) -> dict[str, Any]:
    """The result-table values of one change (``operation`` is its I/U/D letter), keyed by the mapping's
    result column names."""
    values: Mapping[str, Any] = {
        "cd_id": cd_id,
        "cd_time": cd_time_text,
        "cd_operation": operation,
        "message_id": message_id,
        "status": verdict.status,
        "reason_codes": " ".join(verdict.reason_codes),
        "messages_zh": "\n".join(verdict.messages_zh)[:_MESSAGES_MAX],
        "receipt_sha256": verdict.receipt_sha256,
        "log_index": verdict.log_index,
        "decided_at": verdict.decided_at,
    }
    return {mapping.result_column(role): value for role, value in values.items()}
