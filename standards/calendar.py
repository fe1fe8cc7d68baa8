"""China's working-day calendar: public holidays (放假) and make-up working days (调休上班), 2024–2027.

Statutory clocks count working days (12315: decide on acceptance within 7 个工作日), so deadlines need
the State Council's yearly schedule, kept in ``codes/calendar-2024-2027.json``. Years outside the file
raise :class:`CalendarNotCovered` rather than guessing; a year whose schedule is not yet published is
``projected`` from the statutory days (see :func:`year_status`).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from importlib.resources import files
from typing import Final, Literal

__all__ = [
    "COVERED_YEARS",
    "CalendarNotCovered",
    "add_working_days",
    "holiday_name",
    "is_working_day",
    "working_days_between",
    "year_status",
]


class CalendarNotCovered(LookupError):
    """Raised for a date whose year is not in the holiday calendar; the caller must not guess."""

    def __init__(self, day: date) -> None:
        self.day = day
        span = f"{min(COVERED_YEARS)}–{max(COVERED_YEARS)}"
        self.message_zh = f"{day.isoformat()} 不在节假日日历覆盖范围（{span} 年）内，无法计算工作日"
        self.message_en = (
            f"{day.isoformat()} is outside the holiday calendar ({span}); working days are unknown"
        )
        super().__init__(self.message_en)


def _load() -> tuple[dict[int, str], dict[date, tuple[str, str]], frozenset[date]]:
    doc = json.loads(files("standards").joinpath("codes", "calendar-2024-2027.json").read_text("utf-8"))
    status: dict[int, str] = {}
    holidays: dict[date, tuple[str, str]] = {}
    workdays: set[date] = set()
    for year, spec in doc["years"].items():
        status[int(year)] = spec["status"]
        for h in spec["holidays"]:
            day, last = date.fromisoformat(h["from"]), date.fromisoformat(h["to"])
            while day <= last:
                holidays[day] = (h["name_zh"], h["name_en"])
                day += timedelta(days=1)
        workdays.update(date.fromisoformat(w) for w in spec["workdays"])
    return status, holidays, frozenset(workdays)


_STATUS, _HOLIDAYS, _WORKDAYS = _load()
COVERED_YEARS: Final[frozenset[int]] = frozenset(_STATUS)
if frozenset(range(min(COVERED_YEARS), max(COVERED_YEARS) + 1)) != COVERED_YEARS:
    raise RuntimeError("the holiday calendar must cover consecutive years")
_FIRST: Final = date(min(COVERED_YEARS), 1, 1)
_LAST: Final = date(max(COVERED_YEARS), 12, 31)


def _is_working(day: date) -> bool:
    return day in _WORKDAYS or (day.weekday() < 5 and day not in _HOLIDAYS)


# _BEFORE[i] = working days strictly before _FIRST + i days; _WORKING = the working days in order.
_SPAN: Final = [_FIRST + timedelta(days=i) for i in range((_LAST - _FIRST).days + 1)]
_WORKING: Final = [d for d in _SPAN if _is_working(d)]
_BEFORE: Final[list[int]] = []
_count = 0
for _d in _SPAN:
    _BEFORE.append(_count)
    _count += _is_working(_d)
_BEFORE.append(_count)
del _count, _d


def _covered(day: date) -> None:
    if day.year not in _STATUS:
        raise CalendarNotCovered(day)


def year_status(year: int) -> Literal["published", "projected"]:
    """Whether the year's schedule is the published notice or a projection from the statutory days."""
    if year not in _STATUS:
        raise CalendarNotCovered(date(year, 1, 1))
    return "projected" if _STATUS[year] == "projected" else "published"


def is_working_day(day: date) -> bool:
    """True when ``day`` is a working day: a make-up working day, or a weekday that is not a holiday."""
    _covered(day)
    return _is_working(day)


def holiday_name(day: date) -> tuple[str, str] | None:
    """The (Chinese, English) name of the holiday ``day`` falls in, or None."""
    _covered(day)
    return _HOLIDAYS.get(day)


def add_working_days(day: date, n: int) -> date:
    """The day ``n`` working days after ``day`` (before it when ``n`` < 0); ``day`` itself is not counted.

    ``add_working_days(received, 7)`` is the last day of a "7 个工作日内" clock that starts the day after
    receipt; ``n == 0`` returns ``day`` unchanged.
    """
    _covered(day)
    index = (day - _FIRST).days
    # Working days up to and including `day` are _WORKING[:_BEFORE[index + 1]].
    target = _BEFORE[index + 1] + n - 1 if n > 0 else _BEFORE[index] + n
    if n == 0:
        return day
    if not 0 <= target < len(_WORKING):
        raise CalendarNotCovered(_LAST + timedelta(days=1) if n > 0 else _FIRST - timedelta(days=1))
    return _WORKING[target]


def working_days_between(start: date, end: date) -> int:
    """The number of working days after ``start`` up to and including ``end`` (negative if earlier).

    It inverts :func:`add_working_days`: ``working_days_between(d, add_working_days(d, n)) == n`` for n ≥ 0.
    """
    if end < start:
        return -working_days_between(end, start)
    _covered(start)
    _covered(end)
    return _BEFORE[(end - _FIRST).days + 1] - _BEFORE[(start - _FIRST).days + 1]
