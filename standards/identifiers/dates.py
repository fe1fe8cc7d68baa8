"""Dates and times as exchanged: ``YYYY-MM-DD`` and ``YYYY-MM-DD HH:MM:SS`` (GB/T 7408 calendar forms).

The shape is checked first (so ``2024-2-3`` is a format problem), then that the date is a real calendar
date (so ``2023-02-29`` is not).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Final

from standards.identifiers.problem import IdProblem, error

__all__ = ["date_problems", "datetime_problems", "parse_date", "parse_datetime"]

_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATETIME: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})")


def parse_date(value: str) -> date | None:
    """The date written ``YYYY-MM-DD``, or None when the text is not exactly that or not a real date."""
    m = _DATE.fullmatch(value)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_datetime(value: str) -> datetime | None:
    """The naive date-time written ``YYYY-MM-DD HH:MM:SS``, or None when not exactly that or not real."""
    m = _DATETIME.fullmatch(value)
    if m is None:
        return None
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]))
    except ValueError:
        return None


def date_problems(value: str) -> list[IdProblem]:
    """The problems of a ``YYYY-MM-DD`` date; empty when it is one and names a real calendar day."""
    if _DATE.fullmatch(value) is None:
        return [
            error(
                "DATE_FORMAT",
                f"日期 {value!r} 应写作 YYYY-MM-DD",
                f"the date {value!r} should be written YYYY-MM-DD",
            )
        ]
    if parse_date(value) is None:
        return [error("DATE_INVALID", f"{value} 不是有效日期", f"{value} is not a real calendar date")]
    return []


def datetime_problems(value: str) -> list[IdProblem]:
    """The problems of a ``YYYY-MM-DD HH:MM:SS`` date-time; empty when well-formed and real."""
    if _DATETIME.fullmatch(value) is None:
        return [
            error(
                "DATETIME_FORMAT",
                f"时间 {value!r} 应写作 YYYY-MM-DD HH:MM:SS",
                f"the date-time {value!r} should be written YYYY-MM-DD HH:MM:SS",
            )
        ]
    if parse_datetime(value) is None:
        return [
            error(
                "DATETIME_INVALID",
                f"{value} 不是有效的日期时间",
                f"{value} is not a real date and time",
            )
        ]
    return []
