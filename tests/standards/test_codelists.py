"""Code lists: GB/T 2260 regions with history, GB/T 4754-2017 industries and the named lists."""

from __future__ import annotations

import json
from datetime import date
from importlib.resources import files

import pytest

from standards import codelists
from standards.codelists import RegionStatus, UnknownCodeList


def _current_counties(province: str, on: date) -> list[str]:
    return [
        r.code for r in codelists.regions(province, on=on) if r.level == "county" and r.name_zh != "市辖区"
    ]


def test_every_province_level_code_is_listed() -> None:
    """All 34 province-level units of GB/T 2260 are in the table."""
    provinces = [code for code in codelists.code_list("region").codes() if code.endswith("0000")]
    assert 35 == len(provinces)  # 34 provinces plus 100000 for central authorities
    assert ("四川省", "重庆市") == (codelists.region("510000").name_zh, codelists.region("500000").name_zh)  # type: ignore[union-attr]


def test_sichuan_has_183_county_level_units_today() -> None:
    """Sichuan has 183 county-level units in force (domain notes' count) and 21 prefecture-level units."""
    on = date(2026, 11, 1)
    prefectures = [r for r in codelists.regions("51", on=on) if r.level == "prefecture"]
    assert (183, 21) == (len(_current_counties("51", on)), len(prefectures))


def test_chongqing_has_37_county_level_units_after_the_2025_change() -> None:
    """After 2025-11-06 Chongqing has 37 county-level units: 25 districts, 8 counties, 4 autonomous."""
    assert 37 == len(_current_counties("50", date(2025, 11, 6)))


def test_chongqing_had_38_county_level_units_before_the_2025_change() -> None:
    """On 2025-11-05 江北区 and 渝北区 still existed and 两江新区 did not: 38 units."""
    assert 38 == len(_current_counties("50", date(2025, 11, 5)))


@pytest.mark.parametrize(
    ("code", "on", "expected"),
    [
        pytest.param("500105", date(2025, 11, 5), True, id="江北区 on its last day"),
        pytest.param("500105", date(2025, 11, 6), False, id="江北区 after the change"),
        pytest.param("500112", date(2026, 1, 1), False, id="渝北区 retired"),
        pytest.param("500157", date(2025, 11, 6), True, id="两江新区 from its first day"),
        pytest.param("500157", date(2025, 1, 1), False, id="两江新区 before it existed"),
        pytest.param("510122", date(2014, 1, 1), True, id="双流县 before 2015"),
        pytest.param("510122", date(2020, 1, 1), False, id="双流县 after it became a district"),
        pytest.param("510116", date(2020, 1, 1), True, id="双流区"),
        pytest.param("513402", date(2024, 1, 1), True, id="会理市"),
        pytest.param("999999", date(2024, 1, 1), False, id="not a code"),
    ],
)
def test_region_valid_on_a_date(code: str, on: date, expected: bool) -> None:
    """A region code is valid exactly between its inclusive validity days."""
    assert expected == codelists.region_valid(code, on)


def test_reused_code_names_follow_the_date() -> None:
    """500110 was 万盛区 before 2011 and 綦江区 after; the row in force is returned."""
    before, after = codelists.region("500110", date(2010, 1, 1)), codelists.region("500110", date(2012, 1, 1))
    assert ("万盛区", "綦江区") == (before.name_zh, after.name_zh)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "on", "expected"),
    [
        pytest.param("510104", None, RegionStatus.VALID, id="锦江区"),
        pytest.param("500105", date(2026, 1, 1), RegionStatus.NOT_IN_FORCE, id="江北区 after 2025"),
        pytest.param("500105", None, RegionStatus.VALID, id="江北区 without a date"),
        pytest.param("519999", None, RegionStatus.UNKNOWN, id="absent from Sichuan's full list"),
        pytest.param("990000", None, RegionStatus.UNKNOWN, id="unknown province"),
        pytest.param("5101", None, RegionStatus.UNKNOWN, id="too short"),
        pytest.param("110105", date(2025, 1, 1), RegionStatus.VALID, id="Beijing 朝阳区"),
        pytest.param("513101", date(1995, 6, 1), RegionStatus.VALID, id="雅安市 under the 雅安地区"),
        pytest.param("513101", date(2025, 1, 1), RegionStatus.NOT_IN_FORCE, id="雅安市 code retired in 2000"),
        pytest.param("123456", None, RegionStatus.UNKNOWN, id="never a code"),
        pytest.param("110199", None, RegionStatus.UNKNOWN, id="never a Beijing code"),
        pytest.param("511299", None, RegionStatus.UNKNOWN, id="never a code under 万县市"),
        pytest.param("830000", None, RegionStatus.UNKNOWN, id="Taiwan residence-permit code, not a division"),
    ],
)
def test_region_status(code: str, on: date | None, expected: RegionStatus) -> None:
    """region_status separates listed, retired, impossible and out-of-scope codes."""
    assert expected == codelists.region_status(code, on)


