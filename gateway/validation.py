"""Step 8 of the pipeline bound to the standards catalogue: `standards_validator` is a `pipeline.Validate`.

A record may carry sealed values (SM4-GCM for its recipient, `gateway.sealing`, wire.md §12) in fields
SC-20 classes as personal information. The hub cannot read them and must not refuse a record for them,
so step 8 judges an *opaque view*: each sealed value becomes the placeholder text ``jgx:sealed``, the
field counts as given, and findings of the format and identifier rules at that field are set aside.
SC-20's masking findings are kept: to the recipient a sealed value is the full value, so it may go only
where the destination's profile keeps that class (e.g. SC-13 clues keep the party's number for 川渝).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from gateway import sealing
from gateway.errors import JgxError, ReasonCode, VerificationError
from gateway.receipts import FindingLike

__all__ = ["SEALED_PLACEHOLDER", "opaque_view", "standards_validator"]

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
    import json

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
