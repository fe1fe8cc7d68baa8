"""Market regulation (市场监管, node ``sc.amr``): inspections, penalties, compulsion from its case system.

Native exports (samples under ``samples/``):

- ``amr_inspections.csv`` — 检查记录 (UTF-8 with BOM) → SC-05 行政检查行为;
- ``amr_penalties_gbk.csv`` — 行政处罚案件 (GBK, as the older case system exports it; fines in 万元)
  → SC-06 行政处罚行为 (fines in 元);
- ``amr_compulsion.csv`` — 行政强制 → SC-07 行政强制行为;
- ``amr_credit_risk.csv`` — 企业信用风险分类结果 → SC-15;
- and, derived from the penalties, the 双公示 publicity records (SC-10, CF_ layout, 万元).

Delivered SC-12 clues, SC-13 clue transfers and SC-14 tasks become work items and are claimed; the
feedback to an SC-14 task lists the department's inspections of the task's objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from adapters.departments._columns import COUNTERPART, INSTITUTION, OBJECT, REPORT
from adapters.departments._desk import SAMPLES, Desk, Source, Unit, action_time
from adapters.native import Column, boolean, code, day, listed, listed_many, number, text, text_list, wan_yuan
from adapters.sdk.department import ImportResult, Record, StandardClaim

__all__ = ["CLAIMS", "UNIT", "MarketRegulation", "sources"]

UNIT: Final = Unit("11510000MB0A1B2C62", "四川省市场监督管理局", "510000")
CLAIMS: Final = (
    StandardClaim("SC-05", "1.0.0"),
    StandardClaim("SC-06", "1.0.0"),
    StandardClaim("SC-07", "1.0.0"),
    StandardClaim("SC-10", "1.0.0"),
    StandardClaim("SC-15", "1.0.0"),
    StandardClaim("SC-12", "1.0.0"),
    StandardClaim("SC-13", "1.0.0"),
    StandardClaim("SC-14", "1.0.0"),
)

_MATTER: Final = Column("supervisionMatterCode", ("事项编码", "监管事项目录编码"), text(14), required=True)
_CHECK_CODE: Final = Column("checkActionCode", ("检查编号", "检查行为编号"), text(50), required=True)

INSPECTIONS: Final = (
    _CHECK_CODE,
    Column("checkActionName", ("检查名称", "检查行为名称"), text(2000), required=True),
    _MATTER,
    Column("checkImplementCode", ("实施清单编码", "监管事项检查实施清单编码"), text(800), required=True),
    Column("spotCheckPlanId", ("双随机计划ID", "双随机一公开计划id"), text(50)),
    *INSTITUTION,
    *OBJECT,
    *COUNTERPART,
    Column("checkForm", ("检查形式",), listed("check_form"), required=True),
    Column("checkType", ("检查类别",), listed("check_type"), required=True),
    Column("checkMode", ("检查方式",), listed("check_mode")),
    Column("checkResult", ("检查结果",), listed("check_result"), required=True),
    Column("checkDate", ("检查日期", "检查时间"), day, required=True),
    Column("checkPersonnel", ("检查人员",), text_list, required=True),
    Column("lawEnforcementCertNos", ("执法证号",), text_list),
    *REPORT,
)

# SC-06's project-defined codes for how a penalty was executed (the national dictionaries are not public).
_EXECUTION_MODE: Final = {"自觉履行": "1", "行政强制执行": "2", "申请人民法院强制执行": "3"}
_EXECUTION_RESULT: Final = {"执行完毕": "1", "部分执行": "2", "未执行": "3", "终结执行": "4"}

PENALTIES: Final = (
    Column("punishActionCode", ("案件编号", "处罚行为编号"), text(50), required=True),
    Column("punishActionName", ("案件名称", "处罚行为名称"), text(500), required=True),
    _MATTER,
    *INSTITUTION,
    *OBJECT,
    Column("caseSource", ("案件来源",), listed("case_source"), required=True),
    _CHECK_CODE,
    *COUNTERPART,
    Column("illegalFact", ("违法事实",), text(2000), required=True),
    Column("punishAccord", ("处罚依据",), text(1000), required=True),
    Column("punishProcedure", ("程序类型", "处罚程序"), listed("case_procedure"), required=True),
    Column("isHearing", ("是否听证",), boolean, required=True),
    Column("filingDate", ("立案日期", "处罚立案时间"), day),
    Column("isCriminal", ("是否涉刑", "是否涉刑案件"), boolean, required=True),
    Column("isMajorCase", ("是否重大案件",), boolean),
    Column("isLegalReview", ("是否法制审核",), boolean),
    Column("legalReviewDate", ("法制审核日期",), day),
    Column("punishDocumentCode", ("决定书文号", "处罚文书号"), text(100), required=True),
    Column("decisionDate", ("决定日期", "作出行政处罚决定日期"), day, required=True),
    Column("penaltyKinds", ("处罚种类",), listed_many("penalty_kind")),
    Column("fineAmount", ("罚款金额（万元）", "罚款金额(万元)"), wan_yuan),
    Column("confiscatedAmount", ("没收金额（万元）", "没收金额(万元)"), wan_yuan),
    Column("penaltyResult", ("处罚结果", "处罚内容"), text(1000), required=True),
    Column("reconsiderationApplied", ("是否复议", "是否申请行政复议"), boolean, required=True),
    Column("litigationFiled", ("是否诉讼", "是否提起行政诉讼"), boolean, required=True),
    Column("noPenalty", ("不予处罚", "结案情况—不予行政处罚"), boolean, required=True),
    Column(
        "executionMode", ("执行方式",), code(_EXECUTION_MODE, name_zh="执行方式", name_en="execution mode")
    ),
    Column(
        "executionResult",
        ("执行结果",),
        code(_EXECUTION_RESULT, name_zh="执行结果", name_en="execution result"),
    ),
    Column("paidFineAmount", ("实缴罚款（万元）", "实缴罚款(万元)"), wan_yuan),
    Column("closingDate", ("结案日期",), day),
    *REPORT,
)

COMPULSION: Final = (
    Column("forceActionCode", ("强制编号", "强制行为编号"), text(50), required=True),
    Column("forceActionName", ("强制名称", "强制行为名称"), text(400), required=True),
    _MATTER,
    *INSTITUTION,
    *OBJECT,
    _CHECK_CODE,
    *COUNTERPART,
    Column("illegalFact", ("违法事实",), text(1000), required=True),
    Column("forceAccord", ("强制依据",), text(1000), required=True),
    Column("forceDocumentCode", ("决定书文号", "强制决定书号"), text(100), required=True),
    Column("forceType", ("强制种类", "行政强制种类"), listed("compulsion_kind"), required=True),
    Column("coerciveMeasureType", ("强制措施类型",), listed("coercive_measure_type")),
    Column("forceExecutionType", ("强制执行类型",), listed("enforcement_type")),
    Column("forceResult", ("强制结果",), text(50)),
    Column("measureStartDate", ("措施起始日期", "实施强制措施的起始时间"), day),
    Column("measureEndDate", ("措施结束日期", "实施强制措施的结束时间"), day),
    *REPORT,
)


CREDIT_RISK: Final = (
    Column("entityName", ("企业名称",), text(200), required=True),
    Column("uscc", ("统一社会信用代码",), text(18), required=True),
    Column("creditClass", ("分类结果", "信用风险分类"), listed("credit_risk_class"), required=True),
    Column("score", ("评分", "分值"), number),
    Column("assessDate", ("评估日期", "分类日期"), day, required=True),
    Column("validUntil", ("有效期至",), day),
    Column("assessingDepartment", ("评估部门",), text(100), required=True),
    Column("assessingDepartmentCode", ("评估部门统一社会信用代码", "评估部门编码"), text(18), required=True),
    Column("regionCode", ("行政区划", "行政区划代码"), text(6), required=True),
    Column("industryCode", ("行业代码", "行业分类"), text(5)),
    Column("previousClass", ("上次分类",), listed("credit_risk_class")),
    Column("changeReason", ("调整原因",), text(500)),
)


def publicity(penalty: Mapping[str, Any]) -> dict[str, Any] | None:
    """The 双公示 CF record (SC-10) of a penalty (SC-06), or None when it is not published.

    《市场监督管理行政处罚信息公示规定》第二条: a penalty of a warning only is not published. Money is
    published in 万元 (SC-10) where SC-06 carries 元.
    """
    kinds = list(penalty.get("penaltyKinds", []))
    if penalty.get("noPenalty") or not kinds or kinds == ["01"]:
        return None
    person = penalty["counterpartCategory"] == "2"
    decided = date.fromisoformat(penalty["decisionDate"])
    record: dict[str, Any] = {
        "publicityType": "CF",
        "CF_XDR_MC": penalty["counterpartName"],
        "CF_XDR_LB": penalty["counterpartCategory"],
        "CF_WSH": penalty["punishDocumentCode"],
        "CF_WFXW": penalty["punishActionName"].removesuffix("案"),
        "CF_SY": penalty["illegalFact"],
        "CF_YJ": penalty["punishAccord"],
        "CF_CFLB": kinds,
        "CF_NR": penalty["penaltyResult"],
        "CF_JDRQ": penalty["decisionDate"],
        # Publicity periods of the 2021 rules: 1 year for a fine or lesser penalty, 3 years otherwise.
        "CF_YXQ": decided.replace(year=decided.year + 1).isoformat(),
        "CF_GSJZQ": decided.replace(year=decided.year + 3).isoformat(),
        "CF_CFJG": penalty["implementInstitution"],
        "CF_CFJGDM": penalty["implementInstitutionCode"],
        "CF_SJLY": penalty["implementInstitution"],
        "CF_SJLYDM": penalty["implementInstitutionCode"],
    }
    if person:
        record["CF_XDR_ZJLX"] = penalty["counterpartIdType"]
        record["CF_XDR_ZJHM"] = penalty["counterpartIdCode"]
    else:
        record["CF_XDR_SHXYM"] = penalty["counterpartIdCode"]
    for yuan, wan in (("fineAmount", "CF_NR_FK"), ("confiscatedAmount", "CF_NR_WFFF")):
        if yuan in penalty:
            record[wan] = round(penalty[yuan] / 10_000, 6)
    if "reportTime" in penalty:
        record["reportTime"] = penalty["reportTime"]
    return record


def sources(folder: Path = SAMPLES) -> tuple[Source, ...]:
    """The department's native exports in `folder` (the shipped samples by default)."""
    return (
        Source(folder / "amr_inspections.csv", "SC-05", INSPECTIONS, "checkActionCode"),
        Source(folder / "amr_penalties_gbk.csv", "SC-06", PENALTIES, "punishActionCode"),
        Source(folder / "amr_compulsion.csv", "SC-07", COMPULSION, "forceActionCode"),
        Source(folder / "amr_credit_risk.csv", "SC-15", CREDIT_RISK, "uscc"),
    )


