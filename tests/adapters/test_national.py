"""The national link's mappings: national task documents to SC-14/SC-12 and back, cd_* columns, cd_batch."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.national import (
    clues_from_national,
    next_batch,
    parse_national,
    task_from_national,
    task_to_national,
    upward_row,
)
from gateway.errors import ReasonCode, VerificationError

TASK_XML = (Path(__file__).parent / "assets" / "national_task_lhjg.xml").read_bytes()


def test_a_national_task_becomes_an_sc14_dispatch() -> None:
    """The national XML task maps to an SC-14 dispatch with its objects, basis data and a due date."""
    record = task_from_national(TASK_XML)
    assert (
        "LHJG-51-2026-0007",
        "1",
        "2026-11-26 09:00:00",
        "2026-12-24",
        ["91510107MA6CX0T113", "91510104MA62KL8P1H"],
        "C",
    ) == (
        record["taskNo"],
        record["status"],
        record["actionTime"],
        record["taskInfo"]["taskEndTime"],
        [o["credentialsValue"] for o in record["superviseObjects"]],
        record["superviseObjects"][0]["basisData"]["creditAssess"]["enterpriseMark"],
    )


def test_the_json_form_maps_like_the_xml_form() -> None:
    """The same task sent as JSON maps to the same SC-14 record."""
    as_json = json.dumps({"superviseData": parse_national(TASK_XML)}, ensure_ascii=False).encode()
    assert task_from_national(TASK_XML) == task_from_national(as_json)


def test_risk_warnings_become_sc12_clues() -> None:
    """A riskWarning riding in a task object becomes an SC-12 dispatch addressed to the department."""
    (clue,) = clues_from_national(
        TASK_XML, recipient_no="11510000MB0A1B2C62", recipient_name="四川省市场监督管理局"
    )
    assert ("FXYJ-51-2026-000321", "2", "91510107MA6CX0T113", "2026-12-16") == (
        clue["fxyjId"],
        clue["level"],
        clue["riskObjectCertCode"],
        clue["deadline"],
    )


FEEDBACK = {
    "action": "feedback",
    "actionTime": "2026-12-01 16:00:00",
    "operatorUnitNo": "11510000MB0A1B2C62",
    "operatorUnitName": "四川省市场监督管理局",
    "taskNo": "LHJG-51-2026-0007",
    "status": "3",
    "taskDetails": {
        "unionUnitType": "dept",
        "unionUnitNo": "11510000MB0A1B2C62",
        "unionUnitName": "四川省市场监督管理局",
        "claimTime": "2026-11-27 10:00:00",
        "feedbackTime": "2026-12-01 16:00:00",
        "feedbackSuggestion": "已完成检查。",
    },
    "feedbackUnitInfo": {
        "admInspection": [{"checkActionCode": "JC-2026-000101", "checkPersonnel": ["张伟", "李娜"]}]
    },
}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_feedback_goes_up_in_the_national_layout(fmt: str) -> None:
    """SC-14 feedback becomes supervisionProcess/taskDetails with the word 反馈 and the fed-back acts."""
    tree = parse_national(task_to_national(FEEDBACK, fmt=fmt))
    process = tree["supervisionProcess"]
    assert ("反馈", "LHJG-51-2026-0007", "JC-2026-000101") == (
        process["taskDetails"][0]["status"],
        process["taskDetails"][0]["taskNo"],
        process["feedbackUnitInfo"]["admInspection"][0]["checkActionCode"],
    )


BAD = {
    "entity": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><superviseData/>',
    "not xml": b"<superviseData><taskInfo>",
    "other root": b"<task><taskInfo/></task>",
    "no taskInfo": b'{"superviseData": {}}',
    "no taskNo": b"<superviseData><taskInfo><taskName>x</taskName></taskInfo></superviseData>",
    "not utf-8": b"\xff\xfe{",
}


@pytest.mark.parametrize("case", BAD)
def test_malformed_national_documents_are_refused(case: str) -> None:
    """Entities, broken XML or JSON and documents without a task are refused as MALFORMED."""
    with pytest.raises(VerificationError) as caught:
        task_from_national(BAD[case])
    assert ReasonCode.MALFORMED == caught.value.reason


BATCHES = {
    "first run of the day": ([], "2026112700001"),
    "after two runs": (["2026112700001", "2026112700002"], "2026112700003"),
    "runs of other days do not count": (["2026112600007"], "2026112700001"),
}


@pytest.mark.parametrize("case", BATCHES)
def test_cd_batch_numbers_count_the_runs_of_a_day(case: str) -> None:
    """cd_batch is the date and the next 5-digit run number of that day."""
    used, expected = BATCHES[case]
    assert expected == next_batch(date(2026, 11, 27), used)


def test_an_upward_row_carries_the_cd_columns() -> None:
    """A record reported upward gets cd_id, cd_time (China time), cd_source, cd_batch and cd_operation."""
    row = upward_row(
        {"checkActionCode": "JC-1"},
        business_key="JC-1",
        operation="update",
        batch="2026112700001",
        source_region="510000",
        department_code="AMR",
        now=datetime(2026, 11, 27, 2, 0, tzinfo=UTC),
    )
    assert {
        "checkActionCode": "JC-1",
        "cd_id": "JC-1",
        "cd_time": "2026-11-27 10:00:00",
        "cd_source": "510000AMR",
        "cd_batch": "2026112700001",
        "cd_operation": "u",
    } == row
