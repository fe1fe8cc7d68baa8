"""gateway.sealed_records: seal a message's fields for its recipient, open one's own (wire.md §12.7)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gateway import sealing
from gateway.errors import ReasonCode
from gateway.keys import Algorithm
from gateway.sealed_records import open_message, open_payload, seal_payload, sealing_key
from gateway.testing import Federation

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
RECORD = {"partyIdType": "111", "partyIdCode": "510104199001011230", "contactPhone": None, "note": "x"}


@pytest.fixture(scope="module")
def fed() -> Federation:
    return Federation.create(NOW, algorithm=Algorithm.SM2_SM3)


def test_seal_then_open_with_the_recipients_key_gives_the_record_back(fed: Federation) -> None:
    """Absent and null fields are left alone; only the recipient's key opens the rest."""
    message = fed.message("sc.amr", "cq.hub", standard="SC-13", payload=RECORD)
    message.payload = seal_payload(message, ["/partyIdCode", "/contactPhone", "/absent"], fed.trust)
    sealed = json.loads(message.payload)
    assert (["/partyIdCode"], None) == (sealing.sealed_pointers(sealed), sealed["contactPhone"])
    assert RECORD == json.loads(open_message(message, fed.keys["cq.hub"]).payload)
    assert message.payload == open_payload(message, fed.keys["sc.hub"])  # not its key: left sealed


def test_a_value_moved_to_another_message_does_not_open(fed: Federation) -> None:
    message = fed.message("sc.amr", "cq.hub", standard="SC-13", payload=RECORD)
    message.payload = seal_payload(message, ["/partyIdCode"], fed.trust)
    message.message_id = "another-message-id"
    with pytest.raises(sealing.SealedValueError) as raised:
        open_payload(message, fed.keys["cq.hub"])
    assert ReasonCode.MALFORMED == raised.value.reason


def test_a_recipient_without_an_sm2_key_cannot_be_sealed_for() -> None:
    ed = Federation.create(NOW)
    with pytest.raises(sealing.SealedValueError) as raised:
        sealing_key(ed.trust, "cq.hub")
    assert (ReasonCode.KEY_UNKNOWN, True) == (raised.value.reason, "SM2" in raised.value.detail)
