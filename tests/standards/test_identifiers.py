"""Identifier checks: the standards' worked examples, the shared vectors and check-character properties."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards import codelists
from standards.identifiers import (
    USCC_ALPHABET,
    InvalidIdentifier,
    citizen_id_check_char,
    citizen_id_problems,
    citizen_id_to_18,
    date_problems,
    datetime_problems,
    is_valid_citizen_id,
    is_valid_org_code,
    is_valid_phone,
    is_valid_uscc,
    org_code_check_char,
    org_code_problems,
    parse_date,
    parse_datetime,
    phone_problems,
    uscc_check_char,
    uscc_problems,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "identifiers.json").read_text(encoding="utf-8")
)
ON = date(2026, 1, 1)


def _codes(problems: list[Any]) -> list[str]:
    return [p.code for p in problems]


def _cases(kind: str) -> list[Any]:
    return [pytest.param(c, id=c.get("name", c["value"])) for c in VECTORS[kind]]


# --- vectors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _cases("uscc"))
def test_uscc_vectors(case: dict[str, Any]) -> None:
    """Each USCC vector yields exactly its expected problem codes, in order."""
    assert case["problems"] == _codes(uscc_problems(case["value"]))


@pytest.mark.parametrize("case", _cases("org_code"))
def test_org_code_vectors(case: dict[str, Any]) -> None:
    """Each organisation-code vector yields exactly its expected problem codes."""
    assert case["problems"] == _codes(org_code_problems(case["value"]))


@pytest.mark.parametrize("case", _cases("citizen_id"))
def test_citizen_id_vectors(case: dict[str, Any]) -> None:
    """Each citizen-ID vector, judged on its record date, yields exactly its expected problem codes."""
    on = None if case["on"] is None else date.fromisoformat(case["on"])
    assert case["problems"] == _codes(citizen_id_problems(case["value"], on=on))


@pytest.mark.parametrize("case", _cases("phone"))
def test_phone_vectors(case: dict[str, Any]) -> None:
    """Each phone vector yields exactly its expected problem codes."""
    assert case["problems"] == _codes(phone_problems(case["value"]))


@pytest.mark.parametrize("case", _cases("date"))
def test_date_vectors(case: dict[str, Any]) -> None:
    """Each date vector yields exactly its expected problem codes."""
    assert case["problems"] == _codes(date_problems(case["value"]))


@pytest.mark.parametrize("case", _cases("datetime"))
def test_datetime_vectors(case: dict[str, Any]) -> None:
    """Each date-time vector yields exactly its expected problem codes."""
    assert case["problems"] == _codes(datetime_problems(case["value"]))


@pytest.mark.parametrize("case", VECTORS["citizen_id_to_18"])
def test_citizen_id_to_18_vectors(case: dict[str, str]) -> None:
    """A legacy 15-digit number converts to the expected 18-digit number."""
    assert case["expected"] == citizen_id_to_18(case["value"])


# --- worked examples -------------------------------------------------------------------------------


def test_uscc_worked_example_check_char() -> None:
    """GB 32100's worked example: Σ = 1640, 1640 mod 31 = 28, 31 − 28 = 3."""
    assert "3" == uscc_check_char("91350100M000100Y4")


def test_uscc_second_example_check_char() -> None:
    """91512081MA62K0260 sums to 1505 (not the 1495 some pages print), giving check E."""
    assert "E" == uscc_check_char("91512081MA62K0260")


def test_uscc_check_value_31_maps_to_zero() -> None:
    """A weighted sum divisible by 31 gives check character 0, not a 32nd symbol."""
    assert "0" == uscc_check_char("00000000000000000")


def test_uscc_check_char_rejects_letters_outside_alphabet() -> None:
    """Asking for the check character of text with an I raises InvalidIdentifier naming USCC_FORMAT."""
    with pytest.raises(InvalidIdentifier) as caught:
        uscc_check_char("9135010IM000100Y4")
    assert ["USCC_FORMAT"] == _codes(caught.value.problems)


