"""The 川渝 link's mappings: SC-13 to and from the Chongqing layout, masked, with both provinces' regions."""

from __future__ import annotations

import json
from datetime import date
from importlib.resources import files
from typing import Any

import pytest

import standards
from adapters.chuanyu import ACTION_WORDS, CQ_FIELDS, from_chongqing, region_problem, to_chongqing
from gateway.errors import ReasonCode, VerificationError

ON = date(2026, 11, 27)


def fixture(name: str) -> dict[str, Any]:
    path = files("standards").joinpath("data", "SC-13", "1.0.0", "fixtures", "good", f"{name}.json")
    record: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return record


def test_a_transfer_leaves_in_the_partner_layout_and_masked() -> None:
    """A transfer maps to the partner keys and words; the contact phone is masked, the party's ID kept."""
    document = to_chongqing(fixture("dispatch"), on=ON)
    assert ("CY-XS-2025-0042", "移送", "协查请求", "028*****1234", "500103198808080314", "9f86d081") == (
        document["xsbh"],
        document["czlx"],
        document["xslx"],
        document["lxdh"],
        document["dsrzjhm"],
        document["zjcl"][0]["zy"][:8],
    )


@pytest.mark.parametrize("name", ["dispatch", "claim", "feedback", "close", "return"])
def test_the_partner_layout_maps_back_to_the_masked_record(name: str) -> None:
    """Every SC-13 action survives the trip through the partner layout as its partner-masked form."""
    record = fixture(name)
    assert standards.mask(record, "partner", standard="SC-13") == from_chongqing(
        to_chongqing(record, on=ON), on=ON
    )


@pytest.mark.parametrize("name", ["claim", "feedback", "return"])
def test_chongqing_replies_map_to_valid_sc13_records(name: str) -> None:
    """A claim, feedback or return written by Chongqing maps to an SC-13 record that validates."""
    record = fixture(name)
    partner = {CQ_FIELDS[k]: v for k, v in record.items()}
    partner["czlx"] = ACTION_WORDS[record["action"]]
    back = from_chongqing(partner, on=ON)
    errors = [f.rule_id for f in standards.validate(json.dumps(back).encode(), "SC-13", "1.0.0", on=ON)]
    assert (record, []) == (back, errors)


REGIONS = {
    "a Chengdu district": ("510107", ON, None),
    "Yuzhong": ("500103", ON, None),
    "Liangjiang new area after the change": ("500157", ON, None),
}


@pytest.mark.parametrize("case", REGIONS)
def test_region_codes_of_both_provinces_are_accepted(case: str) -> None:
    """Sichuan and Chongqing codes in force on the day are accepted."""
    code, on, expected = REGIONS[case]
    assert expected == region_problem(code, on)


REFUSED = {
    "Jiangbei after 2025-11-06": ("500105", ON, "500157"),
    "Yubei after 2025-11-06": ("500112", ON, "500109"),
    "Liangjiang before it existed": ("500157", date(2025, 6, 1), "2025-06-01"),
    "Guizhou": ("520102", ON, "不是四川或重庆"),
    "no such district": ("510199", ON, "不是已知的"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_codes_not_in_force_are_refused_with_a_hint(case: str) -> None:
    """Retired, not-yet-valid, foreign and unknown codes are refused; retired ones name their successors."""
    code, on, hint = REFUSED[case]
    problem = region_problem(code, on)
    assert problem is not None
    assert hint in problem


def test_jiangbei_was_valid_before_the_change() -> None:
    """500105 江北区 is still accepted on a day before Chongqing's 2025 change."""
    assert None is region_problem("500105", date(2025, 11, 5))


def test_a_transfer_to_a_retired_district_is_refused() -> None:
    """A transfer addressed to a district retired on that day is refused with RULE_VIOLATION."""
    record = {**fixture("dispatch"), "receiverRegionCode": "500112"}
    with pytest.raises(VerificationError) as caught:
        to_chongqing(record, on=ON)
    assert ReasonCode.RULE_VIOLATION == caught.value.reason


@pytest.mark.parametrize("document", [{"xsbh": "1", "unknown": "x"}, {"xsbh": "1", "czlx": "转办"}])
def test_malformed_partner_documents_are_refused(document: dict[str, str]) -> None:
    """Unknown partner fields and unknown action words are refused as MALFORMED."""
    with pytest.raises(VerificationError) as caught:
        from_chongqing(document, on=ON)
    assert ReasonCode.MALFORMED == caught.value.reason
