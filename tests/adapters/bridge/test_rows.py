"""The pure half of the bridge: mapping file → BridgeMapping, row → record (no database, no hub)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import standards
from adapters.bridge import MappingError, map_row, message_id_for, parse_mapping
from adapters.bridge.check import CheckReport
from adapters.bridge.verdicts import local_findings
from tests.adapters.bridge.front import guide_mapping, inspection

MAPPING = parse_mapping(guide_mapping())
FIELDS = {f.name: f for f in standards.catalogue().get("SC-05", "1.0.0").fields}
T0 = datetime(2026, 11, 27, 9, 0, 0)


def mapped(**overrides: Any) -> Any:
    row = inspection(1, T0)
    row.update(overrides)
    return map_row(row, MAPPING, FIELDS)


def test_a_good_row_becomes_a_valid_record() -> None:
    """Codes are translated, the text date is re-spelled, the list is split, constants are filled."""
    row = mapped()
    assert ("1", "1", "1", "2026-11-20", ["张三", "李四"], "001") == tuple(
        row.payload[k]
        for k in (
            "checkForm",
            "checkType",
            "counterpartCategory",
            "checkDate",
            "checkPersonnel",
            "counterpartIdType",
        )
    )
    assert ((), ()) == (
        row.problems,
        tuple(
            f
            for f in local_findings(row, MAPPING, on=date(2026, 11, 27), destination="internal")
            if f.severity == "error"
        ),
    )


@pytest.mark.parametrize(
    ("overrides", "rule", "pointer"),
    [
        ({"jcxs": "飞行检查"}, "BRIDGE.M001", "/checkForm"),  # 代码值无转换 (code with no translation)
        ({"jcrq": "2026-11-20"}, "BRIDGE.M002", "/checkDate"),  # not the declared %Y%m%d
        ({"cd_operation": "X"}, "BRIDGE.M003", ""),
        ({"cd_time": "27/11/2026"}, "BRIDGE.M004", ""),
        ({"cd_batch": "2026-11-27"}, "BRIDGE.M005", ""),
    ],
    ids=["untranslated-code", "bad-date", "bad-operation", "bad-cd-time", "bad-cd-batch"],
)
def test_what_cannot_be_mapped_is_a_finding_naming_the_field(
    overrides: dict[str, Any], rule: str, pointer: str
) -> None:
    """Each mapping fault is one error finding with its rule id and JSON pointer, in Chinese and English."""
    (problem,) = mapped(**overrides).problems
    assert (rule, pointer, "error") == (problem.rule_id, problem.pointer, problem.severity)
    assert problem.message_zh
    assert problem.message_en


def test_an_empty_cell_takes_the_default_and_passthrough_keeps_unknown_codes() -> None:
    """checkType falls back to its default "1"; a passthrough code list lets an unknown value through."""
    loose = parse_mapping(
        guide_mapping().replace(
            '"发现问题" = "5", "查无下落" = "6" }', '"发现问题" = "5" }, passthrough = true'
        )
    )
    assert ("1", "9") == (
        mapped(jclb="").payload["checkType"],
        map_row(inspection(1, T0, jcjg="9"), loose, FIELDS).payload["checkResult"],
    )


def test_the_operation_letters_map_to_message_operations() -> None:
    """cd_operation I/U/D (any case) becomes insert/update/delete."""
    assert ["insert", "update", "delete"] == [mapped(cd_operation=c).operation for c in ("I", "u", "D")]


def test_message_ids_are_derived_from_table_cd_id_and_cd_time() -> None:
    """The same change always gets the same id; another cd_time or another table gets another."""
    same = message_id_for("t_xzjc", "JC1", "2026-11-27 09:00:00")
    assert same == message_id_for("t_xzjc", "JC1", "2026-11-27 09:00:00") == mapped(cd_id="JC1").message_id
    assert (
        len(
            {
                same,
                message_id_for("t_xzjc", "JC1", "2026-11-27 09:00:01"),
                message_id_for("t_x", "JC1", "2026-11-27 09:00:00"),
            }
        )
        == 3
    )
    assert len(same) <= 64


def test_database_types_are_converted_to_the_fields_types() -> None:
    """A DATE column fills a date field, a NUMERIC code a string field."""
    row = mapped(jcrq=date(2026, 11, 20), qhdm=Decimal(510107))
    assert ("2026-11-20", "510107") == (row.payload["checkDate"], row.payload["regionCode"])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[bridge]\n", "[database]"),
        (guide_mapping().replace("checkActionName = ", "checkActionNam = "), "checkActionNam"),
        (guide_mapping().replace('standard = "SC-05"', 'standard = "SC-99"'), "SC-99"),
        (guide_mapping().replace("[result]", "[results]"), "results"),
        (guide_mapping().replace('split = ","', 'spilt = ","'), "spilt"),
        (guide_mapping().replace("batch_size = 500", "batch_size = 0"), "batch_size"),
        ("[bridge\n", "TOML"),
    ],
    ids=[
        "no-database",
        "unknown-field",
        "unknown-standard",
        "unknown-table",
        "unknown-key",
        "zero-batch",
        "not-toml",
    ],
)
def test_a_bad_mapping_file_is_a_mapping_error_naming_the_fault(text: str, words: str) -> None:
    """Every fault in the mapping file is a MappingError whose messages name the key, never a raw KeyError."""
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, base=Path("/srv"))
    assert words in caught.value.message_zh + caught.value.message_en


def test_relative_paths_are_taken_from_the_mapping_files_folder() -> None:
    """state and dir are relative to the mapping file, so a mapping works from any working directory."""
    mapping = parse_mapping(guide_mapping(), base=Path("/srv/bridge"))
    assert (Path("/srv/bridge/bridge-state.sqlite"), Path("/srv/bridge/nodes/amr")) == (
        mapping.state,
        mapping.node_dir,
    )


def test_the_guides_mapping_maps_every_required_field_of_the_standard() -> None:
    """The guide's SC-05 mapping leaves no required field of SC-05 unmapped."""
    assert [] == CheckReport.start(MAPPING).unmapped_required


def test_a_timestamp_column_fills_a_datetime_field_as_the_standard_spells_it() -> None:
    """A TIMESTAMP value becomes "YYYY-MM-DD HH:MM:SS"; a text time is read through its date_format."""
    mapping = parse_mapping(
        guide_mapping().replace("[result]", 'reportTime = "tbsj"\nreportPerson = "tbr"\n[result]')
    )
    at = datetime(2026, 11, 20, 10, 30)
    assert "2026-11-20 10:30:00" == map_row(inspection(1, T0, tbsj=at), mapping, FIELDS).payload["reportTime"]
