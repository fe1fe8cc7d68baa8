"""Fixture discipline: every rule has a bad fixture that triggers it, good fixtures stay clean, and every
clause is covered by a rule, enforced by the gateway, or marked for human attestation with a reason."""

from __future__ import annotations

import pytest

from gateway.errors import ReasonCode
from standards import catalogue
from standards.rules import KINDS
from tests.standards.fixtures import Fixture, fixtures

ALL = list(fixtures())
GOOD = [f for f in ALL if f.good]
BAD = [f for f in ALL if not f.good]
RULES = {r.id: (s, r) for s in catalogue() for r in s.rules}


@pytest.mark.parametrize("fixture", GOOD, ids=lambda f: f.id)
def test_good_fixture_has_no_error_or_warning(fixture: Fixture) -> None:
    """A good fixture yields no error and no warning finding."""
    assert [] == [(f.rule_id, f.pointer) for f in fixture.findings() if f.severity != "info"]


@pytest.mark.parametrize("fixture", BAD, ids=lambda f: f.id)
def test_bad_fixture_triggers_its_rule(fixture: Fixture) -> None:
    """A bad fixture named after a rule triggers that rule."""
    assert fixture.rule_id in RULES
    assert fixture.rule_id in {f.rule_id for f in fixture.findings()}


def test_every_rule_has_a_bad_fixture() -> None:
    """Every rule id of every standard is triggered by at least one bad fixture."""
    triggered = {f.rule_id for f in BAD}
    assert [] == sorted(set(RULES) - triggered)


def test_every_standard_has_good_fixtures_when_it_holds_records() -> None:
    """Each record standard ships at least one good fixture per variant."""
    missing = []
    for standard in catalogue():
        if standard.kind != "record":
            continue
        names = {f.path.stem for f in GOOD if f.standard == standard.id and f.version == standard.version}
        expected = set(standard.variants)
        missing += [f"{standard.key}:{v}" for v in sorted(expected - names)]
        if not names:
            missing.append(standard.key)
    assert [] == missing


def test_every_clause_is_covered_or_attested() -> None:
    """Each clause has a rule, names existing covering rules or reason codes, or carries an attestation."""
    uncovered = []
    for standard in catalogue():
        own = {r.clause for r in standard.rules}
        for clause in standard.clauses:
            covered = (
                clause.id in own
                or (clause.covered_by and all(rid in RULES for rid in clause.covered_by))
                or (clause.enforced_by and all(code in ReasonCode.__members__ for code in clause.enforced_by))
                or (clause.attestation_zh and clause.attestation_en)
            )
            if not covered:
                uncovered.append(f"{standard.key} {clause.id}")
    assert [] == uncovered


def test_every_rule_names_an_existing_clause_and_a_known_kind() -> None:
    """Every rule points at a clause of its own standard and at a rule kind the validator implements."""
    broken = []
    for standard, rule in RULES.values():
        if rule.clause not in {c.id for c in standard.clauses} or rule.kind not in KINDS:
            broken.append(rule.id)
    assert [] == broken


def test_rule_ids_are_unique_and_prefixed_by_their_standard() -> None:
    """Rule ids are stable and traceable: ``SC-06.R001`` belongs to SC-06 and appears once per version."""
    for standard in catalogue():
        ids = [r.id for r in standard.rules]
        assert len(ids) == len(set(ids))
        assert all(rid.startswith(standard.id + ".") for rid in ids)
