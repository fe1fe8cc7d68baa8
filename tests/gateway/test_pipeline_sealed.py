"""Step 8 with sealed fields: the hub validates the clear fields of a record whose personal fields are
sealed for the 川渝 partner, and only the partner's SM2 key opens them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import standards
from gateway import sealing
from gateway.errors import ReasonCode
from gateway.freshness import MemorySeenIds
from gateway.keys import Algorithm
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pipeline import Verdict, judge
from gateway.testing import Federation
from gateway.validation import standards_validator

NOW = datetime(2025, 6, 20, 9, 0, tzinfo=UTC)
DISPATCH = Path(standards.__file__).parent / "data/SC-13/1.0.0/fixtures/good/dispatch.json"


@pytest.fixture(scope="module")
def fed() -> Federation:
    return Federation.create(NOW, algorithm=Algorithm.SM2_SM3)


def _clue(
    fed: Federation, record: dict[str, Any] | None = None, sealed: tuple[str, ...] = ()
) -> exchange_pb2.Message:
    """An SC-13 dispatch from sc.amr to cq.hub, phone masked for the partner, `sealed` fields sealed."""
    record = record or standards.mask(json.loads(DISPATCH.read_bytes()), "partner", standard="SC-13")
    message = fed.message("sc.amr", "cq.hub", standard="SC-13", payload=b"{}", action="dispatch")
    aad = sealing.message_aad(message.sender, message.recipient, message.message_id, message.standard)
    if sealed:
        record = sealing.seal_fields(
            record, list(sealed), fed.trust.nodes["cq.hub"].keys[0].public_key, aad=aad
        )
    message.payload = json.dumps(record, ensure_ascii=False).encode()
    return message


def _judge(fed: Federation, message: exchange_pb2.Message) -> Verdict:
    return judge(
        fed.envelope(message),
        trust=fed.trust,
        local_node="sc.hub",
        now=NOW,
        seen=MemorySeenIds(),
        validate=standards_validator,
    )


def test_a_clue_with_the_party_number_sealed_is_accepted_and_opens_at_the_partner(fed: Federation) -> None:
    """The hub accepts the sealed clue without reading the number; cq.hub's key opens it to the original."""
    message = _clue(fed, sealed=("/partyIdCode",))
    verdict = _judge(fed, message)
    assert verdict.accepted, [(f.rule_id, f.pointer, f.message_en) for f in verdict.findings]
    assert b"500103198808080314" not in message.payload
    aad = sealing.message_aad(message.sender, message.recipient, message.message_id, message.standard)
    opened = sealing.open_fields(json.loads(message.payload), fed.keys["cq.hub"], aad=aad)
    assert "500103198808080314" == opened["partyIdCode"]


def test_the_hub_still_validates_the_clear_fields_of_a_sealed_clue(fed: Federation) -> None:
    """Sealing one field hides nothing else: a bad region code beside it is still a rule violation."""
    record = standards.mask(json.loads(DISPATCH.read_bytes()), "partner", standard="SC-13")
    record["receiverRegionCode"] = "520102"  # Guizhou: not a 川渝 partner
    verdict = _judge(fed, _clue(fed, record, sealed=("/partyIdCode",)))
    assert ReasonCode.RULE_VIOLATION in verdict.reasons
    assert "/receiverRegionCode" in {f.pointer for f in verdict.findings if f.severity == "error"}


def test_the_same_clue_with_an_unmasked_phone_in_clear_is_still_refused(fed: Federation) -> None:
    """Unchanged behaviour: the full contact phone in clear for the partner is SC-20.R002."""
    verdict = _judge(fed, _clue(fed, json.loads(DISPATCH.read_bytes())))
    assert (ReasonCode.RULE_VIOLATION,) == verdict.reasons
    assert [("SC-20.R002", "/contactPhone")] == [
        (f.rule_id, f.pointer) for f in verdict.findings if f.severity == "error"
    ]


def test_sealing_is_not_a_way_around_masking(fed: Federation) -> None:
    """A full phone sealed for the partner is refused like a clear one: the partner would read it whole."""
    verdict = _judge(fed, _clue(fed, json.loads(DISPATCH.read_bytes()), sealed=("/contactPhone",)))
    assert (ReasonCode.RULE_VIOLATION,) == verdict.reasons
    assert [("SC-20.R002", "/contactPhone")] == [
        (f.rule_id, f.pointer) for f in verdict.findings if f.severity == "error"
    ]


@pytest.mark.parametrize("pointer", ["/illegalFact", "/receiverRegionCode"])
def test_a_sealed_non_personal_field_is_malformed(fed: Federation, pointer: str) -> None:
    """Only fields SC-20 classes as personal information may be sealed; others stay readable (MALFORMED)."""
    verdict = _judge(fed, _clue(fed, sealed=(pointer,)))
    assert ((ReasonCode.MALFORMED,), 8) == (verdict.reasons, verdict.step)


def test_a_sealed_value_of_the_wrong_shape_is_malformed(fed: Federation) -> None:
    """A sealed object with an unknown scheme is MALFORMED at step 8, not a raw error or INTERNAL."""
    record = standards.mask(json.loads(DISPATCH.read_bytes()), "partner", standard="SC-13")
    record["partyIdCode"] = {"jgx:sealed": "rot13", "kid": "00" * 32, "ek": "", "iv": "", "ct": ""}
    verdict = _judge(fed, _clue(fed, record))
    assert ((ReasonCode.MALFORMED,), 8) == (verdict.reasons, verdict.step)


def test_a_value_sealed_for_a_key_the_recipient_does_not_hold_is_malformed(fed: Federation) -> None:
    """Sealed for the hub's key instead of cq.hub's: nobody addressed could open it, so step 8 refuses it."""
    record = standards.mask(json.loads(DISPATCH.read_bytes()), "partner", standard="SC-13")
    message = fed.message("sc.amr", "cq.hub", standard="SC-13", payload=b"{}", action="dispatch")
    aad = sealing.message_aad(message.sender, message.recipient, message.message_id, message.standard)
    wrong_key = fed.trust.nodes["sc.hub"].keys[0].public_key
    message.payload = json.dumps(
        sealing.seal_fields(record, ["/partyIdCode"], wrong_key, aad=aad), ensure_ascii=False
    ).encode()
    verdict = _judge(fed, message)
    assert ((ReasonCode.MALFORMED,), 8) == (verdict.reasons, verdict.step)
    assert "cq.hub does not hold" in verdict.detail
