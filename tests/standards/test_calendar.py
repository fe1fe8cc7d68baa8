"""The working-day calendar: holidays, make-up working days and working-day arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards.calendar import (
    CalendarNotCovered,
    add_working_days,
    holiday_name,
    is_working_day,
    working_days_between,
    year_status,
)

COVERED = st.dates(date(2024, 1, 1), date(2027, 12, 31))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2024, 2, 4), True, id="2024 Spring Festival make-up Sunday"),
        pytest.param(date(2024, 2, 12), False, id="2024 Spring Festival Monday"),
        pytest.param(date(2024, 10, 12), True, id="2024 National Day make-up Saturday"),
        pytest.param(date(2024, 10, 7), False, id="2024 National Day Monday"),
        pytest.param(date(2025, 1, 26), True, id="2025 Spring Festival make-up Sunday"),
        pytest.param(date(2025, 10, 8), False, id="2025 eighth day of the Golden Week"),
        pytest.param(date(2025, 9, 3), False, id="2025-09-03 commemoration day"),
        pytest.param(date(2026, 1, 2), False, id="2026 New Year Friday"),
        pytest.param(date(2026, 1, 4), True, id="2026 New Year make-up Sunday"),
        pytest.param(date(2026, 2, 23), False, id="2026 Spring Festival last day"),
        pytest.param(date(2026, 2, 28), True, id="2026 Spring Festival make-up Saturday"),
        pytest.param(date(2026, 11, 27), True, id="an ordinary Friday"),
        pytest.param(date(2026, 11, 28), False, id="an ordinary Saturday"),
        pytest.param(date(2027, 5, 4), False, id="2027 projected Labour Day substitute"),
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    """Make-up days work, holidays rest, ordinary weekdays work and weekends rest."""
    assert expected == is_working_day(day)


def test_2024_has_251_working_days() -> None:
    """2024 has 262 weekdays, 19 weekday holidays and 8 make-up days: 251 working days, all after 1 Jan."""
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(366)]
    assert (251, 251) == (
        sum(is_working_day(d) for d in days),
        working_days_between(date(2024, 1, 1), date(2024, 12, 31)),
    )


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027])
def test_net_holidays_match_the_statute(year: int) -> None:
    """A year loses its statutory weekday holidays net of make-ups: 11 in 2024, 13 later, 14 in 2025."""
    days = [
        date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)
    ]
    weekdays = sum(d.weekday() < 5 for d in days)
    working = sum(is_working_day(d) for d in days)
    assert {2024: 11, 2025: 14, 2026: 13, 2027: 13}[year] == weekdays - working


def test_seven_working_days_across_national_day() -> None:
    """7 working days after 2024-09-30 is 2024-10-15: Golden Week is skipped, the make-up Saturday counts."""
    assert date(2024, 10, 15) == add_working_days(date(2024, 9, 30), 7)


def test_add_zero_working_days_is_identity() -> None:
    """Adding zero working days returns the same day, even a holiday."""
    assert date(2024, 10, 3) == add_working_days(date(2024, 10, 3), 0)


def test_add_negative_working_days_goes_back() -> None:
    """One working day before 2024-10-08 is 2024-09-30: Golden Week and its make-up Sunday are skipped."""
    assert date(2024, 9, 30) == add_working_days(date(2024, 10, 8), -1)


def test_holiday_name() -> None:
    """A holiday carries its Chinese and English name; an ordinary day has none."""
    assert (("春节", "Spring Festival"), None) == (
        holiday_name(date(2025, 1, 29)),
        holiday_name(date(2025, 3, 3)),
    )


def test_year_status() -> None:
    """2024–2026 come from published notices; 2027 is projected."""
    assert ["published", "published", "published", "projected"] == [year_status(y) for y in range(2024, 2028)]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: is_working_day(date(2023, 12, 29)), id="is_working_day before"),
        pytest.param(lambda: is_working_day(date(2028, 1, 3)), id="is_working_day after"),
        pytest.param(lambda: add_working_days(date(2027, 12, 30), 5), id="add runs past the end"),
        pytest.param(lambda: add_working_days(date(2024, 1, 2), -5), id="subtract runs past the start"),
        pytest.param(lambda: working_days_between(date(2027, 1, 1), date(2028, 1, 1)), id="between"),
        pytest.param(lambda: year_status(2030), id="year_status"),
    ],
)
def test_outside_the_calendar_raises(call: object) -> None:
    """Any question about a day outside 2024–2027 raises CalendarNotCovered instead of guessing."""
    with pytest.raises(CalendarNotCovered) as caught:
        call()  # type: ignore[operator]
    assert (True, True) == (bool(caught.value.message_zh), bool(caught.value.message_en))


@settings(max_examples=200)
@given(COVERED, st.integers(0, 200))
def test_between_inverts_add(day: date, n: int) -> None:
    """Counting the working days up to add_working_days(d, n) gives back n."""
    try:
        later = add_working_days(day, n)
    except CalendarNotCovered:
        return
    assert n == working_days_between(day, later)


@settings(max_examples=200)
@given(COVERED, st.integers(1, 200))
def test_add_lands_on_a_working_day(day: date, n: int) -> None:
    """Adding a positive or negative number of working days always lands on a working day."""
    results = []
    for signed in (n, -n):
        try:
            results.append(add_working_days(day, signed))
        except CalendarNotCovered:
            continue
    assert all(is_working_day(d) for d in results)


@settings(max_examples=200)
@given(COVERED, COVERED)
def test_between_matches_a_day_by_day_count(start: date, end: date) -> None:
    """working_days_between equals counting working days after start up to end, with sign."""
    low, high = min(start, end), max(start, end)
    count = sum(is_working_day(low + timedelta(days=i)) for i in range(1, (high - low).days + 1))
    assert (count if end >= start else -count) == working_days_between(start, end)
