"""Rule kinds about time: cross-field date order, statutory clocks in working days, plausible years."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from standards.calendar import CalendarNotCovered, add_working_days
from standards.findings import Finding
from standards.rules.base import Check, Context, Emit, Path, condition, kind, moment, scoped

_moment = moment
_deadline = functools.lru_cache(maxsize=16384)(add_working_days)


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

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for base, obj in objects(record):
            a, b = _moment(earlier.get(obj)), _moment(later.get(obj))
            if a is None or b is None or not when(obj):
                continue
            if isinstance(a, datetime) != isinstance(b, datetime):
                a = a.date() if isinstance(a, datetime) else a
                b = b.date() if isinstance(b, datetime) else b
            if b < a or (strict and b == a):
                out.append(
                    emit(
                        base + later.pointer,
                        f"{later.get(obj)} 早于 {earlier.get(obj)}",
                        f"{later.get(obj)} is before {earlier.get(obj)}",
                    )
                )
        return out

    return check


@kind("timeliness")
def _timeliness(params: Mapping[str, Any], emit: Emit) -> Check:
    """Reported within ``workingDays`` working days of the act (China's holiday calendar); without a report
    time, the validation day stands in for it."""
    acts = [Path(name) for name in ([params["act"]] if isinstance(params["act"], str) else params["act"])]
    report = Path(params["report"])
    days, when = int(params["workingDays"]), condition(params.get("when"))

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        if not when(record):
            return out
        act = next((a for a in acts if a.get(record) is not None), acts[0])
        acted = _day(act.get(record))
        reported = _day(report.get(record)) if report.get(record) is not None else ctx.on
        if acted is None or reported is None or reported <= acted:
            return out
        try:
            deadline = _deadline(acted, days)
        except CalendarNotCovered as exc:
            out.append(emit(report.pointer, exc.message_zh, exc.message_en, "info"))
            return out
        if reported > deadline:
            out.append(
                emit(
                    report.pointer,
                    f"{act.name} {acted.isoformat()} 起 {days} 个工作日内应报送"
                    f"（截止 {deadline.isoformat()}），实际 {reported.isoformat()}",
                    f"due within {days} working days of {act.name} {acted.isoformat()} "
                    f"(by {deadline.isoformat()}), reported {reported.isoformat()}",
                )
            )
        return out

    return check


@kind("not_after_validation_day")
def _not_after(params: Mapping[str, Any], emit: Emit) -> Check:
    """A date that cannot lie after the day the record is validated (报送时间 in the future), give or take
    ``graceDays`` (Beijing report times against a validating node that may count days in UTC)."""
    targets = [Path(name) for name in params["fields"]]
    grace = timedelta(days=int(params.get("graceDays", 0)))

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        if ctx.on is None:
            return out
        for target in targets:
            day = _day(target.get(record))
            if day is not None and day > ctx.on + grace:
                out.append(
                    emit(
                        target.pointer,
                        f"{day.isoformat()} 晚于 {ctx.on.isoformat()}",
                        f"{day.isoformat()} is after {ctx.on.isoformat()}",
                    )
                )
        return out

    return check


@kind("not_before_validation_day")
def _not_before(params: Mapping[str, Any], emit: Emit) -> Check:
    """A date that must not have passed on the day of validation (an expired certificate)."""
    target = Path(params["field"])

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        day = _day(target.get(record))
        if ctx.on is not None and day is not None and day < ctx.on:
            out.append(
                emit(
                    target.pointer,
                    f"{day.isoformat()} 早于 {ctx.on.isoformat()}",
                    f"{day.isoformat()} is before {ctx.on.isoformat()}",
                )
            )
        return out

    return check


@kind("max_span")
def _max_span(params: Mapping[str, Any], emit: Emit) -> Check:
    """``end`` lies at most ``days`` calendar days after ``start`` unless ``unless`` is given."""
    start, end = Path(params["start"]), Path(params["end"])
    days, unless = int(params["days"]), Path(params["unless"]) if "unless" in params else None

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        a, b = _day(start.get(record)), _day(end.get(record))
        if a is None or b is None or (unless is not None and unless.get(record) not in (None, "")):
            return out
        if (b - a).days > days:
            out.append(
                emit(end.pointer, f"{(b - a).days} 日 > {days} 日", f"{(b - a).days} days > {days} days")
            )
        return out

    return check


@kind("year_window")
def _year_window(params: Mapping[str, Any], emit: Emit) -> Check:
    """A year (年度) within ``past`` years before and ``future`` years after the validation day's year."""
    target = Path(params["field"])
    past, future = int(params.get("past", 5)), int(params.get("future", 1))

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        value = target.get(record)
        if ctx.on is None or isinstance(value, bool) or not isinstance(value, int):
            return out
        low, high = ctx.on.year - past, ctx.on.year + future
        if not low <= value <= high:
            out.append(emit(target.pointer, f"{value} ∉ [{low}, {high}]", f"{value} not in [{low}, {high}]"))
        return out

    return check
