"""The one time zone the console shows and reads times in (``[console] time_zone``, Asia/Shanghai).

Pure. The log, the store and the JSON API keep UTC (RFC 3339 with ``Z``); pages show every time in the
console's zone and read the browser's ``datetime-local`` fields (which carry no zone) in that same
zone, so what an operator sees in a row is what they type into a filter to find it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

__all__ = ["local_time", "read_local", "zone_label"]


def local_time(value: str | datetime | None, *, zone: ZoneInfo, seconds: bool = True) -> str:
    """A UTC time (``…Z`` text or aware datetime) as ``YYYY-MM-DD HH:MM[:SS]`` in ``zone``; '' for none.

    Text that is not a time (a bare date such as a deadline) comes back unchanged.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if moment.tzinfo is None:
            return value
    else:
        moment = value
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def read_local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A time typed without a zone, read in ``zone``, as UTC; one with an offset is only converted."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)).astimezone(UTC)


def zone_label(zone: ZoneInfo, now: datetime) -> str:
    """The zone's name and its offset now, e.g. ``Asia/Shanghai (UTC+08:00)``."""
    offset = now.astimezone(zone).strftime("%z")
    return f"{zone.key} (UTC{offset[:3]}:{offset[3:]})"
