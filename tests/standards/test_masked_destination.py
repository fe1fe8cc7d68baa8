"""A record masked by `standards.mask` for a destination class passes validation for that destination:
the rules never demand what SC-20 removes or hides for it (every record standard × every destination)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import standards
from standards import catalogue
from standards.masking import policy
from standards.validator import compiled, validate_record
from tests.standards.fixtures import fixtures

DESTINATIONS = sorted(policy().profiles)
RECORD_STANDARDS = {s.id for s in catalogue() if s.kind == "record"}
GOOD = [f for f in fixtures() if f.good and f.path.suffix == ".json" and f.standard in RECORD_STANDARDS]
CASES = [
    pytest.param(f, destination, id=f"{f.standard}/{f.path.stem}/{destination}")
    for f in GOOD
    for destination in DESTINATIONS
]


@pytest.mark.parametrize(("fixture", "destination"), CASES)
def test_a_record_masked_for_a_destination_passes_for_it(fixture: Any, destination: str) -> None:
    """mask(record, destination) gives a record with no error or warning when validated for destination."""
    record = json.loads(fixture.path.read_text(encoding="utf-8"))
    masked = standards.mask(record, destination, standard=fixture.standard)
    target = compiled(fixture.standard, fixture.version)
    for interpreted in (False, True):
        found = validate_record(
            masked, target, on=fixture.on, destination=destination, interpreted=interpreted
        )
        assert [] == [(f.rule_id, f.pointer) for f in found if f.severity != "info"]


def test_every_destination_class_and_record_standard_is_covered() -> None:
    """The cases span every destination class and every record standard."""
    covered = {f.standard for f in GOOD}
    assert RECORD_STANDARDS == covered
    assert {"internal", "national", "partner", "public"} == set(DESTINATIONS)


def test_an_unmasked_complaint_still_fails_for_public() -> None:
    """Masking rules still hold: the complainant's phone left in a public complaint is an error."""
    fixture = next(f for f in GOOD if f.standard == "SC-11" and f.path.stem == "complaint")
    record = json.loads(fixture.path.read_text(encoding="utf-8"))
    found = validate_record(record, compiled("SC-11", "1.0.0"), on=fixture.on, destination="public")
    assert "SC-20.R001" in {f.rule_id for f in found}
