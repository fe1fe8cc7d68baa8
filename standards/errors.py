"""Errors of the standards package: a standard or version that cannot be used, an unknown destination.

They belong to jgx's one error family (`gateway.errors.JgxError`) so the gateway maps them to reason
codes without translation.
"""

from __future__ import annotations

from gateway.errors import JgxError, ReasonCode

__all__ = ["StandardsError", "UnknownDestination", "UnknownStandard", "VersionNotInForce"]


class StandardsError(JgxError):
    """Base of the errors raised by the standards package."""


class UnknownStandard(StandardsError):
    """The standard id (or the named version of it) is not in the catalogue."""

    def __init__(self, detail: str) -> None:
        super().__init__(ReasonCode.STANDARD_UNKNOWN, detail)


class VersionNotInForce(StandardsError):
    """The standard version exists but is not in force on the date asked about."""

    def __init__(self, detail: str) -> None:
        super().__init__(ReasonCode.VERSION_NOT_IN_FORCE, detail)


class UnknownDestination(StandardsError):
    """The destination class has no masking profile in SC-20."""

    def __init__(self, detail: str) -> None:
        super().__init__(ReasonCode.MALFORMED, detail)
