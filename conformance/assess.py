"""What the suite establishes about one exported envelope: signature, header, findings, masking. Pure.

The same function serves the live run, the export-file mode and the offline recheck, so that a
verdict can always be derived again from the recorded bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError

from gateway.envelope import check_message_fields, open_message, parse_envelope
from gateway.errors import CATALOGUE, JgxError, VerificationError
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig
from gateway.validation import held_keys, judge_payload

__all__ = ["Assessment", "assess_envelope", "destination_of", "header_json", "validate_payload"]

MASKING_PREFIX = "SC-20."
IDENTIFIER_PREFIX = "SC-16."
_MASKS = frozenset({"mask_id", "mask_phone", "mask_name", "district"})


def destination_of(trust: TrustConfig, node_id: str) -> str:
    """The SC-20 destination class of a recipient: ``national``, ``partner`` or ``internal``."""
    node = trust.nodes.get(node_id)
    role = node.role if node is not None else ""
    return {"national": "national", "partner": "partner"}.get(role, "internal")


def header_json(message: exchange_pb2.Message) -> dict[str, Any]:
    """The message's header fields as JSON (everything except the payload)."""
    doc = MessageToDict(message, preserving_proto_field_name=True)
    doc.pop("payload", None)
    return doc


def validate_payload(
    payload: bytes,
    standard: str,
    version: str,
    *,
    on: datetime,
    destination: str | None,
    recipient: str = "",
    held: Collection[str] | None = None,
) -> list[dict[str, str]]:
    """Findings (as JSON objects) of the hub's step 8 (`gateway.validation.judge_payload`), so a record
    with sealed values (wire.md §12) is judged exactly as the hub judges it; a refusal without findings
    (an unusable standard, a misplaced sealed value or one sealed for a key `recipient` does not hold,
    its key ids being `held`) is one finding."""
    verdict = judge_payload(
        payload, standard, version, on=on.date(), destination=destination or "internal",
        recipient=recipient, held=held,
    )  # fmt: skip
    if verdict.reason is not None and not verdict.findings:
        entry = CATALOGUE[verdict.reason]
        detail = f"{entry.en}: {verdict.detail}"
        return [_finding(verdict.reason.value, "SC-17 §6.2", "error", "", entry.zh, detail)]
    found = verdict.findings
    return [_finding(f.rule_id, f.clause, f.severity, f.pointer, f.message_zh, f.message_en) for f in found]


def _masked_pointers(payload: bytes, destination: str) -> frozenset[str]:
    """Pointers of personal fields already masked (``*``) as SC-20 asks for `destination`.

    SC-20 requires, e.g., a partner's copy to carry ``510104********1234``; such a value cannot pass
    SC-16's identifier checksum, so its identifier findings are judged by SC-20 instead.
    """
    try:
        from standards.masking import policy

        record = json.loads(payload)
        profile = policy().profile(destination)
        fields = policy().fields
    except (ImportError, ValueError, JgxError):
        return frozenset()
    found: set[str] = set()

    def walk(node: Any, at: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{at}/{key}"
                spec = fields.get(key)
                masked = isinstance(value, str) and "*" in value
                if spec is not None and profile.get(spec.cls, "keep") in _MASKS and masked:
                    found.add(here)
                walk(value, here)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{at}/{index}")

    walk(record, "")
    return frozenset(found)


def _finding(rule: str, clause: str, severity: str, pointer: str, zh: str, en: str) -> dict[str, str]:
    return {
        "ruleId": rule,
        "clause": clause,
        "severity": severity,
        "pointer": pointer,
        "messageZh": zh,
        "messageEn": en,
    }


@dataclass
class Assessment:
    """Facts about one exported envelope (no judgement yet: overrides and expectations come later)."""

    sha256: str
    size: int
    header: dict[str, Any] | None = None
    signature: str = "ok"  # "ok" or the reason code of the failure
    signer: str = ""
    key_id: str = ""
    fields_problem: str = ""  # MALFORMED detail of the header, "" when well-formed
    findings: list[dict[str, str]] = field(default_factory=list)  # validation, without masking
    masking: list[dict[str, str]] = field(default_factory=list)  # SC-20 findings for the destination

    def to_json(self) -> dict[str, Any]:
        """The facts as recorded for a redacted envelope (``atRun``)."""
        return {
            "sha256": self.sha256,
            "size": self.size,
            "header": self.header,
            "signature": self.signature,
            "signer": self.signer,
            "keyId": self.key_id,
            "fieldsProblem": self.fields_problem,
            "findings": self.findings,
            "masking": self.masking,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Assessment:
        """Read back what `to_json` wrote."""
        return cls(
            sha256=str(doc["sha256"]),
            size=int(doc.get("size", 0)),
            header=doc.get("header"),
            signature=str(doc.get("signature", "")),
            signer=str(doc.get("signer", "")),
            key_id=str(doc.get("keyId", "")),
            fields_problem=str(doc.get("fieldsProblem", "")),
            findings=list(doc.get("findings", [])),
            masking=list(doc.get("masking", [])),
        )


def assess_envelope(
    data: bytes, trust: TrustConfig, *, now: datetime, destination: str, max_size: int | None = None
) -> tuple[Assessment, exchange_pb2.Message | None]:
    """Verify, parse and validate one exported envelope's bytes; the facts and the message (if readable)."""
    facts = Assessment(hashlib.sha256(data).hexdigest(), len(data))
    try:
        envelope = parse_envelope(data, max_size=max_size or trust.max_envelope_bytes)
    except VerificationError as exc:
        facts.signature = exc.reason.value
        return facts, None
    try:
        opened = open_message(envelope, trust, now=now)
        facts.signer, facts.key_id = opened.signer, opened.key_id
    except VerificationError as exc:
        facts.signature = exc.reason.value
    message = exchange_pb2.Message()
    try:
        message.ParseFromString(envelope.body)
    except (DecodeError, ValueError, RecursionError):
        facts.fields_problem = "body is not a serialized Message"
        return facts, None
    facts.header = header_json(message)
    try:
        check_message_fields(message)
    except VerificationError as exc:
        facts.fields_problem = exc.detail
    issued = message.issued_at.ToDatetime(tzinfo=UTC) if message.HasField("issued_at") else now
    found = validate_payload(
        message.payload, message.standard, message.standard_version, on=issued, destination=destination,
        recipient=message.recipient, held=held_keys(trust, message.recipient),
    )  # fmt: skip
    masked_here = _masked_pointers(message.payload, destination)
    facts.findings = [
        f
        for f in found
        if not f["ruleId"].startswith(MASKING_PREFIX)
        and not (f["ruleId"].startswith(IDENTIFIER_PREFIX) and f["pointer"] in masked_here)
    ]
    facts.masking = [f for f in found if f["ruleId"].startswith(MASKING_PREFIX)]
    return facts, message
