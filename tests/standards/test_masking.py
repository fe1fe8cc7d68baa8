"""SC-20 masking profiles per destination class."""

from __future__ import annotations

import copy
import json

import pytest

import standards
from standards.catalogue import DATA_DIR


def complaint() -> dict[str, object]:
    """The shipped good complaint record."""
    path = DATA_DIR / "SC-11" / "1.0.0" / "fixtures" / "good" / "complaint.json"
    record: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return record


def test_public_release_drops_personal_information() -> None:
    """For 公示, the complainant's name, phone, ID number and address are removed."""
    masked = standards.mask(complaint(), "public")
    assert set() == {
        "complainantName",
        "complainantPhone",
        "complainantIdNumber",
        "complainantAddress",
    } & set(masked)
    assert masked["objectName"] == complaint()["objectName"]


def test_partner_gets_masked_values() -> None:
    """For the 川渝 partner: ID 前6后4, phone 前3后4, family name only, address to the district."""
    masked = standards.mask(complaint(), "partner")
    assert "510104********2163"[:6] == str(masked["complainantIdNumber"])[:6]
    assert "********" == str(masked["complainantIdNumber"])[6:14]
    assert "138****5678" == masked["complainantPhone"]
    assert "钱*" == masked["complainantName"]
    assert "四川省成都市锦江区" == masked["complainantAddress"]


def test_masking_is_idempotent_and_leaves_the_input_alone() -> None:
    """Masking a masked record changes nothing, and the original record is not modified."""
    original = complaint()
    before = copy.deepcopy(original)
    for destination in ("internal", "national", "partner", "public"):
        once = standards.mask(original, destination)
        assert once == standards.mask(once, destination)
    assert before == original


def test_a_masked_record_passes_the_masking_rules() -> None:
    """What mask() produces for a destination validates clean against SC-20 for that destination."""
    for destination in ("partner", "public"):
        payload = json.dumps(standards.mask(complaint(), destination), ensure_ascii=False).encode()
        findings = standards.validate(payload, "SC-11", "1.0.0", destination=destination)
        assert [] == [f.rule_id for f in findings if f.rule_id.startswith("SC-20")]


def test_organisation_numbers_are_not_personal() -> None:
    """A USCC in a certificate-typed field is kept even for public release; a citizen ID there is dropped."""
    company = {"counterpartIdType": "001", "counterpartIdCode": "91510107MA6CX0T1XX"}
    person = {"counterpartIdType": "111", "counterpartIdCode": "510104199001011230"}
    assert company == standards.mask(company, "public")
    assert {"counterpartIdType": "111"} == standards.mask(person, "public")


def test_clue_transfer_keeps_the_party_number_for_the_partner() -> None:
    """SC-13 overrides the partner profile: the party's ID number travels in clear for the investigation."""
    record = {"partyIdType": "111", "partyIdCode": "500103198808080310"}
    assert record == standards.mask(record, "partner", standard="SC-13")
    assert "500103********0310" == standards.mask(record, "partner")["partyIdCode"]


def test_unknown_destination_raises() -> None:
    """A destination class without a profile is refused with a typed error."""
    with pytest.raises(standards.UnknownDestination):
        standards.mask({}, "moon")
