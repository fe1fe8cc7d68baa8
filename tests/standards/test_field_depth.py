"""Per-field checks hold at every depth: a required text field is not blank (clause 4.1, 不为空值) and a
date or date-time names a real moment (clause S004), whether the field sits at the top of the record, in
an object (``taskInfo.startTime``) or in each element of an array (``inspectionList[].checkDate``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from standards import catalogue
from standards.model import Field, Standard
from standards.rules.base import Values, is_blank
from standards.validator import compiled, validate_record
from tests.standards.fixtures import fixtures

ON = date(2025, 6, 30)
RECORD_STANDARDS = [s for s in catalogue() if s.kind == "record"]


def _good(s: Standard) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for f in fixtures():
        if f.good and (f.standard, f.version) == (s.id, s.version) and f.path.suffix == ".json":
            found.append((f.path.stem, json.loads(f.path.read_text(encoding="utf-8"))))
    return found


def _put(record: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``record`` with the value at ``pointer`` replaced."""
    out: dict[str, Any] = json.loads(json.dumps(record))
    parts = pointer.lstrip("/").split("/")
    node: Any = out
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(parts[-1]) if isinstance(node, list) else parts[-1]] = value
    return out


def _cases(accept: Any) -> Iterator[Any]:
    """(standard, fixture, row, pointer) for every value of a field-table row the predicate accepts."""
    for s in RECORD_STANDARDS:
        for name, record in _good(s):
            variant = record.get(s.variant_field) if s.variant_field else None
            for row in s.fields:
                if not accept(row, variant) or row.name == s.variant_field:
                    continue
                for pointer, value, _ in Values(row.name)(record):
                    if isinstance(value, str):
                        yield pytest.param(s, record, row, pointer, id=f"{s.id}/{name}{pointer}")


def _required_text(row: Field, variant: str | None) -> bool:
    shown = not row.variants or variant in row.variants
    return row.type == "string" and row.required_in(variant) and shown


def _is_nested(name: str) -> bool:
    return "." in name or "[]" in name


BLANK = list(_cases(_required_text))


@pytest.mark.parametrize(("s", "record", "row", "pointer"), BLANK)
@pytest.mark.parametrize("blank", ["", "   ", "\t\u3000\n"], ids=["empty", "spaces", "mixed-whitespace"])
def test_a_blank_required_text_field_is_an_error(
    s: Standard, record: dict[str, Any], row: Field, pointer: str, blank: str
) -> None:
    """A required text field given as "" or whitespace alone is refused at its pointer, at any depth."""
    target = compiled(s.id, s.version)
    for interpreted in (False, True):
        found = validate_record(_put(record, pointer, blank), target, on=ON, interpreted=interpreted)
        assert pointer in {f.pointer for f in found if f.severity == "error"}, (row.name, interpreted)


def test_blank_checks_reach_nested_required_fields() -> None:
    """The cases hold nested required text fields (in objects and array elements), not only top-level ones."""
    nested = {p.values[2].name for p in BLANK if _is_nested(p.values[2].name)}
    assert nested, "no nested required text field in any good fixture"


def _dated(row: Field, variant: str | None) -> bool:
    return row.type in {"date", "datetime"}


DATED = list(_cases(_dated))
_IMPOSSIBLE_DATES = ["2025-02-30", "2025-13-01", "2025-06-00", "0000-06-30", "2025-04-31"]
_IMPOSSIBLE_TIMES = ["25:00:00", "10:60:00", "10:00:60", "24:00:00"]


@pytest.mark.parametrize(("s", "record", "row", "pointer"), DATED)
def test_an_impossible_date_or_time_is_an_error_at_any_depth(
    s: Standard, record: dict[str, Any], row: Field, pointer: str
) -> None:
    """Hour 25, minute 60, 30 February, month 13, day 00 and year 0000 are refused wherever the field sits."""
    target = compiled(s.id, s.version)
    values = list(_IMPOSSIBLE_DATES)
    if row.type == "datetime":
        values = [f"{d} 10:00:00" for d in _IMPOSSIBLE_DATES] + [f"2025-06-30 {t}" for t in _IMPOSSIBLE_TIMES]
    for value in values:
        for interpreted in (False, True):
            found = validate_record(_put(record, pointer, value), target, on=ON, interpreted=interpreted)
            hits = {(f.rule_id, f.pointer) for f in found if f.severity == "error"}
            assert (f"{s.id}.S004", pointer) in hits, (value, interpreted)


