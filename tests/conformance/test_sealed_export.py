"""An adapter's export with sealed fields (wire.md §12) is judged by the suite exactly as the hub's step 8
judges the same envelope: accepted there, no error finding here; refused there, the same reason here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import standards
from conformance.assess import assess_envelope
from conformance.samples import exported_record
from gateway.freshness import MemorySeenIds
from gateway.keys import Algorithm
from gateway.pipeline import judge
from gateway.sealed_records import seal_payload
from gateway.testing import Federation
from gateway.validation import standards_validator

NOW = datetime(2025, 6, 20, 9, 0, tzinfo=UTC)
DISPATCH = Path(standards.__file__).parent / "data/SC-13/1.0.0/fixtures/good/dispatch.json"


@pytest.fixture(scope="module")
def fed() -> Federation:
    return Federation.create(NOW, algorithm=Algorithm.SM2_SM3)


def _export(
    fed: Federation, seal: tuple[str, ...], *, masked: bool = True, for_node: str = "cq.hub"
) -> bytes:
    """sc.amr's SC-13 clue for cq.hub with `seal` sealed for `for_node`'s key, as an export would carry it."""
    record: Any = json.loads(DISPATCH.read_bytes())
    if masked:
        record = standards.mask(record, "partner", standard="SC-13")
    message = fed.message("sc.amr", for_node, standard="SC-13", payload=record, action="dispatch")
    message.payload = seal_payload(message, seal, fed.trust)
    message.recipient = "cq.hub"  # sealed for another node's key: nobody at cq.hub could open it
    return fed.envelope(message)


CASES = {
    "party number sealed": lambda fed: _export(fed, ("/partyIdCode",)),
    "non-personal field sealed": lambda fed: _export(fed, ("/illegalFact",)),
    "sealed for the hub's key": lambda fed: _export(fed, ("/partyIdCode",), for_node="sc.hub"),
    "full phone sealed for the partner": lambda fed: _export(fed, ("/contactPhone",), masked=False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_suite_judges_a_sealed_export_as_the_hub_does(fed: Federation, case: str) -> None:
    data = CASES[case](fed)
    seen = MemorySeenIds()
    trust = fed.trust
    verdict = judge(data, trust=trust, local_node="sc.hub", now=NOW, seen=seen, validate=standards_validator)
    facts, message = assess_envelope(data, fed.trust, now=NOW, destination="partner")
    assert message is not None
    errors = {f["ruleId"] for f in facts.findings + facts.masking if f["severity"] == "error"}
    hub_errors = {f.rule_id for f in verdict.findings if f.severity == "error"}
    hub_errors |= {r.value for r in verdict.reasons if not verdict.findings}
    assert hub_errors == errors
    assert verdict.accepted == (case == "party number sealed")


def test_a_sealed_export_is_no_basis_for_a_probe(fed: Federation) -> None:
    """The probes are built from an exported record: one with sealed values (bound to its own message) is
    passed over for a clear one."""
    sealed, clear = _export(fed, ("/partyIdCode",)), _export(fed, ())
    assert exported_record([sealed]) is None
    record = exported_record([sealed, clear])
    assert record is not None
    assert isinstance(record["partyIdCode"], str)
