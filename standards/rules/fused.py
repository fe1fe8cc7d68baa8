"""One generated function per standard that runs all its rules, with a clean path that costs little.

`fuse` reads a compiled standard's rules (kind and parameters) and writes the source of one Python
function: every top-level field a rule reads is fetched once, every date is parsed once, and each rule
is guarded by an inline *clean test* built from its parameters (``the decision date is not before the
filing date``, ``the code is in the list``…). When the test proves the rule silent, the rule is skipped;
when it cannot (a value is missing, odd, or wrong), the rule's own check runs and says what it says.

So findings always come from the interpreted checks in `standards.rules`, in the same order: a clean
test may only be *stricter* than its rule, never looser. A kind without a clean test, or a rule whose
fields are nested or scoped, is always run. `tests/standards/test_fused.py` holds the two paths equal
on every fixture and on generated mutations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from standards import codelists
from standards.calendar import CalendarNotCovered
from standards.findings import Finding
from standards.model import RuleSpec
from standards.rules import codes, time
from standards.rules.base import Check, Context, _parsed

__all__ = ["Fused", "fuse"]

Fused = Callable[[Mapping[str, Any], Context, list[Finding]], None]
_NUMBERS: Final = (int, float)
_SCALARS: Final = (str, bool, int, float)


def _plain(name: object) -> bool:
    """A top-level field name (one dictionary probe), not a path into objects or arrays."""
    return isinstance(name, str) and name != "" and "." not in name and "[]" not in name


def _day(moment: date | None) -> date | None:
    return moment.date() if isinstance(moment, datetime) else moment


def _in_time(acted: date | datetime | None, report: object, reported: date | datetime | None,
             on: date | None, days: int) -> bool:
    """True when a timeliness rule is certainly silent (acted and reported within the working days)."""
    act_day = _day(acted)
    report_day = _day(reported) if report is not None else on
    if act_day is None or report_day is None or report_day <= act_day:
        return True
    try:
        return report_day <= time._deadline(act_day, days)
    except CalendarNotCovered:
        return False


def _listed(value: object, labels: Mapping[str, Any]) -> bool:
    """True when ``value`` is a list whose every item is a listed code."""
    if type(value) is not list:
        return False
    for item in value:
        if type(item) is not str or item not in labels:
            return False
    return True


class _Writer:
    """Collects hoisted field reads, parsed dates and constants while clean tests are written."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.moments: dict[str, str] = {}
        self.names: dict[str, Any] = {
            "_parsed": _parsed,
            "_day": _day,
            "_in_time": _in_time,
            "_NUMBERS": _NUMBERS,
            "_SCALARS": _SCALARS,
            "_listed": _listed,
            "_VALID": codelists.RegionStatus.VALID,
            "_region_status": codes._region_status,
        }

    def value(self, name: str) -> str:
        """The local variable holding ``record.get(name)``."""
        return self.values.setdefault(name, f"v{len(self.values)}")

    def moment(self, name: str) -> str:
        """The local variable holding the parsed date or date-time of a field (None when not one)."""
        self.value(name)
        return self.moments.setdefault(name, f"m{len(self.moments)}")

    def const(self, obj: Any) -> str:
        """A name bound to ``obj`` in the generated function's globals."""
        name = f"k{len(self.names)}"
        self.names[name] = obj
        return name


