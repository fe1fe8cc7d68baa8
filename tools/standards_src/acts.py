"""SC-05 … SC-08: the 监管行为 standards (inspection, penalty, compulsion, other), from the national layouts."""

from __future__ import annotations

from standards_src.common import (
    STATUTE,
    Bad,
    Std,
    citizen_id,
    f,
    institution_block,
    matter_code,
    object_block,
    party_block,
    party_rules,
    report_block,
    uscc,
)

AGENCY = uscc("510100", "MB1F2E3X", "11")  # 成都市市场监督管理局 (a 机关, USCC kind 11)
COMPANY = uscc("510107", "MA6CX0T1", "91")
IMPLEMENT_CODE = AGENCY + "3" + "51010020240001" + "001"


def _party() -> dict[str, str]:
    return {
        "counterpartName": "成都某某食品有限公司",
        "counterpartCategory": "1",
        "counterpartIdType": "001",
        "counterpartIdCode": COMPANY,
        "registeredAddress": "四川省成都市武侯区某某路1号",
        "businessAddress": "四川省成都市武侯区某某路1号",
        "regionCode": "510107",
    }


def sc05() -> Std:
    """行政检查行为."""
    s = Std(
        "SC-05",
        ("行政检查行为数据规范", "Administrative inspection acts"),
        (
            "规定行政检查行为记录的数据项、代码和业务规则，适用于各部门向省“互联网+监管”系统报送检查行为。",
            "Fields, codes and rules of administrative inspection records reported to the provincial platform.",
        ),
    )
    s.extra = {"actDateField": "checkDate", "reportField": "reportTime"}
    s.fields = [
        f("spotCheckPlanId", "双随机一公开计划id", "random spot-check plan id", mx=50),
        matter_code(),
        f(
            "checkImplementCode",
            "监管事项检查实施清单编码",
            "inspection implementation list code",
            req=True,
            mx=800,
            desc=(
                "前 18 位为实施机构统一社会信用代码，第 19 位为行使层级",
                "characters 1–18: the implementing institution's USCC; character 19: the level (1–5)",
            ),
        ),
        f("checkActionName", "检查行为名称", "inspection act name", req=True, mx=2000),
        f("checkActionCode", "检查行为编号", "inspection act number", req=True, mx=50),
        *institution_block(),
        *object_block(),
        *party_block(),
        f("checkForm", "检查形式", "inspection form", req=True, codeList="check_form"),
        f("checkType", "检查类别", "inspection category", req=True, codeList="check_type"),
        f("checkMode", "检查方式", "inspection method", codeList="check_mode"),
        f("checkResult", "检查结果", "inspection result", req=True, codeList="check_result"),
        f("checkDate", "检查时间", "date of inspection", "date", req=True),
        f("checkPersonnel", "检查人员", "inspectors", "array", req=True, itemMaxLength=50, maxItems=20),
        f(
            "lawEnforcementCertNos",
            "执法证号",
            "law-enforcement certificate numbers",
            "array",
            itemMaxLength=100,
            maxItems=20,
        ),
        *report_block(),
    ]
    s.good["default"] = {
        "spotCheckPlanId": "SJS-2025-0012",
        "supervisionMatterCode": "51010020240001",
        "checkImplementCode": IMPLEMENT_CODE,
        "checkActionName": "食品经营者日常监督检查",
        "checkActionCode": "JC-2025-000123",
        "implementInstitution": "成都市市场监督管理局",
        "implementInstitutionCode": AGENCY,
        "superviseObjectType": "1",
        "superviseObjectName": "成都某某食品有限公司",
        **_party(),
        "checkForm": "1",
        "checkType": "2",
        "checkMode": "1",
        "checkResult": "1",
        "checkDate": "2025-06-23",
        "checkPersonnel": ["张三", "李四"],
        "lawEnforcementCertNos": ["51010012345", "51010012346"],
        "reportTime": "2025-06-25 10:30:00",
        "reportPerson": "王五",
    }
    s.rule(
        "item_code",
        {"field": "supervisionMatterCode"},
        ("监管事项目录编码应为 14 位数字", "the regulatory item code is 14 digits"),
        bad=Bad("13-digits", set={"/supervisionMatterCode": "5101002024000"}),
    )
    s.rule(
        "implement_code",
        {"field": "checkImplementCode"},
        (
            "检查实施清单编码前 18 位应为统一社会信用代码格式，第 19 位为 1–5",
            "the list code starts with a USCC-shaped 18 characters and a level digit 1–5",
        ),
        bad=Bad("level-digit-9", set={"/checkImplementCode": AGENCY + "9" + "51010020240001001"}),
    )
    s.rule(
        "prefix_from_field",
        {"field": "checkImplementCode", "prefixField": "implementInstitutionCode", "length": 18},
        (
            "检查实施清单编码前 18 位应与实施机构编码一致",
            "the list code's first 18 characters equal the implementing institution code",
        ),
        severity="warning",
        origin="project-defined",
        bad=Bad("other-agency", set={"/implementInstitutionCode": uscc("510100", "MB1F2E4Y", "11")}),
    )
    s.rule(
        "date_order",
        {"earlier": "checkDate", "later": "reportTime"},
        ("报送时间不得早于检查时间", "the report time is not before the inspection date"),
        bad=Bad("report-before-check", set={"/reportTime": "2025-06-20 09:00:00"}),
    )
    s.rule(
        "min_items",
        {"field": "checkPersonnel", "min": 2},
        ("检查人员不得少于两人", "at least two inspectors"),
        origin=STATUTE,
        text=(
            "行政检查应当由两名以上具有执法资格的人员实施（《行政处罚法》第四十二条）。",
            "An inspection is carried out by at least two officers with enforcement credentials (Administrative "
            "Penalty Law, art. 42).",
        ),
        bad=Bad("one-inspector", set={"/checkPersonnel": ["张三"]}),
    )
    s.rule(
        "required_if",
        {"field": "spotCheckPlanId", "when": {"field": "checkType", "in": ["2"]}},
        ("双随机抽查应填写双随机一公开计划id", "a random spot check names its plan id"),
        bad=Bad("spot-check-without-plan", drop=["/spotCheckPlanId"]),
    )
    party_rules(s)
    return s