def test_org_code_worked_examples() -> None:
    """GB 11714: M000100Y has check 4 (Σ 139) and 12345678 has check 8 (Σ 201)."""
    assert ("4", "8") == (org_code_check_char("M000100Y"), org_code_check_char("12345678"))


def test_org_code_check_ten_is_x_and_eleven_is_zero() -> None:
    """A check value of 10 is written X and a value of 11 is written 0."""
    assert ("X", "0") == (org_code_check_char("00000006"), org_code_check_char("00000000"))


def test_citizen_id_worked_examples() -> None:
    """GB 11643's appendix example ends in X (Σ 167) and 51310119820113001 ends in 4 (Σ 184)."""
    assert ("X", "4") == (
        citizen_id_check_char("11010519491231002"),
        citizen_id_check_char("51310119820113001"),
    )


def test_citizen_id_birth_on_the_record_date_is_allowed() -> None:
    """A person born on the very day the record is judged is not 'born in the future'."""
    first17 = "51010420260101001"
    assert [] == _codes(citizen_id_problems(first17 + citizen_id_check_char(first17), on=ON))


def test_citizen_id_to_18_refuses_an_18_digit_number() -> None:
    """Converting a number that is not 15 digits raises InvalidIdentifier with ID_NOT_LEGACY."""
    with pytest.raises(InvalidIdentifier) as caught:
        citizen_id_to_18("11010519491231002X")
    assert ["ID_NOT_LEGACY"] == _codes(caught.value.problems)


def test_citizen_id_to_18_refuses_an_impossible_birth_date() -> None:
    """A 15-digit number with month 13 is not converted; the error names ID_BIRTH_DATE."""
    with pytest.raises(InvalidIdentifier) as caught:
        citizen_id_to_18("510104901307001")
    assert ["ID_BIRTH_DATE"] == _codes(caught.value.problems)


def test_legacy_number_is_a_warning_not_an_error() -> None:
    """A well-formed 15-digit number is recognised as valid but flagged as legacy."""
    problems = citizen_id_problems("510104900307001", on=ON)
    assert (True, ["warning"]) == (is_valid_citizen_id("510104900307001"), [p.severity for p in problems])


def test_every_problem_has_both_messages() -> None:
    """Every problem carries a Chinese and an English message."""
    problems = [
        *uscc_problems("B1990000M000100Y4X"),
        *org_code_problems("PDY000011"),
        *citizen_id_problems("51012220180101001x", on=ON),
        *phone_problems("12"),
    ]
    assert [] == [p.code for p in problems if not (p.message_zh and p.message_en)]


def test_uscc_embedded_org_code_failure_is_only_a_warning() -> None:
    """A USCC whose embedded organisation code fails GB 11714 is still valid, with a warning."""
    code = "91510100MA6C12345" + uscc_check_char("91510100MA6C12345")
    assert (True, ["USCC_ORG_CODE_CHECK"]) == (is_valid_uscc(code), _codes(uscc_problems(code)))


def test_parse_helpers_return_values() -> None:
    """parse_date and parse_datetime return the value for good text and None for unreal dates."""
    assert (date(2024, 2, 29), None) == (parse_date("2024-02-29"), parse_date("2023-02-29"))
    assert parse_datetime("2024-02-29 23:59:59") is not None
    assert parse_datetime("2024-02-29 23:60:00") is None


# --- properties ------------------------------------------------------------------------------------

_INSTITUTION_TYPES = codelists.code_list("uscc_institution_type").codes()
_SICHUAN_COUNTIES = [r.code for r in codelists.regions("51", on=ON) if r.level == "county"]
_ORG_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # letters a USCC may carry in its embedded body


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    """A USCC with a real department/type, a Sichuan county, a consistent embedded code and check."""
    head = draw(st.sampled_from(_INSTITUTION_TYPES)) + draw(st.sampled_from(_SICHUAN_COUNTIES))
    body = draw(st.text(alphabet=_ORG_BODY_CHARS, min_size=8, max_size=8))
    first17 = head + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


