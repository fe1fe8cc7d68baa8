"""Differential test: the fast engine (jsonschema-rs) and the reference engine (jsonschema) reach the same
verdicts, and the same structural findings, on every fixture and on generated mutations of good records."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import standards
from standards import catalogue
from standards.payload import decode_record
from standards.structure import Structure
from standards.validator import compiled
from tests.standards.fixtures import Fixture, fixtures

DAY = date(2025, 6, 30)
JSON_FIXTURES = [f for f in fixtures() if f.path.suffix == ".json"]
RECORD_STANDARDS = [s for s in catalogue() if s.kind == "record"]
GOOD = {
    s.key: [
        json.loads(f.path.read_text(encoding="utf-8"))
        for f in JSON_FIXTURES
        if f.good and f.standard == s.id and f.version == s.version
    ]
    for s in RECORD_STANDARDS
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "2025-06-30", "2025-02-30", "2025-06-30 12:00:00", "001", "1", "ZZ", "字" * 3000])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def both(structure: Structure, record: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(rule suffix, pointer) pairs from the fast and from the reference engine."""
    fast = [(h.suffix, h.pointer) for h in structure.hits(record, "fast")]
    reference = [(h.suffix, h.pointer) for h in structure.hits(record, "reference")]
    return fast, reference


@pytest.mark.parametrize("fixture", JSON_FIXTURES, ids=lambda f: f.id)
def test_engines_agree_on_every_fixture(fixture: Fixture) -> None:
    """For every decodable fixture both engines find the same structural problems."""
    record, _ = decode_record(fixture.path.read_bytes(), fixture.limits)
    if record is None:
        return
    fast, reference = both(compiled(fixture.standard, fixture.version).structure, record)
    assert reference == fast


def _paths(record: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(record, dict):
        for key, value in record.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(record, list):
        for index, value in enumerate(record):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    """A good record of some standard with one to three random edits (replace, delete, add)."""
    key = draw(st.sampled_from(sorted(GOOD)))
    record = json.loads(json.dumps(draw(st.sampled_from(GOOD[key]))))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(record)
        if not paths or (draw(st.booleans()) and isinstance(record, dict)):
            record[draw(st.text(min_size=1, max_size=10))] = draw(values)
            continue
        path = draw(st.sampled_from(paths))
        parent = record
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(values)
    return key, record


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_engines_agree_on_mutations(case: tuple[str, Any]) -> None:
    """On mutated records both engines reach the same verdict with the same (rule, pointer) findings."""
    key, record = case
    standard_id, version = key.split("@")
    fast, reference = both(compiled(standard_id, version).structure, record)
    assert (reference == []) == (fast == [])
    assert reference == fast


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from([None, "internal", "national", "partner", "public"]))
def test_validator_never_raises_on_mutated_records(case: tuple[str, Any], destination: str | None) -> None:
    """Whatever a mutation does to a good record, every rule of every standard answers with findings."""
    key, record = case
    standard_id, version = key.split("@")
    payload = json.dumps(record, ensure_ascii=False).encode()
    findings = standards.validate(payload, standard_id, version, on=DAY, destination=destination)
    assert all(f.rule_id and f.message_zh and f.message_en for f in findings)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_validator_never_raises_on_arbitrary_bytes(payload: bytes) -> None:
    """Arbitrary bytes are judged, never a crash."""
    standards.validate(payload, "SC-06", "1.0.0", on=DAY)
