"""Structure checks: a record standard's JSON Schema 2020-12 through a fast engine (jsonschema-rs), with the
`jsonschema` package as the reference engine. Both map their errors to the same findings.

Each schema keyword family has one structural rule per standard (``SC-06.S001`` required, ``S002`` type,
``S003`` length, ``S004`` format, ``S005`` undefined field, ``S006`` enumerated value, ``S007`` range),
declared in the standard's data like every other rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import jsonschema
import jsonschema_rs

from standards.findings import Finding, escape_pointer
from standards.model import Field, RuleSpec, Standard
from standards.rules.base import Values, moment
from standards.schemagen import DATE_PATTERN, DATETIME_PATTERN, NOT_BLANK_PATTERN

__all__ = ["STRUCTURE_RULES", "Structure", "compile_structure", "field_path"]

# keyword -> structural rule suffix
_KEYWORD_RULE: Final[dict[str, str]] = {
    "required": "S001",
    "type": "S002",
    "maxLength": "S003",
    "minLength": "S003",
    "maxItems": "S003",
    "minItems": "S003",
    "pattern": "S004",
    "additionalProperties": "S005",
    "unevaluatedProperties": "S005",
    "false": "S005",
    "enum": "S006",
    "const": "S006",
    "minimum": "S007",
    "maximum": "S007",
    "exclusiveMinimum": "S007",
    "exclusiveMaximum": "S007",
}
STRUCTURE_RULES: Final[dict[str, tuple[str, str]]] = {
    "S001": ("缺少必填数据项或其为空值", "a required field is missing or blank"),
    "S002": ("数据项类型不符", "a field has the wrong type"),
    "S003": ("数据项长度或个数超出限制", "a field is too long, too short or has too many items"),
    "S004": ("数据项格式不符", "a field does not have the required format"),
    "S005": ("出现标准未定义的数据项", "a field is not defined by the standard"),
    "S006": ("数据项取值不在允许的值中", "a field takes a value outside the allowed values"),
    "S007": ("数值超出允许范围", "a number is outside the allowed range"),
}
_INDEX: Final = re.compile(r"/[0-9]+(?=/|$)")
_DATE_SHAPE: Final = re.compile(DATE_PATTERN)
_DATETIME_SHAPE: Final = re.compile(DATETIME_PATTERN)

Engine = Literal["fast", "reference"]


def field_path(pointer: str) -> str:
    """The field-table name of a JSON pointer: ``/objs/0/code`` → ``objs[].code``."""
    path = _INDEX.sub("[]", pointer).lstrip("/")
    return path.replace("/", ".").replace("[].", "[].").replace("~1", "/").replace("~0", "~")


def _pointer(parts: Iterable[str | int]) -> str:
    return "".join(f"/{escape_pointer(p)}" for p in parts)


@dataclass(frozen=True, slots=True)
class _Hit:
    suffix: str
    pointer: str


def _rs_hits(error: Any) -> Iterator[_Hit]:
    base = _pointer(error.instance_path)
    keyword = str(error.schema_path[-1]) if error.schema_path else "false"
    kind = error.kind
    suffix = _KEYWORD_RULE.get(keyword, "S002")
    if keyword == "pattern" and getattr(kind, "pattern", None) == NOT_BLANK_PATTERN:
        suffix = "S001"  # a blank required field is as good as a missing one (clause 4.1)
    if keyword == "required":
        yield _Hit(suffix, f"{base}/{escape_pointer(kind.property)}")
    elif keyword in {"additionalProperties", "unevaluatedProperties"}:
        for name in kind.unexpected:
            yield _Hit(suffix, f"{base}/{escape_pointer(name)}")
    else:
        yield _Hit(suffix, base)


def _reference_hits(error: jsonschema.ValidationError) -> Iterator[_Hit]:
    base = _pointer(error.absolute_path)
    keyword = str(error.validator)
    suffix = _KEYWORD_RULE.get(keyword, "S002")
    if keyword == "pattern" and error.validator_value == NOT_BLANK_PATTERN:
        suffix = "S001"
    instance = error.instance
    if keyword == "required" and isinstance(instance, dict):
        for name in error.validator_value:  # type: ignore[union-attr]  # a list for "required"
            if name not in instance:
                yield _Hit(suffix, f"{base}/{escape_pointer(name)}")
    elif keyword in {"additionalProperties", "unevaluatedProperties"} and isinstance(instance, dict):
        declared = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        for name in instance:
            if name not in declared:
                yield _Hit(suffix, f"{base}/{escape_pointer(name)}")
    else:
        yield _Hit(suffix, base)


class Structure:
    """A compiled structure check for one standard version: schema plus calendar-date checks."""

    def __init__(self, standard: Standard) -> None:
        if standard.schema is None:
            raise ValueError(f"{standard.key} has no schema")
        self.standard = standard
        schema = dict(standard.schema)
        self._fast = jsonschema_rs.Draft202012Validator(schema)
        self._reference = jsonschema.Draft202012Validator(schema)
        self._rules: dict[str, RuleSpec] = {
            r.id.rsplit(".", 1)[1]: r for r in standard.rules if r.kind == "schema"
        }
        self._labels: dict[str, Field] = {f.name: f for f in standard.fields}
        # Every date field, at any depth: a nested date-time gets the same check as a top-level one.
        self._dates = tuple(
            (Values(f.name), f.type) for f in standard.fields if f.type in {"date", "datetime"}
        )
        self.date_fields = tuple(f.name for f in standard.fields if f.type in {"date", "datetime"})

    def hits(self, record: object, engine: Engine = "fast") -> list[_Hit]:
        """Schema violations as (rule suffix, pointer) pairs, deduplicated, in a stable order."""
        found: dict[tuple[str, str], _Hit] = {}
        if engine == "fast":
            try:
                if self._fast.is_valid(record):
                    return []
                raw: Iterator[_Hit] = (h for e in self._fast.iter_errors(record) for h in _rs_hits(e))
                hits = list(raw)
            except Exception:  # noqa: BLE001 (lone surrogates and other values the Rust side cannot take)
                return self.hits(record, "reference")
        else:
            hits = [h for e in self._reference.iter_errors(record) for h in _reference_hits(e)]
        for h in hits:
            found.setdefault((h.suffix, h.pointer), h)
        return sorted(found.values(), key=lambda h: (h.pointer, h.suffix))

    def findings(self, record: object, engine: Engine = "fast", *, calendar: bool = True) -> list[Finding]:
        """Structure findings for a decoded record (``calendar=False``: without `calendar_findings`, which
        the caller then runs itself)."""
        if engine == "fast" and type(record) is dict:  # the common case: one call into the fast engine
            try:
                valid = self._fast.is_valid(record)
            except Exception:  # noqa: BLE001 (values the Rust side cannot take: the reference decides)
                valid = False
            if valid:
                return self.calendar_findings(record) if calendar else []
        out = [self._finding(h) for h in self.hits(record, engine)]
        if calendar and isinstance(record, dict):
            out.extend(self.calendar_findings(record))
        return out

    def calendar_findings(self, record: Mapping[str, Any]) -> list[Finding]:
        """Dates that have the right shape but do not exist (2024-02-30) fail S004 too."""
        return list(self._calendar(record))

    def _calendar(self, record: Mapping[str, Any]) -> Iterator[Finding]:
        for values, kind in self._dates:
            for pointer, value, _ in values(record):
                if type(value) is not str or moment(value) is not None:
                    continue
                shape = _DATE_SHAPE if kind == "date" else _DATETIME_SHAPE
                if shape.fullmatch(value):  # the right shape (else the schema said so) but no such moment
                    yield self._finding(_Hit("S004", pointer))

    def _finding(self, hit: _Hit) -> Finding:
        rule = self._rules.get(hit.suffix)
        rule_id = rule.id if rule else f"{self.standard.id}.{hit.suffix}"
        clause = rule.clause if rule else ""
        zh, en = STRUCTURE_RULES[hit.suffix]
        row = self._labels.get(field_path(hit.pointer))
        label_zh = f"“{row.label_zh}”（{row.name}）" if row else hit.pointer or "记录"
        label_en = f"{row.name} ({row.label_en})" if row else hit.pointer or "record"
        detail_zh, detail_en = _detail(hit.suffix, row)
        return Finding(
            rule_id,
            f"{self.standard.id} {clause}".strip(),
            rule.severity if rule else "error",
            hit.pointer,
            f"{zh}：{label_zh}{detail_zh}",
            f"{en}: {label_en}{detail_en}",
        )


_TYPE_ZH: Final = {
    "string": "字符串",
    "integer": "整数",
    "number": "数值",
    "boolean": "布尔值",
    "date": "日期 YYYY-MM-DD",
    "datetime": "日期时间 YYYY-MM-DDThh:mm:ss+08:00",
    "array": "数组",
    "object": "对象",
}
_TYPE_EN: Final = {
    "date": "a date YYYY-MM-DD",
    "datetime": "a date-time YYYY-MM-DDThh:mm:ss+08:00",
    "array": "an array",
    "object": "an object",
    "integer": "an integer",
    "boolean": "a boolean",
}


def _detail(suffix: str, row: Field | None) -> tuple[str, str]:
    """What the field table expects, in both languages (the same for both engines)."""
    if row is None:
        return "", ""
    if suffix == "S002" or (suffix == "S004" and row.type in {"date", "datetime"}):
        return (
            f"，应为{_TYPE_ZH.get(row.type, row.type)}",
            f", expected {_TYPE_EN.get(row.type, 'a ' + row.type)}",
        )
    if suffix == "S003" and row.max_length is not None:
        return f"，最多 {row.max_length} 个字符", f", at most {row.max_length} characters"
    if suffix == "S003" and row.max_items is not None:
        return f"，最多 {row.max_items} 项", f", at most {row.max_items} items"
    if suffix == "S004" and row.pattern:
        return f"，应匹配 {row.pattern}", f", must match {row.pattern}"
    if suffix == "S006" and row.enum:
        shown = " | ".join(row.enum)
        return f"，允许值：{shown}", f", allowed: {shown}"
    return "", ""


def compile_structure(standard: Standard) -> Structure:
    """Compile the structure check of a record standard (once per standard@version)."""
    return Structure(standard)
