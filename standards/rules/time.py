"""Rule kinds about time: cross-field date order, statutory clocks in working days, plausible years."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from standards.calendar import CalendarNotCovered, add_working_days
from standards.findings import Finding
from standards.identifiers import parse_date, parse_datetime
from standards.rules.base import Check, Context, Emit, Path, condition, kind, scoped


def _moment(value: object) -> datetime | date | None:
    """A ``YYYY-MM-DD`` date or a ``YYYY-MM-DD HH:MM:SS`` date-time; None for anything else."""
    if not isinstance(value, str):
        return None
    if len(value) == 10:
        return parse_date(value)
    return parse_datetime(value)


def _day(value: object) -> date | None:
    moment = _moment(value)
    return moment.date() if isinstance(moment, datetime) else moment


@kind("date_order")
def _date_order(params: Mapping[str, Any], emit: Emit) -> Check:
    """``later`` is not before ``earlier`` (or strictly after, with ``strict``); date-times compare by time
    when both carry one, by day otherwise."""
    earlier, later = Path(params["earlier"]), Path(params["later"])
    strict = bool(params.get("strict", False))
    objects, when = scoped(params.get("scope")), condition(params.get("when"))

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        for base, obj in objects(record):
            a, b = _moment(earlier.get(obj)), _moment(later.get(obj))
            if a is None or b is None or not when(obj):
                continue
            if isinstance(a, datetime) != isinstance(b, datetime):
                a = a.date() if isinstance(a, datetime) else a
                b = b.date() if isinstance(b, datetime) else b
            if b < a or (strict and b == a):
                yield emit(
                    base + later.pointer,
                    f"{later.get(obj)} 早于 {earlier.get(obj)}",
                    f"{later.get(obj)} is before {earlier.get(obj)}",
                )

    return check


@kind("timeliness")
def _timeliness(params: Mapping[str, Any], emit: Emit) -> Check:
    """Reported within ``workingDays`` working days of the act (China's holiday calendar); without a report
    time, the validation day stands in for it."""
    acts = [Path(name) for name in ([params["act"]] if isinstance(params["act"], str) else params["act"])]
    report = Path(params["report"])
    days, when = int(params["workingDays"]), condition(params.get("when"))

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        if not when(record):
            return
        act = next((a for a in acts if a.get(record) is not None), acts[0])
        acted = _day(act.get(record))
        reported = _day(report.get(record)) if report.get(record) is not None else ctx.on
        if acted is None or reported is None or reported <= acted:
            return
        try:
            deadline = add_working_days(acted, days)
        except CalendarNotCovered as exc:
            yield emit(report.pointer, exc.message_zh, exc.message_en, "info")
            return
        if reported > deadline:
            yield emit(
                report.pointer,
                f"{act.name} {acted.isoformat()} 起 {days} 个工作日内应报送"
                f"（截止 {deadline.isoformat()}），实际 {reported.isoformat()}",
                f"due within {days} working days of {act.name} {acted.isoformat()} "
                f"(by {deadline.isoformat()}), reported {reported.isoformat()}",
            )

    return check


@kind("not_after_validation_day")
def _not_after(params: Mapping[str, Any], emit: Emit) -> Check:
    """A date that cannot lie after the day the record is validated (报送时间 in the future)."""
    targets = [Path(name) for name in params["fields"]]

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        if ctx.on is None:
            return
        for target in targets:
            day = _day(target.get(record))
            if day is not None and day > ctx.on:
                yield emit(
                    target.pointer,
                    f"{day.isoformat()} 晚于 {ctx.on.isoformat()}",
                    f"{day.isoformat()} is after {ctx.on.isoformat()}",
                )

    return check


@kind("not_before_validation_day")
def _not_before(params: Mapping[str, Any], emit: Emit) -> Check:
    """A date that must not have passed on the day of validation (an expired certificate)."""
    target = Path(params["field"])

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        day = _day(target.get(record))
        if ctx.on is not None and day is not None and day < ctx.on:
            yield emit(
                target.pointer,
                f"{day.isoformat()} 早于 {ctx.on.isoformat()}",
                f"{day.isoformat()} is before {ctx.on.isoformat()}",
            )

    return check


@kind("max_span")
def _max_span(params: Mapping[str, Any], emit: Emit) -> Check:
    """``end`` lies at most ``days`` calendar days after ``start`` unless ``unless`` is given."""
    start, end = Path(params["start"]), Path(params["end"])
    days, unless = int(params["days"]), Path(params["unless"]) if "unless" in params else None

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        a, b = _day(start.get(record)), _day(end.get(record))
        if a is None or b is None or (unless is not None and unless.get(record) not in (None, "")):
            return
        if (b - a).days > days:
            yield emit(end.pointer, f"{(b - a).days} 日 > {days} 日", f"{(b - a).days} days > {days} days")

    return check


@kind("year_window")
def _year_window(params: Mapping[str, Any], emit: Emit) -> Check:
    """A year (年度) within ``past`` years before and ``future`` years after the validation day's year."""
    target = Path(params["field"])
    past, future = int(params.get("past", 5)), int(params.get("future", 1))

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        value = target.get(record)
        if ctx.on is None or isinstance(value, bool) or not isinstance(value, int):
            return
        low, high = ctx.on.year - past, ctx.on.year + future
        if not low <= value <= high:
            yield emit(target.pointer, f"{value} ∉ [{low}, {high}]", f"{value} not in [{low}, {high}]")

    return check
