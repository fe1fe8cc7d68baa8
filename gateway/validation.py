"""Step 8 of the pipeline bound to the standards catalogue: `standards_validator` is a `pipeline.Validate`.

A record may carry sealed values (SM4-GCM for its recipient, `gateway.sealing`, wire.md §12) in fields
SC-20 classes as personal information. The hub cannot read them and must not refuse a record for them,
so step 8 judges an *opaque view*: each sealed value becomes the placeholder text ``jgx:sealed``, the
field counts as given, and findings of the format and identifier rules at that field are set aside.
SC-20's masking findings are kept: to the recipient a sealed value is the full value, so it may go only
where the destination's profile keeps that class (e.g. SC-13 clues keep the party's number for 川渝).

`judge_payload` is step 8 whole (findings → reason code, then the recipient-key check on sealed values):
the hub's pipeline, the adapter SDK's local check, the bridge, the 川渝 link and the conformance suite
all call it, so a record with sealed values is judged the same way everywhere (wire.md §12.7).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from gateway import sealing
from gateway.errors import JgxError, ReasonCode, VerificationError
from gateway.receipts import FindingLike
from gateway.trust import TrustConfig

__all__ = [
    "PAYLOAD_DECODING_RULES",
    "SEALED_PLACEHOLDER",
    "PayloadVerdict",
    "error_reason",
    "held_keys",
    "judge_payload",
    "opaque_view",
    "sealed_for_another",
    "standards_validator",
]

#: What the rules see in place of a sealed value: any string passes a string field's structure, and
#: it is not a masked shape, so SC-20 judges it as an unmasked value.
SEALED_PLACEHOLDER: Final = "jgx:sealed"


def standards_validator(
    payload: bytes, standard: str, version: str, on: date, destination: str
) -> Sequence[FindingLike]:
    """Validate `payload` against `standard`@`version` as in force on `on`, bound for `destination`.

    An unknown standard or a version not in force raises `VerificationError` with STANDARD_UNKNOWN or
    VERSION_NOT_IN_FORCE, a malformed or misplaced sealed value MALFORMED; everything wrong with the
    record itself comes back as findings.
    """
    from standards import validate

    view = opaque_view(payload)
    try:
        if view is None:
            findings: Sequence[FindingLike] = validate(
                payload, standard, version, on=on, destination=destination
            )
        else:
            clear, sealed = view
            findings = [
                f
                for f in validate(clear, standard, version, on=on, destination=destination)
                if f.pointer not in sealed or f.rule_id.startswith("SC-20.")
            ]
    except JgxError as exc:
        raise VerificationError(exc.reason, exc.detail) from None
    return findings


def opaque_view(payload: bytes) -> tuple[bytes, frozenset[str]] | None:
    """The payload with each sealed value replaced by `SEALED_PLACEHOLDER`, and their pointers.

    None when the payload seals nothing (or does not decode: the validator then reports it as is).
    A sealed value of the wrong shape, or in a field SC-20 does not class as personal information,
    raises `sealing.SealedValueError` (MALFORMED): only personal fields may be hidden from the hub.
    """
    if sealing.SEALED.encode() not in payload:
        return None  # the fast path; an escaped spelling is not recognised and fails as a wrong type
    from standards.masking import policy
    from standards.payload import decode_record

    record, problems = decode_record(payload)
    if not isinstance(record, dict) or problems:
        return None
    view, sealed = sealing.opaque(record, SEALED_PLACEHOLDER)
    if not sealed:
        return None
    personal = policy()
    for pointer in sealed:
        if personal.personal_class(view, pointer) is None:
            raise sealing.SealedValueError(
                ReasonCode.MALFORMED,
                f"{pointer}: 只有 SC-20 列明的个人信息字段可以加密封装 / "
                "only fields SC-20 classes as personal information may be sealed",
            )
    return json.dumps(view, ensure_ascii=False).encode(), frozenset(sealed)


#: SC-17 clause 4: the payload is not usable JSON (bad UTF-8, syntax, duplicate key, NaN/Infinity, too
#: deep, too large, a number out of range, not a JSON object, a lone UTF-16 surrogate). docs/wire.md §4
#: makes such a payload MALFORMED, not a rule violation; step 8 finds it (the standards' decoder gives the
#: pointer), so the code is mapped here. tests/gateway/test_pipeline.py keeps the set equal to
#: `standards.payload`'s error rules.
PAYLOAD_DECODING_RULES: Final = frozenset(
    {*(f"SC-17.R00{n}" for n in range(1, 8)), "SC-17.R013", "SC-17.R014"}
)


def error_reason(findings: Sequence[FindingLike]) -> ReasonCode | None:
    """The reason code step 8 refuses `findings` with, or None when none of them is an error."""
    errors = [f for f in findings if f.severity == "error"]
    if not errors:
        return None
    if any(f.rule_id in PAYLOAD_DECODING_RULES for f in errors):
        return ReasonCode.MALFORMED
    if any(".S" in f.rule_id or f.rule_id.endswith("SCHEMA") for f in errors):
        return ReasonCode.SCHEMA_INVALID
    return ReasonCode.RULE_VIOLATION


def sealed_for_another(payload: bytes, held: Collection[str], recipient: str) -> str | None:
    """Why a sealed value of `payload` cannot be opened by `recipient`, whose unrevoked key ids are
    `held` (a value sealed for any other key), or None. Call it on a payload step 8 has validated."""
    if sealing.SEALED.encode() not in payload:
        return None
    try:
        record = json.loads(payload)
        _view, kids = sealing.opaque(record, "") if isinstance(record, dict) else ({}, {})
    except (ValueError, VerificationError):
        return None  # what cannot be read here was judged by the validator already
    for pointer, kid in kids.items():
        if kid not in held:
            return (
                f"{pointer}: 加密封装所用密钥 {kid[:16]}… 不属于接收方 {recipient} / "
                f"sealed for key {kid[:16]}…, which {recipient} does not hold"
            )
    return None


def held_keys(trust: TrustConfig, node_id: str) -> list[str] | None:
    """The key ids of `node_id`'s unrevoked keys (a value sealed for one of them can be opened), or
    None when the trust configuration has no such node."""
    node = trust.nodes.get(node_id)
    return [key.key_id for key in node.keys if not key.revoked] if node is not None else None


@dataclass(frozen=True, slots=True)
class PayloadVerdict:
    """Step 8's verdict on one payload: the refusal's reason code (None: accepted), the findings, why."""

    reason: ReasonCode | None
    findings: tuple[FindingLike, ...] = ()
    detail: str = ""

    @property
    def accepted(self) -> bool:
        """True when step 8 would let the payload through."""
        return self.reason is None


#: validate(payload, standard, version, on, destination) -> findings (`pipeline.Validate`).
_Validate = Callable[[bytes, str, str, date, str], Sequence[FindingLike]]


def judge_payload(
    payload: bytes,
    standard: str,
    version: str,
    *,
    on: date,
    destination: str,
    recipient: str,
    held: Collection[str] | None,
    validate: _Validate = standards_validator,
) -> PayloadVerdict:
    """Step 8 as the hub applies it, sealed values understood: validate the opaque view of `payload`
    (`standards_validator`), refuse on an error finding, then refuse a value sealed for a key outside
    `held` (the recipient's unrevoked key ids; None skips that check, for a caller without them).

    `validate` raising `VerificationError` becomes a refusal with its reason; any other exception is a
    fault of the caller's validator and propagates (the pipeline answers it INTERNAL).
    """
    try:
        findings = tuple(validate(payload, standard, version, on, destination))
    except VerificationError as exc:
        return PayloadVerdict(exc.reason, (), exc.detail)
    reason = error_reason(findings)
    if reason is not None:
        return PayloadVerdict(reason, findings)
    if held is not None and (stray := sealed_for_another(payload, held, recipient)) is not None:
        return PayloadVerdict(ReasonCode.MALFORMED, (), stray)
    return PayloadVerdict(None, findings)