def sc06() -> Std:
    """行政处罚行为."""
    s = Std(
        "SC-06",
        ("行政处罚行为数据规范", "Administrative penalty acts"),
        (
            "规定行政处罚行为记录的数据项、代码和业务规则。罚款等金额以元为单位。",
            "Fields, codes and rules of administrative penalty records. Amounts are in yuan (元).",
        ),
    )
    s.extra = {"actDateField": "decisionDate", "reportField": "reportTime"}
    s.fields = [
        matter_code(),
        f("punishActionName", "处罚行为名称", "penalty act name", req=True, mx=500),
        f("punishActionCode", "处罚行为编号", "penalty act number", req=True, mx=50),
        *institution_block(),
        *object_block(),
        f(
            "caseSource",
            "案件来源",
            "source of the case",
            req=True,
            enum=["1", "2", "3", "4", "5", "9"],
            desc=(
                "1 监督检查 2 投诉举报 3 移送 4 上级交办 5 风险监测 9 其他（项目定义）",
                "1 inspection 2 complaint/tip-off 3 transfer 4 assigned 5 risk monitoring 9 other (project-defined)",
            ),
        ),
        f("checkActionCode", "检查行为编号", "inspection act number", req=True, mx=50),
        *party_block(),
        f("illegalFact", "违法事实", "illegal facts", req=True, mx=2000),
        f("punishAccord", "处罚依据", "legal basis of the penalty", req=True, mx=1000),
        f("punishProcedure", "处罚程序", "penalty procedure", req=True, codeList="case_procedure"),
        f("isHearing", "是否听证", "hearing held", "boolean", req=True),
        f("filingDate", "处罚立案时间", "date the case was filed", "date"),
        f("isCriminal", "是否涉刑案件", "criminal case involved", "boolean", req=True),
        f("isMajorCase", "是否重大案件", "major case", "boolean"),
        f("isLegalReview", "是否法制审核", "legal review done", "boolean"),
        f("legalReviewDate", "法制审核日期", "date of legal review", "date"),
        f("legalReviewOpinion", "法制审核意见", "legal review opinion", mx=400),
        f("isCollectiveDiscussion", "是否集体讨论", "collective discussion held", "boolean"),
        f("collectiveDiscussionDate", "集体讨论日期", "date of collective discussion", "date"),
        f("collectiveDiscussionConclusion", "集体讨论结论", "conclusion of collective discussion", mx=1000),
        f("punishDocumentCode", "处罚文书号", "penalty decision number", req=True, mx=100),
        f("decisionDate", "作出行政处罚决定日期", "date of the penalty decision", "date", req=True),
        f("penaltyKinds", "处罚种类", "kinds of penalty", "array", codeList="penalty_kind", maxItems=14),
        f("fineAmount", "罚款金额（元）", "fine (yuan)", "number", minimum=0),
        f(
            "confiscatedAmount",
            "没收违法所得、非法财物金额（元）",
            "confiscated amount (yuan)",
            "number",
            minimum=0,
        ),
        f("penaltyResult", "处罚结果", "penalty result", req=True, mx=1000),
        f(
            "reconsiderationApplied",
            "是否申请行政复议",
            "administrative reconsideration applied for",
            "boolean",
            req=True,
        ),
        f("litigationFiled", "是否提起行政诉讼", "administrative litigation filed", "boolean", req=True),
        f("noPenalty", "结案情况—不予行政处罚", "decided not to penalise", "boolean", req=True),
        f(
            "executionMode",
            "结案情况—执行方式",
            "mode of execution",
            enum=["1", "2", "3"],
            desc=(
                "1 自觉履行 2 行政强制执行 3 申请人民法院强制执行（项目定义）",
                "1 voluntary 2 administrative enforcement 3 court enforcement (project-defined)",
            ),
        ),
        f(
            "executionResult",
            "结案情况—执行结果",
            "result of execution",
            enum=["1", "2", "3", "4"],
            desc=(
                "1 执行完毕 2 部分执行 3 未执行 4 终结执行（项目定义）",
                "1 fully executed 2 partly 3 not executed 4 terminated (project-defined)",
            ),
        ),
        f("paidFineAmount", "结案实缴罚款金额（元）", "fine actually paid (yuan)", "number", minimum=0),
        f("closingDate", "结案情况—结案日期", "closing date", "date"),
        f("transferDate", "移送时间", "date of transfer", "date"),
        *report_block(),
    ]
    s.good["default"] = {
        "supervisionMatterCode": "51010020240002",
        "punishActionName": "销售过期食品案",
        "punishActionCode": "CF-2025-000456",
        "implementInstitution": "成都市市场监督管理局",
        "implementInstitutionCode": AGENCY,
        "superviseObjectType": "1",
        "superviseObjectName": "成都某某食品有限公司",
        "caseSource": "1",
        "checkActionCode": "JC-2025-000123",
        **_party(),
        "illegalFact": "当事人经营超过保质期的食品。",
        "punishAccord": "《中华人民共和国食品安全法》第一百二十四条",
        "punishProcedure": "02",
        "isHearing": False,
        "filingDate": "2025-05-06",
        "isCriminal": False,
        "isMajorCase": False,
        "isLegalReview": True,
        "legalReviewDate": "2025-06-03",
        "legalReviewOpinion": "同意",
        "punishDocumentCode": "成市监罚〔2025〕123号",
        "decisionDate": "2025-06-05",
        "penaltyKinds": ["01", "02"],
        "fineAmount": 50000.0,
        "penaltyResult": "警告，罚款人民币伍万元。",
        "reconsiderationApplied": False,
        "litigationFiled": False,
        "noPenalty": False,
        "executionMode": "1",
        "executionResult": "1",
        "paidFineAmount": 50000.0,
        "closingDate": "2025-06-12",
        "reportTime": "2025-06-13 16:00:00",
        "reportPerson": "王五",
    }
    s.rule(
        "item_code",
        {"field": "supervisionMatterCode"},
        ("监管事项目录编码应为 14 位数字", "the regulatory item code is 14 digits"),
        bad=Bad("letters", set={"/supervisionMatterCode": "5101002024000A"}),
    )
    s.rule(
        "date_order",
        {"earlier": "filingDate", "later": "closingDate", "strict": True},
        ("结案日期应晚于处罚立案时间", "the closing date is after the filing date"),
        bad=Bad("closed-before-filed", set={"/closingDate": "2025-05-01"}),
    )
    s.rule(
        "date_order",
        {"earlier": "filingDate", "later": "decisionDate"},
        ("处罚决定日期不得早于立案时间", "the decision date is not before the filing date"),
        bad=Bad("decided-before-filed", set={"/decisionDate": "2025-05-01", "/closingDate": "2025-05-07"}),
    )
    s.rule(
        "date_order",
        {"earlier": "closingDate", "later": "reportTime"},
        ("报送时间不得早于结案日期", "the report time is not before the closing date"),
        bad=Bad("reported-before-closed", set={"/reportTime": "2025-06-10 09:00:00"}),
    )
    s.rule(
        "required_if",
        {"field": "fineAmount", "when": {"field": "penaltyKinds", "in": ["02"]}},
        ("处罚种类含罚款时应填写罚款金额", "a fine names its amount"),
        bad=Bad("fine-without-amount", drop=["/fineAmount", "/paidFineAmount"]),
    )
    s.rule(
        "money_unit",
        {"field": "fineAmount", "unit": "yuan", "maxDecimals": 2},
        ("罚款金额以元为单位，最多两位小数", "the fine is in yuan with at most two decimals"),
        text=(
            "罚款金额、没收金额、实缴罚款金额以元为单位，精确到分（最多两位小数）；以万元填报的数值（如 5.123456）不符合本条。",
            "Fines and confiscated and paid amounts are in yuan to the fen (two decimals); a value in 10k yuan "
            "(such as 5.123456) violates this clause.",
        ),
        origin="project-defined",
        bad=Bad("wan-yuan", set={"/fineAmount": 5.123456, "/paidFineAmount": 51234.56}),
    )
    s.rule(
        "money_unit",
        {"field": "paidFineAmount", "unit": "yuan", "maxDecimals": 2},
        ("实缴罚款金额以元为单位，最多两位小数", "the paid fine is in yuan with at most two decimals"),
        clause="5.5",
        bad=Bad("paid-wan-yuan", set={"/paidFineAmount": 4.9999999}),
    )
    s.rule(
        "required_if",
        {"field": "penaltyKinds", "when": {"field": "noPenalty", "equals": False}},
        ("作出处罚的应填写处罚种类", "a penalty names its kinds"),
        bad=Bad("no-kinds", drop=["/penaltyKinds"]),
    )
    s.rule(
        "absent_if",
        {"field": "penaltyKinds", "when": {"field": "noPenalty", "equals": True}},
        ("不予行政处罚的不得填写处罚种类", "a decision not to penalise carries no penalty kinds"),
        bad=Bad("no-penalty-with-kinds", set={"/noPenalty": True}),
    )
    s.rule(
        "allowed_if",
        {"field": "isHearing", "when": {"field": "punishProcedure", "in": ["01"]}, "values": [False]},
        ("简易程序不举行听证", "the summary procedure has no hearing"),
        origin=STATUTE,
        bad=Bad("summary-with-hearing", set={"/punishProcedure": "01", "/isHearing": True}),
    )
    s.rule(
        "allowed_if",
        {"field": "isLegalReview", "when": {"field": "isMajorCase", "equals": True}, "values": [True]},
        ("重大案件应当经过法制审核", "a major case is legally reviewed"),
        origin=STATUTE,
        text=(
            "重大执法决定在作出决定前应当进行法制审核（《行政处罚法》第五十八条）。",
            "Major enforcement decisions are legally reviewed before they are made (Administrative Penalty Law, art. 58).",
        ),
        bad=Bad("major-without-review", set={"/isMajorCase": True, "/isLegalReview": False}),
    )
    s.rule(
        "required_if",
        {"field": "legalReviewDate", "when": {"field": "isLegalReview", "equals": True}},
        ("经过法制审核的应填写法制审核日期", "a legal review names its date"),
        bad=Bad("review-without-date", drop=["/legalReviewDate"]),
    )
    s.rule(
        "number_order",
        {"smaller": "paidFineAmount", "larger": "fineAmount"},
        ("实缴罚款金额一般不超过罚款金额", "the paid fine does not normally exceed the fine"),
        severity="warning",
        origin="project-defined",
        bad=Bad("paid-more", set={"/paidFineAmount": 60000.0}),
    )
    party_rules(s)
    # Clause 5.6 names the confiscated amount too (appended so the ids above stay as published).
    s.rule(
        "money_unit",
        {"field": "confiscatedAmount", "unit": "yuan", "maxDecimals": 2},
        (
            "没收违法所得、非法财物金额以元为单位，最多两位小数",
            "the confiscated amount is in yuan with at most two decimals",
        ),
        clause="5.6",
        bad=Bad("confiscated-wan-yuan", set={"/confiscatedAmount": 1.234567}),
    )
    return s


