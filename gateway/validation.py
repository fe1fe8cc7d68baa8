"""Step 8 of the pipeline bound to the standards catalogue: `standards_validator` is a `pipeline.Validate`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from gateway.errors import JgxError, VerificationError
from gateway.receipts import FindingLike

__all__ = ["standards_validator"]


def standards_validator(
    payload: bytes, standard: str, version: str, on: date, destination: str
) -> Sequence[FindingLike]:
    """Validate `payload` against `standard`@`version` as in force on `on`, bound for `destination`.

    An unknown standard or a version not in force raises `VerificationError` with STANDARD_UNKNOWN or
    VERSION_NOT_IN_FORCE; everything wrong with the record itself comes back as findings.
    """
    from standards import validate

    try:
        findings: Sequence[FindingLike] = validate(payload, standard, version, on=on, destination=destination)
    except JgxError as exc:
        raise VerificationError(exc.reason, exc.detail) from None
    return findings