def _clean_test(rule: RuleSpec, w: _Writer) -> str | None:
    """An expression that is true only where ``rule`` finds nothing; None when there is no such test."""
    p = rule.params
    if p.get("scope"):
        return None
    kind = rule.kind
    if kind in {"schema", "decode", "file"}:
        return "True"
    if kind == "masked":
        return "ctx.destination is None"
    if kind in {"required_if", "absent_if", "item_code", "allowed_if", "money_unit", "range"}:
        if not _plain(p.get("field")):
            return None
        v = w.value(p["field"])
        if kind == "required_if":  # given: silent whatever the condition says
            return f'({v} is not None and {v} != "" and {v} != [])'
        if kind == "absent_if":
            return f'({v} is None or {v} == "" or {v} == [])'
        if kind == "item_code":
            zeros = w.const("0" * 14)
            return (
                f"({v} is None or (type({v}) is str and len({v}) == 14 and {v}.isascii()"
                f" and {v}.isdigit() and {v} != {zeros}))"
            )
        if kind == "allowed_if":  # one of the values, of the same JSON type
            allowed = w.const(frozenset((type(x), x) for x in p["values"]))
            return f"({v} is None or (type({v}) in _SCALARS and (type({v}), {v}) in {allowed}))"
        if kind == "money_unit":  # whole numbers have no decimals; anything else is left to the rule
            cap = p.get("plausibleMax")
            size = "" if cap is None else f" and {v} <= {w.const(cap)}"
            return (
                f"((type({v}) is not float and type({v}) is not int) or ((type({v}) is int"
                f" or {v}.is_integer()){size}))"
            )
        bounds = [f"{v} >= {w.const(p['min'])}"] if p.get("min") is not None else []
        bounds += [f"{v} <= {w.const(p['max'])}"] if p.get("max") is not None else []
        inside = " and ".join(bounds) or "True"
        return f"(not isinstance({v}, _NUMBERS) or type({v}) is bool or ({inside}))"
    if kind == "date_order":
        if not (_plain(p.get("earlier")) and _plain(p.get("later"))):
            return None
        a, b = w.moment(p["earlier"]), w.moment(p["later"])
        order = ">" if p.get("strict") else ">="
        return f"({a} is None or {b} is None or (type({a}) is type({b}) and {b} {order} {a}))"
    if kind == "number_order":
        if not (_plain(p.get("smaller")) and _plain(p.get("larger"))):
            return None
        a, b = w.value(p["smaller"]), w.value(p["larger"])
        return f"(type({a}) not in _NUMBERS or type({b}) not in _NUMBERS or {a} <= {b})"
    if kind == "timeliness":
        act = p["act"]
        if not (_plain(act) and _plain(p.get("report"))):
            return None
        report = p["report"]
        return (
            f"_in_time({w.moment(act)}, {w.value(report)}, {w.moment(report)}, ctx.on,"
            f" {int(p['workingDays'])})"
        )
    if kind == "not_after_validation_day":
        if not all(_plain(f) for f in p["fields"]):
            return None
        grace = w.const(int(p.get("graceDays", 0)))
        tests = [f"({m} is None or (_day({m}) - ctx.on).days <= {grace})" for m in map(w.moment, p["fields"])]
        return "(ctx.on is None or (" + " and ".join(tests or ["True"]) + "))"
    return _code_test(rule, w)


def _code_test(rule: RuleSpec, w: _Writer) -> str | None:
    """Clean tests of the SC-16 code and identifier rules (top-level fields only)."""
    p, kind = rule.params, rule.kind
    if kind == "identifier":
        if not all(_plain(path) for path, _ in p["fields"]):
            return None
        tests = [
            f"({v} is None or (type({v}) is str and not {w.const(codes._ID_CHECKS[t])}({v}, ctx.act_day)))"
            for v, t in ((w.value(path), t) for path, t in p["fields"])
        ]
        return " and ".join(tests)
    if kind == "certificate":
        if not all(_plain(value) and _plain(kind_of) for value, kind_of in p["fields"]):
            return None
        by_type = w.const({code: codes._ID_CHECKS[t] for code, t in p["checks"].items()})
        tests = []
        for value, kind_of in p["fields"]:
            v, c = w.value(value), w.value(kind_of)
            tests.append(
                f"(type({c}) is not str or {by_type}.get({c}) is None or {v} is None"
                f" or (type({v}) is str and not {by_type}[{c}]({v}, ctx.act_day)))"
            )
        return " and ".join(tests)
    if kind == "code_list":
        if not all(_plain(name) for name, _ in p["fields"]):
            return None
        tests = []
        for name, listed in p["fields"]:
            v, labels = w.value(name), w.const(codelists.code_list(listed).labels)
            tests.append(f"({v} is None or (type({v}) is str and {v} in {labels}) or _listed({v}, {labels}))")
        return " and ".join(tests)
    if kind == "region":
        if not all(_plain(name) for name in p["fields"]):
            return None
        tests = [
            f"({v} is None or (type({v}) is str and _region_status({v}, ctx.act_day) is _VALID))"
            for v in map(w.value, p["fields"])
        ]
        return " and ".join(tests)
    return None


def fuse(checks: Sequence[tuple[RuleSpec, Check]], label: str = "standard") -> Fused:
    """One function ``run(record, ctx, findings)`` that appends what ``checks`` find, in their order."""
    w = _Writer()
    body: list[str] = []
    for rule, check in checks:
        name = w.const(check)
        test = _clean_test(rule, w)
        call = [f"    found = {name}(record, ctx)", "    if found:", "        extend(found)"]
        body.append(f"# {rule.id} {rule.kind}")
        if test is None:
            body += [line[4:] for line in call]
        elif test != "True":
            body += [f"if not ({test}):", *call]
    head = ["extend = findings.extend", "get = record.get"]
    head += [f"{var} = get({name!r})" for name, var in w.values.items()]
    head += [
        f"{var} = _parsed({w.values[name]}) if type({w.values[name]}) is str else None"
        for name, var in w.moments.items()
    ]
    source = "def run(record, ctx, findings):\n" + "".join(f"    {line}\n" for line in head + body)
    namespace: dict[str, Any] = dict(w.names)
    exec(compile(source, f"<rules of {label}>", "exec"), namespace)  # noqa: S102 (our own generated text)
    run: Fused = namespace["run"]
    run.__doc__ = source
    return run