class MarketRegulation(Desk):
    """The market regulation department's adapter mapping."""

    def __init__(self, folder: Path = SAMPLES, *, auto_claim: bool = True) -> None:
        super().__init__(unit=UNIT, claims=CLAIMS, sources=sources(folder), auto_claim=auto_claim)

    def imported(self) -> ImportResult:
        """The native records, plus the 双公示 (SC-10) records derived from the published penalties."""
        if self._imported is None:
            base = super().imported()
            derived = []
            for penalty in base.records:
                if penalty.standard == "SC-06" and (cf := publicity(penalty.payload)) is not None:
                    derived.append(Record("SC-10", self.version("SC-10"), f"CF:{cf['CF_WSH']}", cf))
            self._imported = ImportResult(base.records + tuple(derived), base.problems)
        return self._imported

    def inspections_of(self, credentials: Sequence[str]) -> list[Mapping[str, Any]]:
        """The department's SC-05 inspections of the parties with these certificate numbers."""
        wanted = set(credentials)
        return [r.payload for r in self.export("SC-05") if r.payload.get("counterpartIdCode") in wanted]

    def task_feedback(self, correlation_id: str, now: datetime, suggestion: str = "") -> Record:
        """反馈 to a delivered SC-14 task: the inspections of its objects as ``feedbackUnitInfo``."""
        dispatch = self.tasks[correlation_id]
        task = json.loads(dispatch.payload)
        objects = [o.get("credentialsValue", "") for o in task.get("superviseObjects", [])]
        inspections = [
            {
                key: value
                for key, value in {
                    "supervisionMatterCode": p["supervisionMatterCode"],
                    "checkActionName": p["checkActionName"],
                    "checkActionCode": p["checkActionCode"],
                    "implementInstitution": p.get("implementInstitution"),
                    "implementInstitutionCode": p.get("implementInstitutionCode"),
                    "superviseObjectCode": p.get("counterpartIdCode"),
                    "superviseObjectName": p["superviseObjectName"],
                    "checkForm": p["checkForm"],
                    "checkType": p["checkType"],
                    "checkMode": p.get("checkMode"),
                    "checkResult": p["checkResult"],
                    "checkDate": p["checkDate"],
                    "checkPersonnel": p["checkPersonnel"],
                }.items()
                if value is not None
            }
            for p in self.inspections_of(objects)
        ]
        found = "；".join(f"{i['checkDate']} {i['checkActionName']}" for i in inspections)
        extra = {
            "taskDetails": {
                "claimTime": action_time(self.claimed_at.get(correlation_id, now)),
                "feedbackTime": action_time(now),
                "feedbackSuggestion": suggestion or (f"已完成检查：{found}" if found else "已完成检查。"),
            },
            "feedbackUnitInfo": {"admInspection": inspections},
        }
        return self.reply(dispatch, "feedback", now, extra)
