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

#: ``run(record, on, destination, findings)``: appends what the rules find to ``findings``.
Fused = Callable[[Mapping[str, Any], "date | None", "str | None", list[Finding]], None]
_NUMBERS: Final = (int, float)
_SCALARS: Final = (str, bool, int, float)
_CONDITIONAL: Final = frozenset({"required_if", "absent_if", "allowed_if", "date_order", "timeliness"})


def _plain(name: object) -> bool:
    """A top-level field name (one dictionary probe), not a path into objects or arrays."""
    return isinstance(name, str) and name != "" and "." not in name and "[]" not in name


def _given(v: str) -> str:
    """The expression of ``not is_blank(v)`` (`standards.rules.base.is_blank`), inline."""
    return f'({v} is not None and {v} != "" and {v} != [] and not (type({v}) is str and {v}.isspace()))'


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


def _steps(name: str) -> tuple[str, tuple[str, ...]]:
    """``a.b[].c`` → (``a``, (``b``, ``[]``, ``c``)): the top-level key and the steps below it."""
    parts = [p for part in name.split(".") for p in (part.removesuffix("[]"), "[]" * part.endswith("[]"))]
    steps = tuple(p for p in parts if p)
    return steps[0], steps[1:]


def _moments_ok(node: object, steps: tuple[str, ...]) -> bool:
    """True when every string at ``steps`` below ``node`` is a real date or date-time (the calendar
    check of `standards.structure` is then silent); absent or odd values are the schema's business."""
    for index, step in enumerate(steps):
        if step == "[]":
            if type(node) is not list:
                return True
            rest = steps[index + 1 :]
            for item in node:  # noqa: SIM110 (a plain loop: no generator on the hot path)
                if not _moments_ok(item, rest):
                    return False
            return True
        if type(node) is not dict:
            return True
        node = node.get(step)
    return type(node) is not str or _parsed(node) is not None


def _listed(value: object, labels: Mapping[str, Any]) -> bool:
    """True when ``value`` is a list whose every item is a listed code."""
    if type(value) is not list:
        return False
    for item in value:  # noqa: SIM110 (a plain loop: no generator on the hot path)
        if type(item) is not str or item not in labels:
            return False
    return True


def _within(value: object, allowed: tuple[str, ...]) -> bool:
    """The ``in`` condition of `standards.rules.base.condition`: a listed string, or a list holding one."""
    if type(value) is list:
        for v in value:  # noqa: SIM110 (a plain loop: no generator on the hot path)
            if type(v) is str and v in allowed:
                return True
        return False
    return type(value) is str and value in allowed


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
            "_within": _within,
            "_moments_ok": _moments_ok,
            "_Context": Context,
            "_record_date": codes.record_date,
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


def _condition(spec: Mapping[str, Any] | None, w: _Writer) -> str | None:
    """The expression of a rule's ``when`` condition (as `standards.rules.base.condition` reads it)."""
    if not spec:
        return "True"
    if not _plain(spec.get("field")):
        return None
    v = w.value(spec["field"])
    if "in" in spec:
        return f"_within({v}, {w.const(tuple(spec['in']))})"
    if "equals" in spec:
        expected = w.const(spec["equals"])
        return f"({v} == {expected} and type({v}) is type({expected}))"
    present = bool(spec.get("present", True))
    return f"({_given(v)} is {present})"


def _clean_test(rule: RuleSpec, w: _Writer) -> str | None:
    """An expression that is true only where ``rule`` finds nothing; None when there is no such test."""
    test = _unconditional(rule, w)
    if test is None or rule.kind not in _CONDITIONAL:
        return test
    when = _condition(rule.params.get("when"), w)
    if when == "True":
        return test
    return None if when is None else f"({test}) or not ({when})"


