"""The generated rule function of each standard (standards.rules.fused) finds exactly what the interpreted
rules find, in the same order, on every fixture and on mutations aimed at the fields the rules read."""

from __future__ import annotations

import functools
import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import standards.files
from standards import catalogue
from standards.findings import Finding
from standards.validator import compiled, validate_record
from tests.standards.fixtures import Fixture, fixtures

FIXTURES = list(fixtures())
RECORD_STANDARDS = [s for s in catalogue() if s.kind == "record"]


def _records(fixture: Fixture) -> list[Any]:
    if fixture.path.suffix != ".json":
        return []
    try:
        return [json.loads(fixture.path.read_text(encoding="utf-8"))]
    except ValueError:  # the decoding fixtures (GBK, truncated, NaN …)
        return []


GOOD = {
    s.key: [
        r for f in FIXTURES if f.good and (f.standard, f.version) == (s.id, s.version) for r in _records(f)
    ]
    for s in RECORD_STANDARDS
}
# Every value any fixture of a standard gives a top-level field: the values the rules were written for.
SEEN: dict[str, dict[str, list[Any]]] = {key: {} for key in GOOD}
for _f in FIXTURES:
    for _r in _records(_f):
        if type(_r) is dict and f"{_f.standard}@{_f.version}" in SEEN:
            for _name, _value in _r.items():
                SEEN[f"{_f.standard}@{_f.version}"].setdefault(_name, []).append(_value)

odd: st.SearchStrategy[Any] = st.sampled_from(
    [
        None, "", [], {}, True, False, 0, 1, -1, 0.5, 12.345, 1e300, 2.0, 50000.0, 3, "1", "01", "001", "111",
        "2024-01-01", "2025-06-30", "2025-07-01", "2025-02-30", "2025-06-30 23:59:59", "2026-01-01 00:00:00",
        "2024-10-08", "2025-06-05 08:00:00", "00000000000000", "5101002024000X", "510107", "510199", "999999",
        "91510107MA6CX0T113", "91510107MA6CX0T112", "138****5678", "510104********1234", ["01"], ["99", 1],
        "510104199001011234",
    ]
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A good record with one to four top-level fields replaced (by values seen in any fixture of the
    standard, by another field's value, or by odd ones) or removed."""
    key = draw(st.sampled_from(sorted(k for k in GOOD if GOOD[k])))
    record: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from(GOOD[key]))))
    names = sorted(SEEN[key])
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(names))
        choice = draw(st.integers(0, 5))
        if choice == 0:
            record.pop(name, None)
        elif choice == 1:
            record[name] = draw(odd)
        elif choice == 2 and record:  # another field's value: equal dates, equal amounts
            record[name] = record[draw(st.sampled_from(sorted(record)))]
        else:
            record[name] = draw(st.sampled_from(SEEN[key][name]))
    return key, record


def _both(key: str, record: Any, on: date | None, destination: str | None) -> tuple[list[Finding], ...]:
    standard_id, version = key.split("@")
    target = compiled(standard_id, version)
    fused = validate_record(record, target, on=on, destination=destination)
    interpreted = validate_record(record, target, on=on, destination=destination, interpreted=True)
    return fused, interpreted


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.id)
def test_fused_rules_agree_on_every_fixture(fixture: Fixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fixture (JSON, JSONL or CSV) gets the same findings from the generated and interpreted rules."""
    fused = fixture.findings()
    reference = functools.partial(validate_record, interpreted=True)
    monkeypatch.setattr(standards.files, "validate_record", reference)
    assert fixture.findings() == fused


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mutated(),
    st.sampled_from([None, date(2025, 6, 30), date(2024, 1, 2), date(2025, 10, 9), date(1999, 1, 1)]),
    st.sampled_from([None, None, "internal", "national", "partner", "public"]),
)
def test_fused_rules_agree_on_mutations(
    case: tuple[str, dict[str, Any]], on: date | None, destination: str | None
) -> None:
    """A good record with fields replaced or removed gets the same findings, in the same order, both ways."""
    key, record = case
    fused, interpreted = _both(key, record, on, destination)
    assert interpreted == fused


def test_every_record_standard_compiles_to_one_function() -> None:
    """Each record standard has a generated rule function whose source names every one of its rules."""
    for s in RECORD_STANDARDS:
        target = compiled(s.id, s.version)
        source = target.fused.__doc__ or ""
        assert [] == [rule.id for rule, _ in target.checks if f"# {rule.id} " not in source]


@pytest.mark.parametrize(
    ("edit", "rule_id"),
    [
        ({"closingDate": "2025-05-06"}, "SC-06.R002"),  # closed the day it was filed: not after
        ({"closingDate": "2025-01-01"}, "SC-06.R002"),
        ({"fineAmount": 5.123456}, "SC-06.R006"),
        ({"paidFineAmount": 60000}, "SC-06.R013"),
        ({"counterpartIdCode": "91510107MA6CX0T112"}, "SC-16.R005"),
        ({"regionCode": "999999"}, "SC-16.R007"),
        ({"reportTime": "2025-06-27 09:00:00"}, "SC-18.R001"),
        ({"reportTime": "2025-07-03 09:00:00"}, "SC-18.R002"),
    ],
)
def test_a_broken_rule_is_found_by_both_paths(edit: dict[str, Any], rule_id: str) -> None:
    """A penalty record edited to break one rule gets that rule's finding from both paths alike."""
    record = json.loads(json.dumps(GOOD["SC-06@1.0.0"][0])) | edit
    fused, interpreted = _both("SC-06@1.0.0", record, date(2025, 6, 30), None)
    assert interpreted == fused
    assert rule_id in [f.rule_id for f in fused]
