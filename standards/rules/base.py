"""The rule-kind framework: context, compiled checks, field paths and conditions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from standards.findings import Finding, Severity, escape_pointer
from standards.model import RuleSpec

__all__ = [
    "KINDS",
    "Check",
    "Context",
    "Emit",
    "Path",
    "compile_rule",
    "condition",
    "is_blank",
    "iter_values",
    "kind",
    "scoped",
]


@dataclass(frozen=True, slots=True)
class Context:
    """What a check may know besides the record: the day of validation and where the record is bound."""

    on: date | None = None
    destination: str | None = None


Check = Callable[[Mapping[str, Any], Context], Iterable[Finding]]


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
    """Absent, null, empty string or empty list count as not given."""
    return value is None or value in ("", [])


class Path:
    """A field path relative to a scope: ``checkDate`` or ``taskInfo.taskNo``."""

    __slots__ = ("name", "parts", "pointer")

    def __init__(self, name: str) -> None:
        self.name = name
        self.parts = tuple(name.split("."))
        self.pointer = "".join(f"/{escape_pointer(p)}" for p in self.parts)

    def get(self, obj: Mapping[str, Any]) -> Any:
        """The value at this path, or None."""
        value: Any = obj
        for part in self.parts:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value


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
                if isinstance(item, Mapping):
                    yield f"{path.pointer}/{index}", item
        elif isinstance(items, Mapping):
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
            if isinstance(value, list):
                return any(v in allowed for v in value if isinstance(v, str | int | bool))
            return isinstance(value, str | int | bool) and value in allowed

        return within
    if "equals" in spec:
        expected = spec["equals"]
        return lambda obj: path.get(obj) == expected and type(path.get(obj)) is type(expected)
    present = bool(spec.get("present", True))
    return lambda obj: (not is_blank(path.get(obj))) is present


def iter_values(record: Mapping[str, Any], name: str) -> Iterator[tuple[str, Any, Mapping[str, Any]]]:
    """Every (pointer, value, containing object) of a field-table path, through arrays (``a[].b``)."""
    head, sep, rest = name.partition("[].")
    if not sep:
        path = Path(name)
        parent_parts, last = path.parts[:-1], path.parts[-1]
        obj: Any = record
        for part in parent_parts:
            obj = obj.get(part) if isinstance(obj, Mapping) else None
        if isinstance(obj, Mapping) and last in obj:
            yield path.pointer, obj[last], obj
        return
    items = Path(head).get(record)
    if isinstance(items, list):
        prefix = Path(head).pointer
        for index, item in enumerate(items):
            if isinstance(item, Mapping):
                for pointer, value, parent in iter_values(item, rest):
                    yield f"{prefix}/{index}{pointer}", value, parent
