"""The validator's contract: bytes in, findings out; typed errors for standards it cannot use."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import standards
from standards.catalogue import DATA_DIR
from standards.validator import compiled, validate_record

DAY = date(2025, 6, 30)


def good(standard: str, name: str = "default") -> dict[str, object]:
    """A shipped good record."""
    path = DATA_DIR / standard / "1.0.0" / "fixtures" / "good" / f"{name}.json"
    record: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return record


def encode(record: dict[str, object]) -> bytes:
    """UTF-8 JSON bytes of a record."""
    return json.dumps(record, ensure_ascii=False).encode()


def test_good_penalty_record_has_no_findings() -> None:
    """The shipped SC-06 penalty record passes every rule."""
    assert [] == standards.validate(encode(good("SC-06")), "SC-06", "1.0.0", on=DAY)


def test_findings_carry_rule_clause_pointer_and_both_languages() -> None:
    """A finding names its rule, its clause, a JSON pointer and a message in Chinese and English."""
    record = good("SC-05") | {"reportTime": "2025-06-20 09:00:00"}
    findings = standards.validate(encode(record), "SC-05", "1.0.0", on=DAY)
    assert [("SC-05.R004", "SC-05 5.4", "error", "/reportTime")] == [
        (f.rule_id, f.clause, f.severity, f.pointer) for f in findings
    ]
    assert "报送时间不得早于检查时间" in findings[0].message_zh
    assert "not before the inspection date" in findings[0].message_en


def test_all_problems_are_reported_not_just_the_first() -> None:
    """A record with several problems gets a finding for each of them."""
    record = good("SC-06") | {"supervisionMatterCode": "12", "closingDate": "2025-04-01", "undefinedField": 1}
    del record["punishDocumentCode"]
    ids = {f.rule_id for f in standards.validate(encode(record), "SC-06", "1.0.0", on=DAY)}
    assert {"SC-06.S001", "SC-06.S005", "SC-06.R001", "SC-06.R002"} <= ids


def test_wrong_types_never_crash_the_rules() -> None:
    """Every field replaced by a value of the wrong type yields findings, never an exception."""
    for standard in ("SC-05", "SC-06", "SC-11"):
        name = "complaint" if standard == "SC-11" else "default"
        record = good(standard, name)
        for key in list(record):
            for odd in (None, 7, [1, {}], {"x": []}, True, "🙂"):
                standards.validate(encode(record | {key: odd}), standard, "1.0.0", on=DAY)


@pytest.mark.parametrize("payload", [b"null", b" null\n", b"[1, 2]", b'"x"', b"0", b"true", b"[]"])
def test_non_object_records_are_refused(payload: bytes) -> None:
    """JSON null, an array, a string, a number or a boolean where a record belongs is one SC-17 error."""
    findings = standards.validate(payload, "SC-06", "1.0.0")
    assert [("SC-17.R013", "", "error")] == [(f.rule_id, f.pointer, f.severity) for f in findings]


def test_unknown_standard_version_and_destination_raise() -> None:
    """Unknown standards and destinations and versions not in force raise typed errors."""
    with pytest.raises(standards.UnknownStandard):
        standards.validate(b"{}", "SC-42")
    with pytest.raises(standards.VersionNotInForce):
        standards.validate(b"{}", "SC-06", "1.0.0", on=date(2023, 12, 31))
    with pytest.raises(standards.UnknownDestination):
        standards.validate(b"{}", "SC-06", destination="moon")
    with pytest.raises(standards.UnknownStandard):
        standards.validate(b"{}", "SC-19")


def test_errors_map_to_gateway_reason_codes() -> None:
    """The typed errors carry the reason codes the gateway puts in receipts."""
    with pytest.raises(standards.VersionNotInForce) as caught:
        standards.validate(b"{}", "SC-06", "1.0.0", on=date(2023, 1, 1))
    assert "VERSION_NOT_IN_FORCE" == caught.value.reason.value


def test_region_code_is_judged_on_the_day_of_the_act() -> None:
    """A county code retired before the day of the act is refused; the same code was fine before."""
    record = good("SC-05") | {"regionCode": "510122"}  # 双流县, became 双流区 (510116) in 2015
    ids = [f.rule_id for f in standards.validate(encode(record), "SC-05", "1.0.0", on=DAY)]
    assert ["SC-16.R007"] == ids


def test_timeliness_counts_working_days_across_holidays() -> None:
    """A penalty reported 7 working days after the decision is on time even when a holiday lies between."""
    record = good("SC-06") | {
        "decisionDate": "2025-09-26",
        "closingDate": "2025-10-10",
        "reportTime": "2025-10-13 09:00:00",
    }
    ids = [f.rule_id for f in standards.validate(encode(record), "SC-06", "1.0.0", on=date(2025, 10, 31))]
    assert [] == ids


def test_report_time_missing_uses_the_day_of_validation() -> None:
    """Without a report time, an act older than the allowed working days is late on the day of validation."""
    record = good("SC-05")
    del record["reportTime"]
    late = standards.validate(encode(record), "SC-05", "1.0.0", on=date(2025, 7, 31))
    assert ["SC-18.R001"] == [f.rule_id for f in late]
    assert [] == standards.validate(encode(record), "SC-05", "1.0.0", on=date(2025, 6, 30))


def test_lone_surrogates_are_refused_at_decoding() -> None:
    """A \\ud800 escape in a value or a key is one SC-17 error at its pointer, never a judged record."""
    payload = encode(good("SC-06")).replace('"销售过期食品案"'.encode(), b'"\\ud800"')
    payload = payload.replace(b'"caseSource"', b'"case\\udfffSource"')
    findings = standards.validate(payload, "SC-06", "1.0.0", on=DAY)
    assert [("SC-17.R014", "/case\\udfffSource"), ("SC-17.R014", "/punishActionName")] == sorted(
        (f.rule_id, f.pointer) for f in findings
    )
    for f in findings:  # every part of a finding can be written as UTF-8
        json.dumps(f.to_json(), ensure_ascii=False).encode("utf-8")


def test_a_decoded_record_holding_a_lone_surrogate_is_judged_without_a_crash() -> None:
    """A record built in Python holding a lone surrogate still gets findings, all of them printable."""
    record = good("SC-06") | {"regionCode": "\ud800", "punishActionName": ""}
    found = validate_record(record, compiled("SC-06", "1.0.0"), on=DAY)
    assert {"/regionCode", "/punishActionName"} <= {f.pointer for f in found}
    for f in found:
        (f.pointer + f.message_zh + f.message_en).encode("utf-8")


def test_masking_check_applies_only_with_a_destination() -> None:
    """A complaint with the complainant's phone passes internally and fails for public release."""
    payload = encode(good("SC-11", "complaint"))
    assert [] == standards.validate(payload, "SC-11", on=DAY, destination="internal")
    public = standards.validate(payload, "SC-11", on=DAY, destination="public")
    assert {"/complainantName", "/complainantPhone", "/complainantIdNumber", "/complainantAddress"} == {
        f.pointer for f in public if f.rule_id == "SC-20.R001"
    }


def test_package_exports_the_contract() -> None:
    """The names other engineers call are exported by the package."""
    for name in ("validate", "Finding", "catalogue", "mask", "UnknownStandard", "VersionNotInForce"):
        assert hasattr(standards, name)
    assert Path(standards.__file__).parent == DATA_DIR.parent
