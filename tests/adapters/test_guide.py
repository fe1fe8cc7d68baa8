"""docs/integrator-guide.md: its minimal department mapping runs as printed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import standards
from gateway.pb.jgx.exchange.v1 import exchange_pb2

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "integrator-guide.md").read_text("utf-8")


def example() -> dict[str, Any]:
    code = re.findall(r"```python\n(.*?)```", GUIDE, flags=re.DOTALL)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "integrator-guide.md", "exec"), namespace)
    return namespace


def test_the_minimal_mapping_maps_rows_and_reports_the_broken_one(tmp_path: Path) -> None:
    """The guide's MyOffice maps good CSV rows to SC-05 records and reports a bad date by its line."""
    export = tmp_path / "export.csv"
    export.write_text(
        "检查编号,检查名称,事项编码,检查形式,检查日期,检查人员\n"
        "JC-1,日常检查,51010020240001,现场检查,2026/11/3,张伟、李娜\n"
        "JC-2,日常检查,51010020240001,1,2026-02-30,张伟、李娜\n",
        "utf-8",
    )
    office = example()["MyOffice"](export)
    records = list(office.export("SC-05"))
    assert ([("JC-1", "1", "2026-11-03", ["张伟", "李娜"])], [(3, "检查日期")]) == (
        [
            (r.business_key, r.payload["checkForm"], r.payload["checkDate"], r.payload["checkPersonnel"])
            for r in records
        ],
        [(p.line, p.column) for p in office.problems],
    )


def test_the_minimal_mapping_claims_with_a_valid_record(tmp_path: Path) -> None:
    """The guide's claim for a delivered SC-14 task validates against SC-14."""
    message = exchange_pb2.Message(
        message_id="d-1",
        sender="cn.national",
        recipient="sc.amr",
        standard="SC-14",
        standard_version="1.0.0",
        correlation_id="LHJG-51-2026-0007",
        action="dispatch",
        payload=json.dumps({"taskNo": "LHJG-51-2026-0007"}).encode(),
    )
    office = example()["MyOffice"](tmp_path / "none.csv")
    (claim,) = office.handle_delivered(message, now=datetime(2026, 11, 27, 10, 0, tzinfo=UTC)).replies
    findings = standards.validate(json.dumps(claim.payload).encode(), "SC-14", "1.0.0")
    assert ("cn.national", "claim", []) == (claim.recipient, claim.action, [f.rule_id for f in findings])