def _unconditional(rule: RuleSpec, w: _Writer) -> str | None:
    """A clean test that holds whatever the rule's ``when`` condition says."""
    p = rule.params
    if p.get("scope"):
        return None
    kind = rule.kind
    if kind in {"schema", "decode", "file"}:
        return "True"
    if kind == "masked":
        return "destination is None"
    if kind in {"required_if", "absent_if", "item_code", "allowed_if", "money_unit", "range"}:
        if not _plain(p.get("field")):
            return None
        v = w.value(p["field"])
        if kind == "required_if":  # given: silent whatever the condition says
            return _given(v)
        if kind == "absent_if":
            return f"(not {_given(v)})"
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
        return (
            f"({a} is None or {b} is None or (type({a}) is type({b}) and {b} {order} {a})"
            f" or (type({a}) is not type({b}) and _day({b}) {order} _day({a})))"
        )
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
            f"_in_time({w.moment(act)}, {w.value(report)}, {w.moment(report)}, on,"
            f" {int(p['workingDays'])})"
        )
    if kind == "not_after_validation_day":
        if not all(_plain(f) for f in p["fields"]):
            return None
        grace = w.const(int(p.get("graceDays", 0)))
        tests = [f"({m} is None or (_day({m}) - on).days <= {grace})" for m in map(w.moment, p["fields"])]
        return "(on is None or (" + " and ".join(tests or ["True"]) + "))"
    return _code_test(rule, w)


def _code_test(rule: RuleSpec, w: _Writer) -> str | None:
    """Clean tests of the SC-16 code and identifier rules (top-level fields only)."""
    p, kind = rule.params, rule.kind
    if kind == "identifier":
        if not all(_plain(path) for path, _ in p["fields"]):
            return None
        tests = [
            f"({v} is None or (type({v}) is str and not {w.const(codes._ID_CHECKS[t])}({v}, act_day)))"
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
                f" or (type({v}) is str and not {by_type}[{c}]({v}, act_day)))"
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
            f"({v} is None or (type({v}) is str and _region_status({v}, act_day) is _VALID))"
            for v in map(w.value, p["fields"])
        ]
        return " and ".join(tests)
    if kind == "industry":
        if not all(_plain(name) for name in p["fields"]):
            return None
        section, division = w.const(codelists.industry), w.const(codelists.industry_division)
        tests = [
            f"({v} is None or (type({v}) is str"
            f" and ({section}({v}) is not None or {division}({v}) is not None)))"
            for v in map(w.value, p["fields"])
        ]
        return " and ".join(tests)
    return None


def fuse(
    checks: Sequence[tuple[RuleSpec, Check]],
    *,
    label: str = "standard",
    act: str | list[str] | None = None,
    dates: Sequence[str] = (),
    calendar: Callable[[Mapping[str, Any]], list[Finding]] | None = None,
) -> Fused:
    """One function ``run(record, on, destination, findings)`` that appends what ``checks`` find, in their
    order, after the calendar findings of the structure check (``calendar`` over the ``dates`` fields).

    ``act`` is the standard's act-date field: the day the identifier and region rules judge by.
    """
    w = _Writer()
    body: list[str] = []
    if calendar is not None:
        tests = []
        for n in dates:
            if _plain(n):
                tests.append(f"(type({w.value(n)}) is not str or {w.moment(n)} is not None)")
            else:  # a nested date: its top-level container is read once, the rest walked
                top, parts = _steps(n)
                tests.append(f"_moments_ok({w.value(top)}, {w.const(parts)})")
        body += [f"if not ({' and '.join(tests or ['True'])}):", f"    extend({w.const(calendar)}(record))"]
    for rule, check in checks:
        test = _clean_test(rule, w)
        call = [
            "    if ctx is None:",
            "        ctx = _Context(on, destination, act_day)",
            f"    found = {w.const(check)}(record, ctx)",
            "    if found:",
            "        extend(found)",
        ]
        body.append(f"# {rule.id} {rule.kind}")
        if test is None:
            body += [line[4:] for line in call]
        elif test != "True":
            body += [f"if not ({test}):", *call]
    if isinstance(act, str) and _plain(act):
        m = w.moment(act)
        day = f"act_day = _day({m}) if {m} is not None else on"
    else:
        day = f"act_day = _record_date(record, {w.const(act)}, on)"
    head = ["extend = findings.extend", "get = record.get", "ctx = None"]
    head += [f"{var} = get({name!r})" for name, var in w.values.items()]
    head += [
        f"{var} = _parsed({w.values[name]}) if type({w.values[name]}) is str else None"
        for name, var in w.moments.items()
    ]
    source = "def run(record, on, destination, findings):\n"
    source += "".join(f"    {line}\n" for line in [*head, day, *body])
    namespace: dict[str, Any] = dict(w.names)
    exec(compile(source, f"<rules of {label}>", "exec"), namespace)  # noqa: S102 (our own generated text)
    run: Fused = namespace["run"]
    run.__doc__ = source
    return run