@st.composite
def valid_citizen_ids(draw: st.DrawFn) -> str:
    """An 18-digit ID with a Sichuan county code in force, a birth date up to ON and its check."""
    born = draw(st.dates(min_value=date(2022, 1, 1), max_value=ON))
    county = draw(st.sampled_from(_SICHUAN_COUNTIES))
    first17 = county + born.strftime("%Y%m%d") + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return first17 + citizen_id_check_char(first17)


@settings(max_examples=200)
@given(valid_usccs())
def test_generated_uscc_passes(code: str) -> None:
    """A USCC built by the rules has no problem at all."""
    assert [] == uscc_problems(code)


@settings(max_examples=200)
@given(valid_usccs(), st.integers(0, 17), st.integers(1, 30))
def test_single_substitution_in_uscc_is_caught(code: str, position: int, shift: int) -> None:
    """Replacing any one USCC character by another symbol of the alphabet fails the check character."""
    replaced = USCC_ALPHABET[(USCC_ALPHABET.index(code[position]) + shift) % 31]
    changed = code[:position] + replaced + code[position + 1 :]
    assert "USCC_CHECK" in _codes(uscc_problems(changed))


@settings(max_examples=200)
@given(valid_citizen_ids())
def test_generated_citizen_id_passes(value: str) -> None:
    """A citizen ID built by the rules, born on or before the record date, has no problem."""
    assert [] == citizen_id_problems(value, on=ON)


@settings(max_examples=200)
@given(valid_citizen_ids(), st.integers(0, 17), st.integers(1, 9))
def test_single_substitution_in_citizen_id_is_caught(value: str, position: int, shift: int) -> None:
    """Replacing any one character of a citizen ID fails the MOD 11-2 check."""
    symbols = "0123456789X" if position == 17 else "0123456789"
    replaced = symbols[(symbols.index(value[position]) + shift) % len(symbols)]
    changed = value[:position] + replaced + value[position + 1 :]
    assert "ID_CHECK" in _codes(citizen_id_problems(changed))


@settings(max_examples=200)
@given(st.from_regex(r"[0-9A-Z]{8}", fullmatch=True), st.integers(0, 7), st.integers(1, 9))
def test_single_digit_substitution_in_org_code_is_caught(body: str, position: int, shift: int) -> None:
    """Replacing one digit of an organisation code by another digit fails its check character."""
    code = body + org_code_check_char(body)
    if not code[position].isdigit():
        code = code[:position] + "0" + code[position + 1 :]
        code = code[:8] + org_code_check_char(code[:8])
    changed = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    assert not is_valid_org_code(changed)


def test_org_code_letter_eleven_apart_is_not_caught() -> None:
    """GB 11714's MOD 11 cannot see a substitution 11 values apart (0 → B): weaker than USCC's check."""
    assert (True, True) == (is_valid_org_code("00000000-0"), is_valid_org_code("B0000000-0"))


@settings(max_examples=200)
@given(st.from_regex(r"[0-9]{6}", fullmatch=True), st.dates(date(1900, 1, 1), date(1999, 12, 31)))
def test_legacy_conversion_round_trip(region: str, born: date) -> None:
    """A 15-digit number converts to an 18-digit number with the same region, date and a valid check."""
    legacy = region + born.strftime("%y%m%d") + "123"
    converted = citizen_id_to_18(legacy)
    assert (region + born.strftime("%Y%m%d") + "123", []) == (
        converted[:17],
        [p.code for p in citizen_id_problems(converted) if p.code == "ID_CHECK"],
    )


@settings(max_examples=200)
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_numbers_pass(number: str) -> None:
    """Every 11-digit number starting 13–19 is a valid mobile number."""
    assert is_valid_phone(number)


@settings(max_examples=100)
@given(st.dates(date(1900, 1, 1), date(2100, 12, 31)), st.integers(0, 86399))
def test_real_dates_and_times_pass(day: date, seconds: int) -> None:
    """Every real calendar day and time of day, written in the exchange format, has no problem."""
    text = f"{day.isoformat()} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    assert ([], []) == (date_problems(day.isoformat()), datetime_problems(text))
