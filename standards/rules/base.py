"""The rule-kind framework: context, compiled checks, field paths and conditions."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from standards.findings import Finding, Severity, escape_pointer
from standards.identifiers import parse_date, parse_datetime
from standards.model import RuleSpec

__all__ = [
    "KINDS",
    "Check",
    "Context",
    "Emit",
    "Path",
    "Values",
    "compile_rule",
    "condition",
    "is_blank",
    "kind",
    "moment",
    "scoped",
]


@dataclass(frozen=True, slots=True)
class Context:
    """What a check may know besides the record: the day of validation and where the record is bound."""

    on: date | None = None
    destination: str | None = None
    act_day: date | None = None  # the day the record speaks of (its act date), else ``on``


Check = Callable[[Mapping[str, Any], Context], list[Finding]]


class Emit:
    """Makes findings for one rule: its id, clause and messages, plus a detail in both languages."""

    __slots__ = ("clause", "rule")

    def __init__(self, rule: RuleSpec) -> None:
        self.rule = rule
        self.clause = f"{rule.id.split('.', 1)[0]} {rule.clause}"

    def __call__(self, pointer: str, zh: str = "", en: str = "", severity: Severity | None = None) -> Finding:
        """A finding of this rule at ``pointer``."""
        r = self.rule
        return Finding(
            r.id,
            self.clause,
            severity or r.severity,
            pointer,
            r.message_zh + (f"（{zh}）" if zh else ""),
            r.message_en + (f" ({en})" if en else ""),
        )


Factory = Callable[[Mapping[str, Any], Emit], Check]
KINDS: Final[dict[str, Factory]] = {}


def kind(name: str) -> Callable[[Factory], Factory]:
    """Register a rule kind under ``name``."""

    def register(factory: Factory) -> Factory:
        KINDS[name] = factory
        return factory

    return register


def compile_rule(rule: RuleSpec) -> Check:
    """The check a rule declares (KeyError for an unknown kind: the data is wrong, caught by tests)."""
    return KINDS[rule.kind](rule.params, Emit(rule))


def is_blank(value: object) -> bool:
    """Absent, null, an empty list, or a string that is empty or white space alone count as not given."""
    if type(value) is str:
        return not value or value.isspace()
    return value is None or value == []


class Path:
    """A field path relative to a scope: ``checkDate`` or ``taskInfo.taskNo``."""

    __slots__ = ("get", "name", "parts", "pointer")

    def __init__(self, name: str) -> None:
        self.name = name
        self.parts = tuple(name.split("."))
        self.pointer = "".join(f"/{escape_pointer(p)}" for p in self.parts)
        self.get: Callable[[Mapping[str, Any]], Any]
        if len(self.parts) == 1:
            self.get = _top_level(name)  # records are dicts: one probe
        else:
            self.get = self._get_nested

    def _get_nested(self, obj: Mapping[str, Any]) -> Any:
        """The value at this path, or None."""
        value: Any = obj
        for part in self.parts:
            if type(value) is not dict:
                return None
            value = value.get(part)
        return value


def moment(value: object) -> datetime | date | None:
    """A ``YYYY-MM-DD`` date or a ``YYYY-MM-DD HH:MM:SS`` date-time; None for anything else."""
    if type(value) is not str:
        return None
    return _parsed(value)


@functools.lru_cache(maxsize=16384)
def _parsed(value: str) -> datetime | date | None:
    # Records repeat the same days over and over; parsing each once keeps the rules cheap.
    if len(value) == 10:
        return parse_date(value)
    return parse_datetime(value)


def _top_level(key: str) -> Callable[[Mapping[str, Any]], Any]:
    def get(obj: Mapping[str, Any]) -> Any:
        return obj.get(key)

    return get


def scoped(scope: str | None) -> Callable[[Mapping[str, Any]], Iterator[tuple[str, Mapping[str, Any]]]]:
    """The objects a rule applies to: the record, or each element of ``scope`` (``a[]``, ``a.b[]``)."""
    if not scope:

        def whole(record: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
            yield "", record

        return whole
    path = Path(scope.removesuffix("[]"))

    def each(record: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
        items = path.get(record)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if type(item) is dict:
                    yield f"{path.pointer}/{index}", item
        elif type(items) is dict:
            yield path.pointer, items

    return each


def condition(spec: Mapping[str, Any] | None) -> Callable[[Mapping[str, Any]], bool]:
    """A condition on a record: ``{"field": f, "in": [...]}``, ``{"field": f, "equals": v}`` or
    ``{"field": f, "present": true}``."""
    if not spec:
        return lambda obj: True
    path = Path(spec["field"])
    if "in" in spec:
        allowed = tuple(spec["in"])

        def within(obj: Mapping[str, Any]) -> bool:
            value = path.get(obj)
            if type(value) is list:
                for v in value:  # noqa: SIM110 (a plain loop: no generator on the hot path)
                    if type(v) is str and v in allowed:
                        return True
                return False
            return type(value) is str and value in allowed

        return within
    if "equals" in spec:
        expected = spec["equals"]
        return lambda obj: path.get(obj) == expected and type(path.get(obj)) is type(expected)
    present = bool(spec.get("present", True))
    return lambda obj: (not is_blank(path.get(obj))) is present


class Values:
    """Every (pointer, value, containing object) of a field-table path, through arrays (``a[].b``)."""

    __slots__ = ("head", "leaf", "rest")

    def __init__(self, name: str) -> None:
        head, sep, rest = name.partition("[].")
        self.head = Path(head)
        self.rest = Values(rest) if sep else None
        self.leaf = self.head.parts[-1]

    def __call__(self, record: Mapping[str, Any]) -> Sequence[tuple[str, Any, Mapping[str, Any]]]:
        """The values present in ``record``."""
        if self.rest is None:
            parts = self.head.parts
            if len(parts) == 1:
                return [(self.head.pointer, record[self.leaf], record)] if self.leaf in record else ()
            obj: Any = record
            for part in parts[:-1]:
                obj = obj.get(part) if type(obj) is dict else None
            if type(obj) is dict and self.leaf in obj:
                return [(self.head.pointer, obj[self.leaf], obj)]
            return ()
        items = self.head.get(record)
        if type(items) is not list:
            return ()
        prefix = self.head.pointer
        return [
            (f"{prefix}/{index}{pointer}", value, parent)
            for index, item in enumerate(items)
            if type(item) is dict
            for pointer, value, parent in self.rest(item)
        ]