def test_every_county_has_a_listed_parent() -> None:
    """Every county row of every province names a parent (prefecture or province) present in the table."""
    rows = [r for p in range(11, 83) for r in codelists.regions(str(p))]
    assert [] == [r.code for r in rows if r.level == "county" and codelists.region(r.parent or "") is None]


PROVINCES_AND_COUNTS = [
    ("11", "北京市", 16),
    ("31", "上海市", 16),
    ("44", "广东省", 122),
    ("65", "新疆维吾尔自治区", 100),
]


@pytest.mark.parametrize(("province", "name", "least"), PROVINCES_AND_COUNTS)
def test_the_table_is_national(province: str, name: str, least: int) -> None:
    """Every province's prefecture- and county-level codes are listed, not only 四川 and 重庆."""
    counties = _current_counties(province, date(2024, 6, 1))
    assert (name, True) == (codelists.region(province + "0000").name_zh, len(counties) >= least)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "valid_on", "retired_on"),
    [
        pytest.param("330103", date(2020, 6, 1), date(2027, 1, 1), id="杭州 下城区, merged after 2020"),
        pytest.param("420522", date(1979, 6, 1), date(1985, 1, 1), id="宜都县: in no revision since 1980-12"),
        pytest.param("511200", date(1995, 6, 1), date(1998, 1, 1), id="万县市, 1992-1997"),
        pytest.param("510132", date(2020, 6, 28), date(2020, 6, 29), id="新津县: the curated day wins"),
        pytest.param("350404", date(2022, 6, 1), date(2020, 6, 1), id="三元区 (350404), set up after 2020"),
    ],
)
def test_validity_follows_the_sourced_years(code: str, valid_on: date, retired_on: date) -> None:
    """A code is in force within its listed years and not outside them (before its start or after its end)."""
    assert (RegionStatus.VALID, RegionStatus.NOT_IN_FORCE) == (
        codelists.region_status(code, valid_on),
        codelists.region_status(code, retired_on),
    )


def test_the_region_table_names_its_sources_and_how_it_is_updated() -> None:
    """The data file says where its rows come from, what its dates mean and how it is regenerated."""
    doc = json.loads((files("standards") / "codes" / "regions-gbt2260.json").read_text(encoding="utf-8"))
    sources = {"curated", "mca-yearly-1980-2020", "current-list", "gbt2260-revisions-1980-2019"}
    assert sources == set(doc["sources"])
    assert "tools/regions_gbt2260.py" in doc["update"]
    bases = {r["basis"].split(";")[0].split(" (")[0] for r in doc["regions"]}
    assert bases <= sources | {"domain-notes", "recalled"}


def test_industry_has_20_sections_and_97_divisions() -> None:
    """GB/T 4754-2017 has 20 sections A–T and 97 divisions 01–97."""
    codes = codelists.code_list("industry").codes()
    sections = [c for c in codes if c.isalpha()]
    divisions = [c for c in codes if c.isdigit()]
    assert (20, "ABCDEFGHIJKLMNOPQRST", 97, [f"{i:02d}" for i in range(1, 98)]) == (
        len(sections),
        "".join(sections),
        len(divisions),
        sorted(divisions),
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("C", ("制造业", "section", "C"), id="section"),
        pytest.param("13", ("农副食品加工业", "division", "C"), id="division"),
        pytest.param("C13", ("农副食品加工业", "division", "C"), id="division with letter"),
        pytest.param("N79", ("土地管理业", "division", "N"), id="2017-only division"),
        pytest.param("T97", ("国际组织", "division", "T"), id="last division"),
    ],
)
def test_industry_lookup(code: str, expected: tuple[str, str, str]) -> None:
    """Sections and divisions are found with or without the section letter."""
    found = codelists.industry(code)
    assert expected == (None if found is None else (found.name_zh, found.level, found.section))


@pytest.mark.parametrize("code", ["P82", "T96", "U", "98", "A13"])
def test_industry_rejects_other_editions_and_mismatches(code: str) -> None:
    """2011-edition numbering (P82, T96), unknown codes and a wrong letter are not found."""
    assert codelists.industry(code) is None


