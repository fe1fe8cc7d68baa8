"""SC-20 masked values and the SC-16 identifier rules: a record masked for the partner still validates."""

from __future__ import annotations

import json

import pytest

import standards
from standards.rules.codes import masked


@pytest.mark.parametrize("value", ["138****5678", "028*****1234", "510104********1234", "****"])
def test_the_shapes_sc20_masking_leaves_are_recognised(value: str) -> None:
    """Phones 前3后4, identity numbers 前6后4 and fully hidden short values count as masked."""
    assert masked(value)


@pytest.mark.parametrize("value", ["13812345678", "510104199001011234", "12*4", ""])
def test_clear_and_malformed_values_are_not_taken_for_masked_ones(value: str) -> None:
    """A clear number, or a stray star, is still checked by the identifier rules."""
    assert not masked(value)


def test_an_sc13_transfer_masked_for_the_partner_has_no_error_findings() -> None:
    """The partner-masked form of a valid SC-13 transfer raises no SC-16 identifier errors."""
    payload = json.loads(standards.sample("SC-13", "dispatch"))
    payload["contactPhone"] = "13812345678"
    masked_payload = standards.mask(payload, "partner", standard="SC-13")
    findings = standards.validate(json.dumps(masked_payload, ensure_ascii=False).encode(), "SC-13", "1.0.0")
    assert [] == [f.rule_id for f in findings if f.severity == "error"]
