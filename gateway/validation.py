"""Step 8 of the pipeline bound to the standards catalogue: `standards_validator` is a `pipeline.Validate`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from gateway.errors import JgxError, VerificationError
from gateway.receipts import FindingLike

__all__ = ["standards_validator"]


def standards_validator(payload: bytes, standard: str, version: str, on: date) -> Sequence[FindingLike]:
    """Validate `payload` against `standard`@`version` as in force on `on`.

    An unknown standard or a version not in force raises `VerificationError` with STANDARD_UNKNOWN or
    VERSION_NOT_IN_FORCE; everything wrong with the record itself comes back as findings.
    """
    from standards import validate  # type: ignore[attr-defined, unused-ignore]

    try:
        findings: Sequence[FindingLike] = validate(payload, standard, version, on=on)
    except JgxError as exc:
        raise VerificationError(exc.reason, exc.detail) from None
    return findings
