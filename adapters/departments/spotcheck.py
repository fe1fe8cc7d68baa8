"""The 双随机一公开 spot-check system (node ``sc.sjs``): plans, drawn objects and results → SC-09.

The system exports three tables (samples: ``sjs_plans.csv``, ``sjs_objects.csv``, ``sjs_results.csv``);
each row becomes an SC-09 record of its ``recordType`` (plan / object / result). Ratios are written
as percentages (``5%``), check modes and results as labels joined with 、 (核查方式 “实地检查、书面检查”).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from adapters.departments._desk import SAMPLES, Desk, Source, Unit
from adapters.native import Column, boolean, day, listed, listed_many, moment, number, ratio, text, text_list
from adapters.sdk.department import StandardClaim

__all__ = ["CLAIMS", "OBJECTS", "PLANS", "RESULTS", "UNIT", "SpotCheck", "sources"]

UNIT: Final = Unit("11510000MB0A1B2C62", "四川省市场监督管理局（双随机一公开监管系统）", "510000")
CLAIMS: Final = (StandardClaim("SC-09", "1.0.0"), StandardClaim("SC-14", "1.0.0"))

_PLAN_ID: Final = Column("planId", ("计划编号", "计划ID"), text(100), required=True)
PLANS: Final = (
    _PLAN_ID,
    Column("planName", ("计划名称",), text(500), required=True),
    Column("planYear", ("年度",), number, required=True),
    Column("regionName", ("地区名", "地区名称"), text(100), required=True),
    Column("regionCode", ("地区编码", "地区行政编码"), text(6), required=True),
    Column("departmentUscc", ("部门统一社会信用代码", "监管部门统一社会信用代码"), text(18)),
    Column("department", ("监管部门",), text(100), required=True),
    Column("sampleRatio", ("抽查比例",), ratio),
    Column("supervisionMatterCodes", ("抽查事项编码", "抽查事项"), text_list),
    Column("startDate", ("开始日期", "计划开始日期"), day),
    Column("endDate", ("结束日期", "计划结束日期"), day),
    Column("jointCheck", ("是否联合抽查", "是否部门联合抽查"), boolean),
)
OBJECTS: Final = (
    _PLAN_ID,
    Column("objectId", ("对象编号", "抽查检查对象ID"), text(100), required=True),
    Column("objectName", ("对象名称", "抽查检查对象名称"), text(200), required=True),
    Column("objectUscc", ("统一社会信用代码", "抽查检查对象统一社会信用代码"), text(18), required=True),
    Column("creditRiskClass", ("信用风险分类",), listed("credit_risk_class")),
    Column("drawDate", ("抽取日期",), day),
)
RESULTS: Final = (
    _PLAN_ID,
    Column("objectName", ("对象名称", "抽查检查对象名称"), text(200), required=True),
    Column("objectUscc", ("统一社会信用代码", "抽查检查对象统一社会信用代码"), text(18), required=True),
    Column("checkModes", ("核查方式",), listed_many("check_mode"), required=True),
    Column("checkResults", ("检查结果",), listed_many("check_result"), required=True),
    Column("followUpMeasures", ("后续处置措施",), text(1000)),
    Column("followUpDone", ("后续处置是否完结",), listed("follow_up_done")),
    Column("followUpDoneDate", ("完结日期",), day),
    Column("checkDepartment", ("检查执行部门",), text(100), required=True),
    Column("checkPersonnel", ("检查人员",), text_list, required=True),
    Column("checkDate", ("检查日期",), day, required=True),
    Column("reportTime", ("报送时间",), moment),
)


def _typed(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def finish(record: dict[str, Any]) -> dict[str, Any]:
        if "planYear" in record:
            record["planYear"] = int(record["planYear"])
        return {"recordType": kind, **record}

    return finish


def _key(*fields: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda record: ":".join(str(record[f]) for f in fields)


def sources(folder: Path = SAMPLES) -> tuple[Source, ...]:
    """The three exported tables in `folder`."""
    return (
        Source(folder / "sjs_plans.csv", "SC-09", PLANS, _key("recordType", "planId"), finish=_typed("plan")),
        Source(
            folder / "sjs_objects.csv",
            "SC-09",
            OBJECTS,
            _key("recordType", "planId", "objectId"),
            finish=_typed("object"),
        ),
        Source(
            folder / "sjs_results.csv",
            "SC-09",
            RESULTS,
            _key("recordType", "planId", "objectUscc"),
            finish=_typed("result"),
        ),
    )


class SpotCheck(Desk):
    """The spot-check system's adapter mapping."""

    def __init__(self, folder: Path = SAMPLES, *, auto_claim: bool = True) -> None:
        super().__init__(unit=UNIT, claims=CLAIMS, sources=sources(folder), auto_claim=auto_claim)