@pytest.mark.parametrize(
    ("code", "expected"), [("1311", "13"), ("C1311", "13"), ("131", "13"), ("A1311", None), ("9811", None)]
)
def test_industry_division_of_group_and_class_codes(code: str, expected: str | None) -> None:
    """A 3- or 4-digit code is attributed to its division when the division and letter agree."""
    found = codelists.industry_division(code)
    assert expected == (None if found is None else found.code)


@pytest.mark.parametrize(
    ("name", "code", "label_zh"),
    [
        ("object_type", "11", "通过《7.6监管对象信息要素表》上传的其他类型"),
        ("penalty_kind", "08", "通报批评"),
        ("check_mode", "4", "检验检测"),
        ("check_result", "1", "未发现违法行为"),
        ("credit_risk_class", "D", "信用风险高"),
        ("certificate_type", "111", "居民身份证"),
        ("coercive_measure_type", "3", "扣押财物"),
        ("operation", "d", "删除"),
        ("region", "500157", "两江新区"),
        ("industry", "64", "互联网和相关服务"),
        ("uscc_institution_type", "93", "农民专业合作社"),
    ],
)
def test_named_lists_label_their_codes(name: str, code: str, label_zh: str) -> None:
    """A named list contains its codes and gives their Chinese label."""
    found = codelists.code_list(name)
    assert (True, label_zh) == (found.contains(code), found.label_zh(code))


def test_object_types_are_1_to_11() -> None:
    """监管对象类型 has exactly the codes 1–11."""
    assert [str(i) for i in range(1, 12)] == codelists.code_list("object_type").codes()


def test_penalty_kinds_are_01_to_14() -> None:
    """处罚种类 has exactly the codes 01–14 of the observed numbering."""
    assert [f"{i:02d}" for i in range(1, 15)] == codelists.code_list("penalty_kind").codes()


def test_every_code_has_chinese_and_english_labels() -> None:
    """No code in any list lacks a Chinese or an English label."""
    missing = [
        (name, code)
        for name in codelists.names()
        for code in codelists.code_list(name).codes()
        if not (codelists.code_list(name).label_zh(code) and codelists.code_list(name).label_en(code))
    ]
    assert [] == missing


def test_names_are_stable_snake_case() -> None:
    """The names the standards cite exist and are snake_case."""
    names = codelists.names()
    cited = {
        "object_type",
        "certificate_type",
        "penalty_kind",
        "check_mode",
        "credit_risk_class",
        "region",
        "industry",
    }
    assert (set(), []) == (cited - set(names), [n for n in names if n != n.lower() or " " in n or "-" in n])


def test_unknown_list_name_raises_typed_error() -> None:
    """Asking for a list that does not exist raises UnknownCodeList with both messages."""
    with pytest.raises(UnknownCodeList) as caught:
        codelists.code_list("no_such_list")
    assert ("no_such_list" in caught.value.message_zh, "no_such_list" in caught.value.message_en) == (
        True,
        True,
    )


def test_label_of_absent_code_is_none() -> None:
    """Labels of a code not in the list are None, and contains() is False."""
    found = codelists.code_list("credit_risk_class")
    assert (False, None, None) == (found.contains("E"), found.label_zh("E"), found.label_en("E"))


def test_ethnic_groups_are_01_to_56() -> None:
    """民族 (GB/T 3304) has the 56 codes 01–56, 汉族 first and 基诺族 last."""
    found = codelists.code_list("ethnicity")
    assert ([f"{i:02d}" for i in range(1, 57)], "汉族", "基诺族") == (
        found.codes(),
        found.label_zh("01"),
        found.label_zh("56"),
    )


@pytest.mark.parametrize("code", ["123456", "110199", "511299", "519999"])
def test_a_region_code_that_never_existed_is_refused_in_a_record(code: str) -> None:
    """A penalty record naming a region code no GB/T 2260 list ever had is an SC-16 error."""
    import standards
    from standards.catalogue import DATA_DIR

    good = DATA_DIR / "SC-06" / "1.0.0" / "fixtures" / "good" / "default.json"
    record = json.loads(good.read_text("utf-8"))
    payload = json.dumps(record | {"regionCode": code}).encode()
    found = standards.validate(payload, "SC-06", "1.0.0", on=date(2025, 6, 30))
    assert [("SC-16.R007", "/regionCode", "error")] == [(f.rule_id, f.pointer, f.severity) for f in found]