def test_date_checks_reach_nested_fields() -> None:
    """Nested date-times (SC-14 task information) are among the cases, not only top-level dates."""
    nested = {(p.values[0].id, p.values[2].name) for p in DATED if _is_nested(p.values[2].name)}
    assert any(standard == "SC-14" for standard, _ in nested), sorted(nested)


REQUIRED_IF = [
    (s, r) for s in RECORD_STANDARDS for r in s.rules if r.kind == "required_if" and "scope" not in r.params
]


@pytest.mark.parametrize(("s", "rule"), REQUIRED_IF, ids=lambda x: getattr(x, "id", ""))
def test_a_conditionally_required_field_given_as_white_space_is_not_given(s: Standard, rule: Any) -> None:
    """A field a rule requires under a condition counts as not given when it holds white space alone."""
    bad = [f for f in fixtures() if not f.good and f.rule_id == rule.id and f.path.suffix == ".json"]
    assert bad, rule.id
    record = json.loads(bad[0].path.read_text(encoding="utf-8"))
    pointer = "/" + "/".join(rule.params["field"].split("."))
    record = _put(record, pointer, " \u3000") if "." not in rule.params["field"] else record
    target = compiled(s.id, s.version)
    for interpreted in (False, True):
        found = validate_record(record, target, on=bad[0].on, interpreted=interpreted)
        assert rule.id in {f.rule_id for f in found}, interpreted


def _coded(row: Field, variant: str | None) -> bool:
    return bool(row.code_list or row.identifier) and row.type == "string"


CODED = list(_cases(_coded))


@pytest.mark.parametrize(("s", "record", "row", "pointer"), CODED)
def test_a_code_or_identifier_that_does_not_exist_is_an_error_at_any_depth(
    s: Standard, record: dict[str, Any], row: Field, pointer: str
) -> None:
    """A code-list value, region code or identifier that does not exist is refused wherever the field sits."""
    value = "123456" if row.code_list == "region" else "91510107MA6CX0T112" if row.identifier else "ZZ"
    target = compiled(s.id, s.version)
    for interpreted in (False, True):
        found = validate_record(_put(record, pointer, value), target, on=ON, interpreted=interpreted)
        assert pointer in {f.pointer for f in found if f.severity == "error"}, (row.name, value, interpreted)


def test_code_checks_reach_nested_fields() -> None:
    """Nested coded fields are among the cases."""
    assert any(_is_nested(p.values[2].name) for p in CODED)


def test_both_engines_and_is_blank_agree_on_every_white_space_character() -> None:
    """A required field holding one character is blank to the fast engine, the reference engine and the
    rules alike (U+001C-U+001F and U+0085 included): every character up to U+3100 (past the last white
    space, U+3000) and a few look-alikes beyond."""
    s = next(s for s in RECORD_STANDARDS if s.id == "SC-04")
    record = dict(_good(s)[0][1])
    target = compiled(s.id, s.version)
    differ = []
    for cp in [*range(0x3100), 0xFEFF, 0xFFFF, 0x1D173]:
        blank = chr(cp).isspace()
        found = [
            {f.rule_id for f in target.structure.findings(record | {"name": chr(cp)}, engine)}
            for engine in ("fast", "reference")
        ]
        if not (("SC-04.S001" in found[0]) == ("SC-04.S001" in found[1]) == blank == is_blank(chr(cp))):
            differ.append(hex(cp))
    assert [] == differ


def _required_list(row: Field, variant: str | None) -> bool:
    shown = not row.variants or variant in row.variants
    return row.type == "array" and row.items != "object" and row.required_in(variant) and shown


LISTS = [
    pytest.param(s, record, row, pointer, id=f"{s.id}{pointer}")
    for s in RECORD_STANDARDS
    for _, record in _good(s)
    for row in s.fields
    if _required_list(row, record.get(s.variant_field) if s.variant_field else None)
    for pointer, value, _ in Values(row.name)(record)
    if isinstance(value, list) and value and isinstance(value[0], str)
]


@pytest.mark.parametrize(("s", "record", "row", "pointer"), LISTS)
def test_a_blank_item_of_a_required_list_is_an_error(
    s: Standard, record: dict[str, Any], row: Field, pointer: str
) -> None:
    """A required list of text whose item is white space alone is refused at that item."""
    target = compiled(s.id, s.version)
    for interpreted in (False, True):
        found = validate_record(_put(record, f"{pointer}/0", "  "), target, on=ON, interpreted=interpreted)
        assert f"{pointer}/0" in {f.pointer for f in found if f.severity == "error"}, interpreted


def test_required_lists_of_text_are_among_the_cases() -> None:
    """The good fixtures give required lists of text to blank (penalty kinds, inspectors …)."""
    assert len(LISTS) >= 3
