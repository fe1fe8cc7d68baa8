"""The demo's documents: two national supervision tasks and a Sichuan illegal clue for Chongqing.

Dated from the demo's start, so the scenario reads the same on any day. The identifiers are valid
(USCC check characters, region codes in force); the parties and facts are invented.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

from adapters.lifecycle import CHINA
from standards.calendar import add_working_days

__all__ = [
    "AMR_DEPT",
    "CHONGQING_UNIT",
    "SJS_DEPT",
    "close_task",
    "clue",
    "malformed_task",
    "national_task",
    "spot_check_task",
]  # fmt: skip

#: The Chongqing unit that works on transferred clues (两江新区, set up on 2025-11-06).
CHONGQING_UNIT: Final = {
    "uscc": "11500157MB1L4J6N11",
    "name": "重庆两江新区市场监督管理局",
    "region": "500157",
}
_SAMR: Final = {"initiateUnitNo": "11100000MB0N1A2T43", "initiateUnitName": "国家市场监督管理总局"}
#: The Sichuan units a national task names (taskInfo unionDeptNo, a USCC); the bridge routes by them.
AMR_DEPT: Final = "11510000MB0A1B2C62"
SJS_DEPT: Final = "11510000MB0D2J3K4T"


def _wall(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def national_task(now: datetime, task_no: str = "LHJG-51-DEMO-0001") -> bytes:
    """A national joint-supervision task (``superviseData``, JSON) whose first object carries a 风险预警."""
    start = now.astimezone(CHINA)
    tree: dict[str, Any] = {
        "taskInfo": {
            "taskNo": task_no,
            "taskName": "食品经营企业风险预警联合核查",
            "taskStartTime": _wall(now),
            "taskEndTime": add_working_days(start.date(), 20).isoformat(),
            "status": "分发",
            **_SAMR,
            "initiateUnitType": "dept",
            "unionDeptNo": AMR_DEPT,
            "unionDeptName": "四川省市场监督管理局",
            "unionRegionNo": "510100",
            "supervisionMatterCode": "51010020240001",
            "superviseObjectNo": "F52",
            "inspectContent": "核查抽检不合格原因、进货查验记录与整改情况",
            "inspectClaim": "认领后二十个工作日内完成并反馈",
            "superviseObjects": {
                "superviseObject": [
                    {
                        "superviseObjectType": "1",
                        "superviseObjectName": "成都蓉味食品有限公司",
                        "superviseObjectCode": "OBJ-510107-000001",
                        "credentialsType": "001",
                        "credentialsValue": "91510107MA6CX0T113",
                        "basisData": {
                            "riskWarning": {
                                "riskObject": "成都蓉味食品有限公司",
                                "riskObjectCertCode": "91510107MA6CX0T113",
                                "fxyjId": f"FXYJ-{task_no}",
                                "domain": "食品安全",
                                "province": "510000",
                                "title": "抽检不合格率异常",
                                "level": "2",
                                "createdAt": _wall(now),
                                "source": "抽检监测",
                                "ruleId": "FS-R-017",
                            }
                        },
                    }
                ]
            },
        }
    }
    return json.dumps({"superviseData": tree}, ensure_ascii=False).encode("utf-8")


def spot_check_task(now: datetime, task_no: str = "LHJG-51-DEMO-0002") -> bytes:
    """A national task for the spot-check system that nobody will claim (the overdue act)."""
    start = now.astimezone(CHINA)
    tree: dict[str, Any] = {
        "taskInfo": {
            "taskNo": task_no,
            "taskName": "跨部门双随机联合抽查（粮油经营）",
            "taskStartTime": _wall(now),
            "taskEndTime": add_working_days(start.date(), 20).isoformat(),
            **_SAMR,
            "initiateUnitType": "dept",
            "unionDeptNo": SJS_DEPT,
            "unionDeptName": "四川省双随机一公开监管系统",
            "supervisionMatterCode": "51010020240001",
            "inspectContent": "粮油经营企业进货查验与标签标识",
            "superviseObjects": {
                "superviseObject": [
                    {
                        "superviseObjectType": "1",
                        "superviseObjectName": "成都天府粮油有限公司",
                        "credentialsType": "001",
                        "credentialsValue": "91510104MA62KL8P1H",
                    }
                ]
            },
        }
    }
    return json.dumps({"superviseData": tree}, ensure_ascii=False).encode("utf-8")


def close_task(task_no: str, reason: str) -> bytes:
    """结束: the national side closes a task it dispatched (status 结束, the reason in taskDetails)."""
    tree = {
        "taskInfo": {"taskNo": task_no, "status": "结束", **_SAMR},
        "supervisionProcess": {"taskDetails": [{"taskNo": task_no, "status": "结束", "endReason": reason}]},
    }
    return json.dumps({"superviseData": tree}, ensure_ascii=False).encode("utf-8")


def malformed_task() -> bytes:
    """A superviseData document the national side wrote wrongly: its taskInfo element repeats."""
    return (
        b"<superviseData><taskInfo><taskNo>LHJG-BAD</taskNo></taskInfo>"
        b"<taskInfo><taskNo>LHJG-BAD-2</taskNo></taskInfo></superviseData>"
    )


def clue(now: datetime, clue_no: str, *, receiver_region: str = "500157") -> dict[str, Any]:
    """A Sichuan 协查请求 (assistance request, SC-13) for the Chongqing unit of `receiver_region`."""
    today = now.astimezone(CHINA).date()
    return {
        "action": "dispatch",
        "actionTime": _wall(now),
        "operatorUnitNo": "11510100MB1F2E3X4Q",
        "operatorUnitName": "成都市市场监督管理局",
        "clueNo": clue_no,
        "operatorRegionCode": "510100",
        "clueType": "2",
        "receiverUnitNo": CHONGQING_UNIT["uscc"],
        "receiverUnitName": CHONGQING_UNIT["name"],
        "receiverRegionCode": receiver_region,
        "partyName": "刘建国",
        "partyIdType": "111",
        "partyIdCode": "510106197811204521",
        "illegalFact": "当事人通过网络销售假冒注册商标的白酒，发货仓库位于重庆两江新区。",
        "legalBasis": "《中华人民共和国商标法》第五十七条",
        "requestedItems": "核实发货仓库位置及库存数量",
        "replyDeadline": add_working_days(today, 10).isoformat(),
        "contactName": "王芳",
        "contactPhone": "13812345678",
    }
