"""Reference departments read their native exports: good rows become records, broken rows are reported."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.departments import SAMPLES, Complaints12315, MarketRegulation, SpotCheck
from adapters.departments._desk import Desk
from adapters.departments.amr import publicity
from gateway.pb.jgx.exchange.v1 import exchange_pb2

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

# department -> (records per standard, [(file, line, column) of each refused row])
EXPECTED = {
    "amr": (
        MarketRegulation,
        {"SC-05": 5, "SC-06": 3, "SC-07": 2, "SC-10": 2, "SC-15": 3},
        [
            ("amr_inspections.csv", 6, "检查形式"),
            ("amr_inspections.csv", 7, "检查日期"),
            ("amr_inspections.csv", 8, ""),
            ("amr_inspections.csv", 9, "当事人名称"),
            ("amr_inspections.csv", 10, ""),
            ("amr_penalties_gbk.csv", 5, "罚款金额（万元）"),
            ("amr_penalties_gbk.csv", 6, "程序类型"),
            ("amr_compulsion.csv", 4, "强制种类"),
            ("amr_credit_risk.csv", 5, "分类结果"),
        ],
    ),
    "12315": (
        Complaints12315,
        {"SC-11": 3},
        [
            ("12315_export.json", 4, "sqbh"),
            ("12315_export.json", 5, "sqlb"),
            ("12315_export.json", 6, "djsj"),
            ("12315_export.json", 7, ""),
        ],
    ),
    "sjs": (
        SpotCheck,
        {"SC-09": 8},
        [
            ("sjs_plans.csv", 4, "抽查比例"),
            ("sjs_objects.csv", 5, ""),
            ("sjs_results.csv", 5, "检查结果"),
        ],
    ),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_good_rows_become_records(name: str) -> None:
    """Every good native row becomes one standard record of the expected standard."""
    make, counts, _ = EXPECTED[name]
    records = make(SAMPLES).imported().records
    assert counts == {s: sum(r.standard == s for r in records) for s in counts}
    assert sum(counts.values()) == len(records)


@pytest.mark.parametrize("name", EXPECTED)
def test_broken_rows_are_reported_by_line(name: str) -> None:
    """Each broken row is reported with its file, line and column, and the reason in both languages."""
    make, _, problems = EXPECTED[name]
    reported = make(SAMPLES).imported().problems
    assert problems == [(p.source, p.line, p.column) for p in reported]
    assert all(p.reason_zh and p.reason_en for p in reported)


def test_the_gbk_export_reads_as_chinese() -> None:
    """The GBK-encoded penalty export yields correct Chinese text and fines converted from 万元 to 元."""
    penalties = {r.business_key: r.payload for r in MarketRegulation(SAMPLES).export("SC-06")}
    first = penalties["CF-2026-000201"]
    assert ("成市监罚〔2026〕201号", 50000.0, ["01", "02"], False) == (
        first["punishDocumentCode"],
        first["fineAmount"],
        first["penaltyKinds"],
        first["isHearing"],
    )


def test_a_line_in_another_encoding_is_refused_alone() -> None:
    """A GBK line inside the UTF-8 export is refused by line number and the row after it still maps."""
    records = [r.business_key for r in MarketRegulation(SAMPLES).export("SC-05")]
    assert "JC-2026-000110" == records[-1]  # line 11, after the undecodable line 10


def test_header_aliases_are_accepted(tmp_path: Path) -> None:
    """An export using the standard's labels and aliases (监管行为监管对象类型) maps the same way."""
    shutil.copytree(SAMPLES, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "amr_inspections.csv"
    text = path.read_bytes()
    renamed = text.replace("监管对象类型".encode(), "监管行为监管对象类型".encode()).replace(
        "检查日期".encode(), "检查时间".encode()
    )
    path.write_bytes(renamed)
    original = [r.payload for r in MarketRegulation(SAMPLES).export("SC-05")]
    assert original == [r.payload for r in MarketRegulation(tmp_path).export("SC-05")]


def test_a_missing_required_column_refuses_the_file(tmp_path: Path) -> None:
    """A file without a required column is reported once, at its header, and yields no records."""
    shutil.copytree(SAMPLES, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "amr_compulsion.csv"
    path.write_text(path.read_text("utf-8").replace("强制编号", "编号"), "utf-8")
    result = MarketRegulation(tmp_path).imported()
    compulsion = [p for p in result.problems if p.source == "amr_compulsion.csv"]
    assert ([1], []) == ([p.line for p in compulsion], MarketRegulation(tmp_path).export("SC-07"))


def test_a_warning_only_penalty_is_not_published() -> None:
    """双公示: a penalty of a warning only yields no CF record; a fine is published in 万元."""
    penalties = {r.business_key: r.payload for r in MarketRegulation(SAMPLES).export("SC-06")}
    published = publicity(penalties["CF-2026-000201"])
    assert (None, 5.0) == (publicity(penalties["CF-2026-000203"]), published and published["CF_NR_FK"])


def dispatch(standard: str, payload: dict[str, object], correlation_id: str) -> exchange_pb2.Message:
    message = exchange_pb2.Message(
        message_id="d-" + correlation_id, sender="cn.national", recipient="sc.amr", standard=standard,
        standard_version="1.0.0", correlation_id=correlation_id, action="dispatch",
        payload=json.dumps(payload, ensure_ascii=False).encode(),
    )  # fmt: skip
    message.issued_at.FromDatetime(NOW)
    return message


TASK = {
    "action": "dispatch", "actionTime": "2026-11-26 09:00:00", "operatorUnitNo": "11100000MB0N1A2T43",
    "operatorUnitName": "国家市场监督管理总局", "taskNo": "LHJG-51-2026-0007", "status": "1",
    "taskInfo": {"taskName": "2026 年食品经营企业联合检查"},
    "superviseObjects": [{"superviseObjectType": "1", "superviseObjectName": "成都蓉味食品有限公司",
                          "credentialsType": "001", "credentialsValue": "91510107MA6CX0T113"}],
}  # fmt: skip


@pytest.mark.parametrize(
    ("standard", "key", "correlation_id"),
    [("SC-14", "taskNo", "LHJG-51-2026-0007"), ("SC-12", "fxyjId", "FXYJ-1"), ("SC-13", "clueNo", "CY-1")],
)
def test_a_delivered_dispatch_is_claimed(standard: str, key: str, correlation_id: str) -> None:
    """A dispatched task or clue becomes a work item and a claim naming it, sent back to the dispatcher."""
    desk: Desk = MarketRegulation(SAMPLES)
    handling = desk.handle_delivered(dispatch(standard, TASK, correlation_id), now=NOW)
    (item,) = handling.work_items
    (claim,) = handling.replies
    assert (
        correlation_id,
        "claim",
        "cn.national",
        "d-" + correlation_id,
        correlation_id,
        "2026-11-27 10:00:00",
    ) == (
        item.correlation_id,
        claim.action,
        claim.recipient,
        claim.in_reply_to,
        claim.payload[key],
        claim.payload["actionTime"],
    )


def test_a_silent_department_does_not_claim() -> None:
    """Without auto-claim a dispatch becomes a work item and no reply."""
    handling = MarketRegulation(SAMPLES, auto_claim=False).handle_delivered(
        dispatch("SC-14", TASK, "T-9"), now=NOW
    )
    assert (1, ()) == (len(handling.work_items), handling.replies)


def test_task_feedback_lists_the_inspections_of_its_objects() -> None:
    """Feedback to an SC-14 task carries the department's inspections of the task's objects."""
    desk = MarketRegulation(SAMPLES)
    desk.handle_delivered(dispatch("SC-14", TASK, "LHJG-51-2026-0007"), now=NOW)
    feedback = desk.task_feedback("LHJG-51-2026-0007", NOW)
    inspections = feedback.payload["feedbackUnitInfo"]["admInspection"]
    assert (["JC-2026-000101"], "3", "feedback") == (
        [i["checkActionCode"] for i in inspections],
        feedback.payload["status"],
        feedback.action,
    )