def sc07() -> Std:
    """行政强制行为."""
    s = Std(
        "SC-07",
        ("行政强制行为数据规范", "Administrative compulsion acts"),
        (
            "规定行政强制措施与行政强制执行记录的数据项、代码和业务规则。",
            "Fields, codes and rules of administrative compulsion records (measures and enforcement).",
        ),
    )
    s.extra = {"actDateField": "measureStartDate", "reportField": "reportTime"}
    s.fields = [
        matter_code(),
        f("forceActionName", "强制行为名称", "compulsion act name", req=True, mx=400),
        f("forceActionCode", "强制行为编号", "compulsion act number", req=True, mx=50),
        *institution_block()[:2],
        *object_block(name_required=False),
        f("checkActionCode", "检查行为编号", "inspection act number", req=True, mx=50),
        *party_block(),
        f("illegalFact", "违法事实", "illegal facts", req=True, mx=1000),
        f("forceAccord", "强制依据", "legal basis of the compulsion", req=True, mx=1000),
        f("forceDocumentCode", "强制决定书号", "compulsion decision number", req=True, mx=100),
        f("forceType", "行政强制种类", "kind of compulsion", req=True, codeList="compulsion_kind"),
        f(
            "coerciveMeasureType",
            "强制措施类型",
            "type of compulsory measure",
            codeList="coercive_measure_type",
        ),
        f(
            "forceExecutionType",
            "强制执行类型",
            "type of compulsory enforcement",
            codeList="enforcement_type",
        ),
        f("forceResult", "强制结果", "result", mx=50),
        f("measureStartDate", "实施强制措施的起始时间", "start of the measure", "date"),
        f("measureEndDate", "实施强制措施的结束时间", "end of the measure", "date"),
        f("forceExtendDate", "强制措施延长期限", "extension of the measure", mx=10),
        *report_block(),
    ]
    s.good["default"] = {
        "supervisionMatterCode": "51010020240003",
        "forceActionName": "扣押过期食品",
        "forceActionCode": "QZ-2025-000078",
        "implementInstitution": "成都市市场监督管理局",
        "implementInstitutionCode": AGENCY,
        "superviseObjectType": "4",
        "superviseObjectName": "过期预包装食品",
        "checkActionCode": "JC-2025-000123",
        **_party(),
        "illegalFact": "当事人经营超过保质期的食品。",
        "forceAccord": "《中华人民共和国食品安全法》第一百一十条",
        "forceDocumentCode": "成市监强〔2025〕78号",
        "forceType": "1",
        "coerciveMeasureType": "3",
        "forceResult": "已扣押",
        "measureStartDate": "2025-06-03",
        "measureEndDate": "2025-06-20",
        "reportTime": "2025-06-10 11:00:00",
        "reportPerson": "王五",
    }
    s.rule(
        "item_code",
        {"field": "supervisionMatterCode"},
        ("监管事项目录编码应为 14 位数字", "the regulatory item code is 14 digits"),
        bad=Bad("15-digits", set={"/supervisionMatterCode": "510100202400031"}),
    )
    s.rule(
        "required_if",
        {"field": "coerciveMeasureType", "when": {"field": "forceType", "in": ["1"]}},
        ("行政强制措施应填写强制措施类型", "a compulsory measure names its type"),
        bad=Bad("measure-without-type", drop=["/coerciveMeasureType"]),
    )
    s.rule(
        "required_if",
        {"field": "forceExecutionType", "when": {"field": "forceType", "in": ["2"]}},
        ("行政强制执行应填写强制执行类型", "a compulsory enforcement names its type"),
        bad=Bad("enforcement-without-type", set={"/forceType": "2"}, drop=["/coerciveMeasureType"]),
    )
    s.rule(
        "date_order",
        {"earlier": "measureStartDate", "later": "measureEndDate"},
        ("强制措施结束时间不得早于起始时间", "the measure does not end before it starts"),
        bad=Bad("ends-before-start", set={"/measureEndDate": "2025-06-01"}),
    )
    s.rule(
        "max_span",
        {"start": "measureStartDate", "end": "measureEndDate", "days": 30, "unless": "forceExtendDate"},
        (
            "查封、扣押期限不得超过三十日（依法延长的除外）",
            "seizure lasts at most 30 days unless lawfully extended",
        ),
        origin=STATUTE,
        severity="warning",
        text=(
            "查封、扣押的期限不得超过三十日；情况复杂的，经批准可以延长，延长期限应当填写（《行政强制法》第二十五条）。",
            "Sealing-up and seizure last at most 30 days; an approved extension is recorded (Administrative "
            "Compulsion Law, art. 25).",
        ),
        bad=Bad("45-days", set={"/measureEndDate": "2025-07-17"}),
    )
    s.rule(
        "date_order",
        {"earlier": "measureStartDate", "later": "reportTime"},
        ("报送时间不得早于强制措施起始时间", "the report time is not before the measure starts"),
        bad=Bad("reported-before-start", set={"/reportTime": "2025-05-30 09:00:00"}),
    )
    party_rules(s)
    return s


