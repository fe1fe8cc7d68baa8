"""Step 8 enforces SC-20: what leaves the province must be masked for its destination class."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import standards
from gateway.errors import ReasonCode
from gateway.freshness import MemorySeenIds
from gateway.pipeline import judge
from gateway.testing import Federation
from gateway.validation import standards_validator

NOW = datetime(2025, 6, 20, 9, 0, tzinfo=UTC)
DISPATCH = Path(standards.__file__).parent / "data/SC-13/1.0.0/fixtures/good/dispatch.json"


@pytest.fixture(scope="module")
def fed() -> Federation:
    return Federation.create(NOW)


def clue_to_chongqing(fed: Federation, record: dict[str, object]) -> bytes:
    return fed.envelope(fed.message("sc.amr", "cq.hub", standard="SC-13", payload=record, action="dispatch"))


def test_recipients_map_to_destination_classes(fed: Federation) -> None:
    """The partner is 'partner', the national system 'national', the province's own nodes 'internal'."""
    assert ["partner", "national", "internal", "internal"] == [
        fed.trust.destination_of(n) for n in ("cq.hub", "cn.national", "sc.amr", "sc.hub")
    ]


def test_an_unmasked_clue_for_the_partner_is_refused_at_the_hub(fed: Federation) -> None:
    """A clue with a full phone number bound for Chongqing is RULE_VIOLATION with the SC-20 finding."""
    record = json.loads(DISPATCH.read_bytes())
    verdict = judge(
        clue_to_chongqing(fed, record),
        trust=fed.trust,
        local_node="sc.hub",
        now=NOW,
        seen=MemorySeenIds(),
        validate=standards_validator,
    )
    assert (ReasonCode.RULE_VIOLATION,) == verdict.reasons
    assert [("SC-20.R002", "/contactPhone")] == [
        (f.rule_id, f.pointer) for f in verdict.findings if f.severity == "error"
    ]


def test_the_same_clue_masked_for_the_partner_is_accepted(fed: Federation) -> None:
    """Masked with SC-20's partner profile (SC-13 keeps the party's number), the clue passes."""
    record = standards.mask(json.loads(DISPATCH.read_bytes()), "partner", standard="SC-13")
    verdict = judge(
        clue_to_chongqing(fed, record),
        trust=fed.trust,
        local_node="sc.hub",
        now=NOW,
        seen=MemorySeenIds(),
        validate=standards_validator,
    )
    assert verdict.accepted, [(f.rule_id, f.pointer, f.message_en) for f in verdict.findings]
