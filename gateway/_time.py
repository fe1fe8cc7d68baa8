"""RFC 3339 UTC timestamps as the trust configuration and certificates write them (``…Z``)."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.errors import ReasonCode, VerificationError

__all__ = ["format_time", "parse_time", "utc_now"]


def parse_time(value: str) -> datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SS[.f]Z`` into an aware UTC datetime."""
    if not value.endswith("Z"):
        raise VerificationError(ReasonCode.MALFORMED, f"time {value!r} must be UTC with a trailing Z")
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise VerificationError(ReasonCode.MALFORMED, f"time {value!r} is not RFC 3339") from None


def format_time(moment: datetime) -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime; jgx works in aware UTC times")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> datetime:
    """The current time, aware and in UTC: the default clock everywhere a clock is injectable."""
    return datetime.now(UTC)