def sc08() -> Std:
    """其他行政监管行为."""
    s = Std(
        "SC-08",
        ("其他行政监管行为数据规范", "Other supervision acts"),
        (
            "规定检查、处罚、强制以外的其他行政监管行为记录的数据项和业务规则。",
            "Fields and rules of supervision acts other than inspection, penalty and compulsion.",
        ),
    )
    s.extra = {"actDateField": ["endDate", "startDate"], "reportField": "reportTime"}
    s.fields = [
        matter_code(),
        f("actionName", "行为名称", "act name", req=True, mx=300),
        f("actionCode", "行为编号", "act number", req=True, mx=50),
        f("checkActionCode", "检查行为编号", "inspection act number", req=True, mx=50),
        *object_block(),
        f("itemSource", "事项来源", "source of the item", mx=50),
        *institution_block(),
        *party_block(),
        f("superviseMeasure", "监管措施", "supervision measure", mx=50),
        f("closingCase", "结案情况", "how the matter closed", mx=200),
        f("startDate", "开始时间", "start date", "date"),
        f("endDate", "结束时间", "end date", "date"),
        *report_block(),
    ]
    s.good["default"] = {
        "supervisionMatterCode": "51010020240004",
        "actionName": "责令限期整改",
        "actionCode": "QT-2025-000031",
        "checkActionCode": "JC-2025-000123",
        "superviseObjectType": "1",
        "superviseObjectName": "成都某某食品有限公司",
        "itemSource": "日常检查",
        "implementInstitution": "成都市市场监督管理局",
        "implementInstitutionCode": AGENCY,
        **_party(),
        "superviseMeasure": "责令整改",
        "closingCase": "已整改",
        "startDate": "2025-06-03",
        "endDate": "2025-06-17",
        "reportTime": "2025-06-19 15:00:00",
        "reportPerson": "王五",
    }
    s.rule(
        "item_code",
        {"field": "supervisionMatterCode"},
        ("监管事项目录编码应为 14 位数字", "the regulatory item code is 14 digits"),
        bad=Bad("spaces", set={"/supervisionMatterCode": "5101 002024000"}),
    )
    s.rule(
        "date_order",
        {"earlier": "startDate", "later": "endDate"},
        ("结束时间不得早于开始时间", "the end date is not before the start date"),
        bad=Bad("ends-before-start", set={"/endDate": "2025-06-01"}),
    )
    s.rule(
        "date_order",
        {"earlier": "startDate", "later": "reportTime"},
        ("报送时间不得早于开始时间", "the report time is not before the start date"),
        bad=Bad("reported-before-start", set={"/reportTime": "2025-06-02 08:00:00"}),
    )
    party_rules(s)
    return s


def person_party() -> dict[str, str]:
    """A natural-person counterpart (for fixtures that need one)."""
    return {
        "counterpartName": "赵六",
        "counterpartCategory": "2",
        "counterpartIdType": "111",
        "counterpartIdCode": citizen_id(),
    }
