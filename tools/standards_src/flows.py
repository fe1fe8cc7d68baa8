"""SC-11 … SC-14: complaints, risk-warning clues, clue transfer (川渝) and joint supervision tasks.

SC-12/13/14 records are the payloads of a lifecycle: one shape per ``action`` (dispatch / claim /
feedback / close / return), chosen by the ``action`` field.
"""

from __future__ import annotations

from standards_src.common import PROJECT, STATUTE, Bad, Std, citizen_id, f, uscc

PROVINCE_HUB = uscc("510000", "MB0A1B2C", "11")  # 四川省 (a provincial 机关)
CITY_AMR = uscc("510100", "MB1F2E3X", "11")
CQ_AMR = uscc("500103", "MB1H3K5L", "11")
COMPANY = uscc("510107", "MA6CX0T1", "91")
ACTIONS = ["dispatch", "claim", "feedback", "close", "return"]
_ACTION_ZH = "dispatch 分发/推送, claim 认领, feedback 反馈, close 结束, return 退回"


def sc11() -> Std:
    """投诉举报."""
    s = Std(
        "SC-11",
        ("投诉举报数据规范", "Complaints and tip-offs"),
        (
            "规定 12315 等渠道投诉、举报记录的数据项与法定时限。投诉、举报的处理时限以工作日计。",
            "Fields and statutory clocks of complaints and tip-offs (12315 and other channels); clocks count working days.",
        ),
        origin=PROJECT,
    )
    s.extra = {
        "actDateField": ["closeTime", "acceptDecisionTime", "receivedTime"],
        "reportField": "reportTime",
    }
    s.fields = [
        f("requestNo", "诉求编号", "request number", req=True, mx=64),
        f("requestKind", "诉求类别", "kind of request", req=True, codeList="complaint_kind"),
        f(
            "channel",
            "来源渠道",
            "channel",
            enum=["1", "2", "3", "4", "9"],
            desc=(
                "1 12315 热线 2 全国 12315 平台 3 信件 4 来访 9 其他",
                "1 hotline 2 national platform 3 letter 4 visit 9 other",
            ),
        ),
        f("receivedTime", "登记时间", "time received", "datetime", req=True),
        f("anonymous", "是否匿名", "anonymous", "boolean", req=True),
        f("complainantName", "投诉（举报）人姓名", "name of the complainant", mx=50),
        f("complainantPhone", "投诉（举报）人联系电话", "complainant's phone", mx=20, identifier="phone"),
        f(
            "complainantIdNumber",
            "投诉（举报）人身份证号",
            "complainant's citizen ID",
            mx=18,
            identifier="citizen_id",
        ),
        f("complainantAddress", "投诉（举报）人住址", "complainant's address", mx=200),
        f("objectName", "被投诉（举报）对象", "party complained about", req=True, mx=200),
        f(
            "objectCertCode",
            "被投诉对象统一社会信用代码",
            "USCC of the party complained about",
            mx=18,
            identifier="uscc",
        ),
        f("objectRegionCode", "属地行政区划代码", "region of the party", req=True, mx=6, codeList="region"),
        f("serviceType", "商品或服务类别", "goods or service category", mx=100),
        f("serviceName", "商品或服务名称", "goods or service", mx=200),
        f("disputeDate", "争议发生日期", "date of the dispute", "date"),
        f("amount", "涉及金额（元）", "amount involved (yuan)", "number", minimum=0),
        f("detail", "诉求内容", "content of the request", req=True, mx=4000),
        f("handlingDepartment", "承办单位", "handling department", req=True, mx=100),
        f(
            "acceptDecision",
            "受理（立案）决定",
            "acceptance decision",
            enum=["1", "2", "3", "4"],
            desc=(
                "投诉：1 受理 2 不予受理；举报：3 立案 4 不予立案",
                "complaint: 1 accepted 2 refused; tip-off: 3 case filed 4 not filed",
            ),
        ),
        f("acceptDecisionTime", "受理（立案）决定时间", "time of the acceptance decision", "datetime"),
        f(
            "mediationResult",
            "调解结果",
            "mediation result",
            enum=["1", "2"],
            desc=(
                "1 达成调解协议 2 未达成协议、终止调解",
                "1 agreement 2 no agreement, mediation terminated",
            ),
        ),
        f("mediationEndTime", "调解结束时间", "end of mediation", "datetime"),
        f("closeTime", "办结时间", "time closed", "datetime"),
        f("reportTime", "报送时间", "time of reporting", "datetime"),
    ]
    s.good["complaint"] = {
        "requestNo": "12315-5101-2025-000987",
        "requestKind": "1",
        "channel": "1",
        "receivedTime": "2025-06-03 09:12:00",
        "anonymous": False,
        "complainantName": "钱七",
        "complainantPhone": "13812345678",
        "complainantIdNumber": citizen_id("510104", "19850312", "216"),
        "complainantAddress": "四川省成都市锦江区某某街2号",
        "objectName": "成都某某食品有限公司",
        "objectCertCode": COMPANY,
        "objectRegionCode": "510107",
        "serviceType": "食品",
        "serviceName": "预包装饼干",
        "disputeDate": "2025-06-01",
        "amount": 128.5,
        "detail": "购买的饼干已超过保质期，要求退货赔偿。",
        "handlingDepartment": "成都市武侯区市场监督管理局",
        "acceptDecision": "1",
        "acceptDecisionTime": "2025-06-06 15:00:00",
        "mediationResult": "1",
        "mediationEndTime": "2025-06-20 10:00:00",
        "closeTime": "2025-06-20 10:30:00",
        "reportTime": "2025-06-23 09:00:00",
    }
    s.good["tip-off"] = {
        "requestNo": "12315-5101-2025-001002",
        "requestKind": "2",
        "channel": "2",
        "receivedTime": "2025-06-09 14:00:00",
        "anonymous": True,
        "objectName": "成都某某食品有限公司",
        "objectCertCode": COMPANY,
        "objectRegionCode": "510107",
        "detail": "该公司疑似无证生产。",
        "handlingDepartment": "成都市武侯区市场监督管理局",
        "acceptDecision": "3",
        "acceptDecisionTime": "2025-06-20 11:00:00",
        "reportTime": "2025-06-23 09:00:00",
    }
    s.rule(
        "timeliness",
        {
            "act": "receivedTime",
            "report": "acceptDecisionTime",
            "workingDays": 7,
            "when": {"field": "requestKind", "in": ["1"]},
        },
        (
            "投诉应在收到之日起 7 个工作日内作出受理或不予受理决定",
            "a complaint is accepted or refused within 7 working days",
        ),
        origin=STATUTE,
        text=(
            "市场监督管理部门应当自收到投诉之日起七个工作日内作出受理或者不予受理的决定（《市场监督管理投诉举报处理暂行办法》第十四条）；"
            "尚未作出决定的，以校验之日计算。",
            "A complaint is accepted or refused within 7 working days of receipt (Interim Measures on "
            "Complaints and Tip-offs, art. 14); while undecided, the day of validation counts.",
        ),
        bad=[
            Bad("decided-late", "complaint", set={"/acceptDecisionTime": "2025-06-16 09:00:00"}),
            Bad(
                "undecided-overdue",
                "complaint",
                drop=[
                    "/acceptDecision",
                    "/acceptDecisionTime",
                    "/mediationResult",
                    "/mediationEndTime",
                    "/closeTime",
                ],
            ),
        ],
    )
    s.rule(
        "timeliness",
        {
            "act": "receivedTime",
            "report": "acceptDecisionTime",
            "workingDays": 15,
            "when": {"field": "requestKind", "in": ["2"]},
        },
        (
            "举报应在 15 个工作日内核查并决定是否立案",
            "a tip-off is checked and decided within 15 working days",
        ),
        origin=STATUTE,
        severity="warning",
        text=(
            "举报应当自收到之日起十五个工作日内核查并决定是否立案；经批准可延长十五个工作日（《市场监督管理行政处罚程序规定》第十八条）。",
            "A tip-off is checked and a filing decision taken within 15 working days of receipt, extendable by "
            "15 with approval (Rules on Penalty Procedure, art. 18).",
        ),
        bad=Bad(
            "decided-late",
            "tip-off",
            set={"/acceptDecisionTime": "2025-07-08 09:00:00", "/reportTime": "2025-07-09 09:00:00"},
        ),
    )
    s.rule(
        "timeliness",
        {
            "act": "acceptDecisionTime",
            "report": "mediationEndTime",
            "workingDays": 45,
            "when": {"field": "mediationResult", "in": ["1", "2"]},
        },
        ("调解应在受理之日起 45 个工作日内结束", "mediation ends within 45 working days of acceptance"),
        origin=STATUTE,
        severity="warning",
        bad=Bad(
            "mediation-too-long",
            "complaint",
            set={
                "/mediationEndTime": "2025-08-20 10:00:00",
                "/closeTime": "2025-08-20 10:30:00",
                "/reportTime": "2025-08-21 09:00:00",
            },
        ),
    )
    s.rule(
        "date_order",
        {"earlier": "receivedTime", "later": "acceptDecisionTime"},
        ("受理决定时间不得早于登记时间", "the acceptance decision is not before receipt"),
        bad=Bad("decided-before-received", "complaint", set={"/acceptDecisionTime": "2025-06-02 09:00:00"}),
    )
    s.rule(
        "date_order",
        {"earlier": "acceptDecisionTime", "later": "closeTime"},
        ("办结时间不得早于受理决定时间", "closing is not before the acceptance decision"),
        bad=Bad("closed-before-accepted", "complaint", set={"/closeTime": "2025-06-05 09:00:00"}),
    )
    s.rule(
        "required_if",
        {"field": "complainantName", "when": {"field": "requestKind", "in": ["1"]}},
        ("投诉应填写投诉人姓名", "a complaint names the complainant"),
        text=(
            "投诉人应当提供真实身份信息（《市场监督管理投诉举报处理暂行办法》第九条）。",
            "A complainant gives their real identity (Interim Measures, art. 9).",
        ),
        origin=STATUTE,
        bad=Bad("complaint-without-name", "complaint", drop=["/complainantName"]),
    )
    s.rule(
        "required_if",
        {"field": "complainantPhone", "when": {"field": "requestKind", "in": ["1"]}},
        ("投诉应填写投诉人联系电话", "a complaint gives the complainant's phone"),
        clause="5.6",
        bad=Bad("complaint-without-phone", "complaint", drop=["/complainantPhone"]),
    )
    s.rule(
        "allowed_if",
        {"field": "acceptDecision", "when": {"field": "requestKind", "in": ["1"]}, "values": ["1", "2"]},
        ("投诉的受理决定应为受理或不予受理", "a complaint is accepted or refused"),
        bad=Bad("complaint-filed", "complaint", set={"/acceptDecision": "3"}),
    )
    s.rule(
        "allowed_if",
        {"field": "acceptDecision", "when": {"field": "requestKind", "in": ["2"]}, "values": ["3", "4"]},
        ("举报的决定应为立案或不予立案", "a tip-off is filed or not filed"),
        bad=Bad("tip-off-accepted", "tip-off", set={"/acceptDecision": "1"}),
    )
    s.rule(
        "money_unit",
        {"field": "amount", "unit": "yuan", "maxDecimals": 2},
        ("涉及金额以元为单位，最多两位小数", "the amount is in yuan with at most two decimals"),
        bad=Bad("three-decimals", "complaint", set={"/amount": 0.0128}),
    )
    s.rule(
        "absent_if",
        {"field": "complainantName", "when": {"field": "anonymous", "equals": True}},
        ("匿名举报不应记录举报人姓名", "an anonymous tip-off carries no name"),
        severity="warning",
        bad=Bad("anonymous-with-name", "tip-off", set={"/complainantName": "孙八"}),
    )
    return s


def _operator(
    action: str, time: str, unit: str = CITY_AMR, name: str = "成都市市场监督管理局"
) -> dict[str, str]:
    return {"action": action, "actionTime": time, "operatorUnitNo": unit, "operatorUnitName": name}


def _lifecycle_fields(key: tuple[str, str, str]) -> list[dict[str, object]]:
    return [
        f("action", "操作", "action", req=True, enum=ACTIONS, desc=(_ACTION_ZH, _ACTION_ZH)),
        f(key[0], key[1], key[2], req=True, mx=64),
        f("actionTime", "操作时间", "time of the action", "datetime", req=True),
        f(
            "operatorUnitNo",
            "操作单位统一社会信用代码",
            "USCC of the acting unit",
            req=True,
            mx=18,
            identifier="uscc",
        ),
        f("operatorUnitName", "操作单位名称", "acting unit", req=True, mx=100),
    ]


def sc12() -> Std:
    """风险预警线索."""
    s = Std(
        "SC-12",
        ("风险预警线索数据规范", "Risk-warning clues"),
        (
            "规定风险预警线索的推送、认领、反馈、结束与退回报文。线索内容沿用国家任务报文 riskWarning 的元素名称。",
            "Push, claim, feedback, close and return messages of risk-warning clues; element names follow the "
            "national riskWarning block.",
        ),
        variant_field="action",
        variants=ACTIONS,
    )
    s.extra = {"actDateField": "actionTime"}
    s.fields = [
        *_lifecycle_fields(("fxyjId", "风险预警ID", "risk-warning id")),
        f("title", "预警标题", "title", req=["dispatch"], mx=200, variants=["dispatch"]),
        f("domain", "领域", "domain", req=["dispatch"], mx=50, variants=["dispatch"]),
        f(
            "level",
            "风险等级",
            "risk level",
            req=["dispatch"],
            enum=["1", "2", "3", "4"],
            variants=["dispatch"],
            desc=("1 高 2 较高 3 一般 4 低", "1 high 2 elevated 3 moderate 4 low"),
        ),
        f(
            "province",
            "省份行政区划代码",
            "province code",
            req=["dispatch"],
            mx=6,
            codeList="region",
            variants=["dispatch"],
        ),
        f("riskObject", "风险对象名称", "party at risk", req=["dispatch"], mx=200, variants=["dispatch"]),
        f(
            "riskObjectCertType",
            "风险对象证件类型",
            "certificate type of the party",
            req=["dispatch"],
            codeList="certificate_type",
            variants=["dispatch"],
        ),
        f(
            "riskObjectCertCode",
            "风险对象证件号码",
            "certificate number of the party",
            req=["dispatch"],
            mx=64,
            certificateTypeField="riskObjectCertType",
            variants=["dispatch"],
        ),
        f("source", "线索来源", "source", req=["dispatch"], mx=100, variants=["dispatch"]),
        f("ruleId", "预警规则编号", "warning rule id", mx=64, variants=["dispatch"]),
        f(
            "createdAt",
            "预警生成时间",
            "time the warning was raised",
            "datetime",
            req=["dispatch"],
            variants=["dispatch"],
        ),
        f("props", "附加属性", "additional properties", "object", variants=["dispatch"]),
        f("supervisionMatterCode", "监管事项目录编码", "regulatory item code", mx=14, variants=["dispatch"]),
        f(
            "recipientUnitNo",
            "接收单位统一社会信用代码",
            "USCC of the recipient",
            req=["dispatch"],
            mx=18,
            identifier="uscc",
            variants=["dispatch"],
        ),
        f("recipientUnitName", "接收单位名称", "recipient", req=["dispatch"], mx=100, variants=["dispatch"]),
        f("deadline", "处置时限", "deadline", "date", req=["dispatch"], variants=["dispatch"]),
        f(
            "verifyResult",
            "核查结论",
            "verification result",
            req=["feedback"],
            enum=["1", "2", "3", "4"],
            variants=["feedback"],
            desc=(
                "1 属实 2 部分属实 3 不属实 4 无法核实",
                "1 true 2 partly true 3 untrue 4 cannot be verified",
            ),
        ),
        f("feedbackSuggestion", "反馈意见", "feedback", req=["feedback"], mx=2000, variants=["feedback"]),
        f("measures", "处置措施", "measures taken", mx=1000, variants=["feedback"]),
        f("endReason", "结束原因", "reason for closing", req=["close"], mx=500, variants=["close"]),
        f("returnReason", "退回原因", "reason for returning", req=["return"], mx=500, variants=["return"]),
    ]
    s.good["dispatch"] = {
        **_operator("dispatch", "2025-06-23 09:00:00", PROVINCE_HUB, "四川省市场监督管理局"),
        "fxyjId": "FXYJ-51-2025-000321",
        "title": "某食品企业抽检不合格率异常",
        "domain": "食品安全",
        "level": "2",
        "province": "510000",
        "riskObject": "成都某某食品有限公司",
        "riskObjectCertType": "001",
        "riskObjectCertCode": COMPANY,
        "source": "抽检监测",
        "ruleId": "FS-R-017",
        "createdAt": "2025-06-22 18:00:00",
        "props": {"batchCount": 3},
        "supervisionMatterCode": "51010020240001",
        "recipientUnitNo": CITY_AMR,
        "recipientUnitName": "成都市市场监督管理局",
        "deadline": "2025-07-04",
    }
    s.good["claim"] = {**_operator("claim", "2025-06-23 14:00:00"), "fxyjId": "FXYJ-51-2025-000321"}
    s.good["feedback"] = {
        **_operator("feedback", "2025-06-27 17:00:00"),
        "fxyjId": "FXYJ-51-2025-000321",
        "verifyResult": "2",
        "feedbackSuggestion": "经现场核查，部分批次标签不合格，已立案调查。",
        "measures": "责令下架，立案调查",
    }
    s.good["close"] = {
        **_operator("close", "2025-06-30 09:00:00", PROVINCE_HUB, "四川省市场监督管理局"),
        "fxyjId": "FXYJ-51-2025-000321",
        "endReason": "已反馈并处置",
    }
    s.good["return"] = {
        **_operator("return", "2025-06-23 15:00:00"),
        "fxyjId": "FXYJ-51-2025-000322",
        "returnReason": "风险对象不在本辖区",
    }
    s.rule(
        "date_order",
        {"earlier": "createdAt", "later": "actionTime"},
        ("推送时间不得早于预警生成时间", "a warning is not pushed before it is raised"),
        bad=Bad("pushed-before-raised", "dispatch", set={"/createdAt": "2025-06-23 10:00:00"}),
    )
    s.rule(
        "date_order",
        {"earlier": "actionTime", "later": "deadline"},
        ("处置时限不得早于推送日期", "the deadline is not before the push"),
        bad=Bad("deadline-passed", "dispatch", set={"/deadline": "2025-06-20"}),
    )
    s.rule(
        "item_code",
        {"field": "supervisionMatterCode"},
        ("监管事项目录编码应为 14 位数字", "the regulatory item code is 14 digits"),
        bad=Bad("short-item-code", "dispatch", set={"/supervisionMatterCode": "5101"}),
    )
    s.rule(
        "timeliness",
        {
            "act": "actionTime",
            "report": "deadline",
            "workingDays": 5,
            "when": {"field": "level", "in": ["1"]},
        },
        ("高风险预警的处置时限不得超过推送后 5 个工作日", "a high-risk warning is due within 5 working days"),
        origin=PROJECT,
        bad=Bad("high-risk-long-deadline", "dispatch", set={"/level": "1"}),
    )
    s.rule(
        "required_if",
        {"field": "measures", "when": {"field": "verifyResult", "in": ["1", "2"]}},
        ("核查属实或部分属实的应填写处置措施", "a confirmed warning names the measures taken"),
        origin=PROJECT,
        bad=Bad("confirmed-without-measures", "feedback", drop=["/measures"]),
    )
    return s


def sc13() -> Std:
    """违法线索移送与协查反馈 (川渝)."""
    s = Std(
        "SC-13",
        ("违法线索移送与协查反馈规范", "Illegal-clue transfer and assistance feedback"),
        (
            "规定川渝两地及省内跨区域违法线索移送、协查请求及其反馈的报文。",
            "Transfer of illegal clues and assistance requests between Sichuan and Chongqing (and across regions), "
            "and their feedback.",
        ),
        origin=PROJECT,
        variant_field="action",
        variants=ACTIONS,
    )
    s.extra = {"actDateField": "actionTime"}
    s.fields = [
        *_lifecycle_fields(("clueNo", "线索编号", "clue number")),
        f(
            "operatorRegionCode",
            "操作单位行政区划代码",
            "region of the acting unit",
            req=True,
            mx=6,
            codeList="region",
        ),
        f(
            "clueType",
            "线索类型",
            "clue type",
            req=["dispatch"],
            enum=["1", "2"],
            variants=["dispatch"],
            desc=("1 违法线索移送 2 协查请求", "1 transfer of an illegal clue 2 assistance request"),
        ),
        f(
            "receiverUnitNo",
            "接收单位统一社会信用代码",
            "USCC of the receiving unit",
            req=["dispatch"],
            mx=18,
            identifier="uscc",
            variants=["dispatch"],
        ),
        f(
            "receiverUnitName",
            "接收单位名称",
            "receiving unit",
            req=["dispatch"],
            mx=100,
            variants=["dispatch"],
        ),
        f(
            "receiverRegionCode",
            "接收单位行政区划代码",
            "region of the receiving unit",
            req=["dispatch"],
            mx=6,
            codeList="region",
            variants=["dispatch"],
        ),
        f("partyName", "涉案当事人", "party concerned", req=["dispatch"], mx=200, variants=["dispatch"]),
        f(
            "partyIdType",
            "当事人证件类型",
            "certificate type of the party",
            req=["dispatch"],
            codeList="certificate_type",
            variants=["dispatch"],
        ),
        f(
            "partyIdCode",
            "当事人证件号码",
            "certificate number of the party",
            req=["dispatch"],
            mx=64,
            certificateTypeField="partyIdType",
            variants=["dispatch"],
        ),
        f("illegalFact", "线索内容", "content of the clue", req=["dispatch"], mx=4000, variants=["dispatch"]),
        f(
            "legalBasis",
            "涉嫌违反的法律依据",
            "provisions allegedly violated",
            mx=1000,
            variants=["dispatch"],
        ),
        f("requestedItems", "协查事项", "what is asked", mx=1000, variants=["dispatch"]),
        f("replyDeadline", "反馈期限", "reply deadline", "date", variants=["dispatch"]),
        f("evidence", "证据材料", "evidence", "array", items="object", maxItems=50, variants=["dispatch"]),
        f("evidence[].name", "材料名称", "name", req=True, mx=200),
        f(
            "evidence[].sha256",
            "材料摘要（SHA-256）",
            "SHA-256 of the file",
            req=True,
            pattern="^[0-9a-f]{64}$",
        ),
        f("contactName", "联系人", "contact", req=["dispatch"], mx=50, variants=["dispatch"]),
        f(
            "contactPhone",
            "联系电话",
            "contact phone",
            req=["dispatch"],
            mx=20,
            identifier="phone",
            variants=["dispatch"],
        ),
        f(
            "assistResult",
            "协查结果",
            "result of the assistance",
            req=["feedback"],
            mx=4000,
            variants=["feedback"],
        ),
        f("caseFiled", "是否立案", "case filed", "boolean", req=["feedback"], variants=["feedback"]),
        f("caseNo", "案件编号", "case number", mx=64, variants=["feedback"]),
        f(
            "reason",
            "结束或退回原因",
            "reason",
            req=["close", "return"],
            mx=500,
            variants=["close", "return"],
        ),
    ]
    s.good["dispatch"] = {
        **_operator("dispatch", "2025-06-16 10:00:00"),
        "clueNo": "CY-XS-2025-0042",
        "operatorRegionCode": "510100",
        "clueType": "2",
        "receiverUnitNo": CQ_AMR,
        "receiverUnitName": "重庆市渝中区市场监督管理局",
        "receiverRegionCode": "500103",
        "partyName": "赵六",
        "partyIdType": "111",
        "partyIdCode": citizen_id("500103", "19880808", "031"),
        "illegalFact": "当事人通过网络销售假冒注册商标的白酒，发货地在渝中区。",
        "legalBasis": "《中华人民共和国商标法》第五十七条",
        "requestedItems": "核实发货仓库及库存数量",
        "replyDeadline": "2025-07-15",
        "evidence": [
            {
                "name": "网络交易截图.pdf",
                "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            }
        ],
        "contactName": "张三",
        "contactPhone": "028-85551234",
    }
    s.good["claim"] = {
        **_operator("claim", "2025-06-17 09:00:00", CQ_AMR, "重庆市渝中区市场监督管理局"),
        "clueNo": "CY-XS-2025-0042",
        "operatorRegionCode": "500103",
    }
    s.good["feedback"] = {
        **_operator("feedback", "2025-07-01 16:00:00", CQ_AMR, "重庆市渝中区市场监督管理局"),
        "clueNo": "CY-XS-2025-0042",
        "operatorRegionCode": "500103",
        "assistResult": "已核实仓库位置，查获涉嫌侵权白酒 120 瓶。",
        "caseFiled": True,
        "caseNo": "渝中市监立〔2025〕88号",
    }
    s.good["close"] = {
        **_operator("close", "2025-07-02 09:00:00"),
        "clueNo": "CY-XS-2025-0042",
        "operatorRegionCode": "510100",
        "reason": "协查完成",
    }
    s.good["return"] = {
        **_operator("return", "2025-06-17 09:30:00", CQ_AMR, "重庆市渝中区市场监督管理局"),
        "clueNo": "CY-XS-2025-0043",
        "operatorRegionCode": "500103",
        "reason": "不属于本辖区",
    }
    s.rule(
        "prefix_in",
        {"field": "operatorRegionCode", "prefixes": ["50", "51"]},
        ("川渝线索的操作单位应属四川或重庆", "the acting unit is in Sichuan or Chongqing"),
        bad=Bad("guizhou", "claim", set={"/operatorRegionCode": "520000"}),
    )
    s.rule(
        "prefix_in",
        {"field": "receiverRegionCode", "prefixes": ["50", "51"]},
        ("川渝线索的接收单位应属四川或重庆", "the receiving unit is in Sichuan or Chongqing"),
        clause="5.1",
        bad=Bad("receiver-in-guizhou", "dispatch", set={"/receiverRegionCode": "520000"}),
    )
    s.rule(
        "required_if",
        {"field": "requestedItems", "when": {"field": "clueType", "in": ["2"]}},
        ("协查请求应写明协查事项", "an assistance request says what is asked"),
        bad=Bad("request-without-items", "dispatch", drop=["/requestedItems"]),
    )
    s.rule(
        "required_if",
        {"field": "replyDeadline", "when": {"field": "clueType", "in": ["2"]}},
        ("协查请求应写明反馈期限", "an assistance request sets a reply deadline"),
        bad=Bad("request-without-deadline", "dispatch", drop=["/replyDeadline"]),
    )
    s.rule(
        "date_order",
        {"earlier": "actionTime", "later": "replyDeadline", "strict": True},
        ("反馈期限应晚于移送时间", "the reply deadline is after the transfer"),
        bad=Bad("deadline-before-transfer", "dispatch", set={"/replyDeadline": "2025-06-10"}),
    )
    s.rule(
        "required_if",
        {"field": "caseNo", "when": {"field": "caseFiled", "equals": True}},
        ("已立案的应填写案件编号", "a filed case gives its number"),
        bad=Bad("filed-without-number", "feedback", drop=["/caseNo"]),
    )
    return s


def _feedback_unit() -> dict[str, object]:
    return {
        "admInspection": [
            {
                "supervisionMatterCode": "51010020240001",
                "checkActionName": "联合检查",
                "checkActionCode": "JC-2025-000777",
                "implementInstitution": "成都市市场监督管理局",
                "implementInstitutionCode": CITY_AMR,
                "superviseObjectCode": COMPANY,
                "superviseObjectName": "成都某某食品有限公司",
                "checkForm": "3",
                "checkType": "3",
                "checkMode": "1",
                "checkResult": "1",
                "checkDate": "2025-06-25",
                "checkPersonnel": ["张三", "李四"],
            }
        ],
    }


def sc14() -> Std:
    """协同监管任务与反馈 (national taskInfo / superviseObjects / supervisionProcess)."""
    s = Std(
        "SC-14",
        ("协同监管任务与反馈规范", "Joint supervision tasks and feedback"),
        (
            "规定国家及省级协同（联合）监管任务的分发、认领、反馈、结束与退回报文，元素名称沿用国家任务报文。",
            "Dispatch, claim, feedback, close and return messages of joint supervision tasks; element names follow "
            "the national task message.",
        ),
        variant_field="action",
        variants=ACTIONS,
    )
    s.extra = {"actDateField": "actionTime"}
    dsp, back = ["dispatch"], ["claim", "feedback", "close", "return"]
    s.fields = [
        *_lifecycle_fields(("taskNo", "任务编号", "task number")),
        f("status", "任务状态", "task status", req=True, codeList="task_status"),
        f("taskInfo", "任务信息", "task information", "object", req=dsp, variants=dsp),
        f("taskInfo.taskName", "任务名称", "task name", req=True, mx=200),
        f("taskInfo.taskStartTime", "任务开始时间", "task start", "datetime", req=True),
        f("taskInfo.taskEndTime", "任务截止日期", "task due date", "date", req=True),
        f(
            "taskInfo.initiateUnitNo",
            "发起单位编码",
            "initiating unit (USCC)",
            req=True,
            mx=18,
            identifier="uscc",
        ),
        f("taskInfo.initiateUnitName", "发起单位名称", "initiating unit", req=True, mx=100),
        f(
            "taskInfo.initiateUnitType",
            "发起单位类型",
            "initiating unit type",
            req=True,
            enum=["dept", "region"],
        ),
        f("taskInfo.unionDeptNo", "联合部门编码", "joint department (USCC)", mx=18, identifier="uscc"),
        f("taskInfo.unionDeptName", "联合部门名称", "joint department", mx=100),
        f("taskInfo.unionRegionNo", "联合地区行政区划代码", "joint region", mx=6, codeList="region"),
        f("taskInfo.supervisionMatterCode", "监管事项目录编码", "regulatory item code", req=True, mx=14),
        f(
            "taskInfo.superviseObjectNo",
            "监管对象行业分类编码",
            "industry of the objects",
            mx=5,
            codeList="industry",
        ),
        f("taskInfo.inspectContent", "检查的主要内容", "what is inspected", req=True, mx=2000),
        f("taskInfo.inspectClaim", "检查要求", "inspection requirements", mx=2000),
        f("taskInfo.remark", "备注", "remark", mx=500),
        f(
            "superviseObjects",
            "监管对象",
            "regulated objects",
            "array",
            items="object",
            req=dsp,
            maxItems=500,
            variants=dsp,
        ),
        f(
            "superviseObjects[].superviseObjectType",
            "监管对象类型",
            "object type",
            req=True,
            codeList="object_type",
        ),
        f("superviseObjects[].superviseObjectName", "监管对象名称", "object name", req=True, mx=200),
        f("superviseObjects[].superviseObjectCode", "监管对象标识", "object id", mx=64),
        f(
            "superviseObjects[].credentialsType",
            "证件类型",
            "certificate type",
            req=True,
            codeList="certificate_type",
        ),
        f(
            "superviseObjects[].credentialsValue",
            "证件内容",
            "certificate number",
            req=True,
            mx=64,
            certificateTypeField="superviseObjects[].credentialsType",
        ),
        f(
            "superviseObjects[].basisData",
            "依据数据",
            "basis data (credit, abnormal list, complaints, risk warnings)",
            "object",
        ),
        f("taskDetails", "任务处理情况", "task handling", "object", req=back, variants=back),
        f(
            "taskDetails.unionUnitType",
            "处理单位类型",
            "handling unit type",
            req=True,
            enum=["dept", "region"],
        ),
        f(
            "taskDetails.unionUnitNo",
            "处理单位编码",
            "handling unit (USCC)",
            req=True,
            mx=18,
            identifier="uscc",
        ),
        f("taskDetails.unionUnitName", "处理单位名称", "handling unit", req=True, mx=100),
        f("taskDetails.claimTime", "认领时间", "time claimed", "datetime"),
        f("taskDetails.feedbackTime", "反馈时间", "time of feedback", "datetime"),
        f("taskDetails.feedbackSuggestion", "反馈意见", "feedback", mx=2000),
        f("taskDetails.endTime", "结束时间", "time ended", "datetime"),
        f("taskDetails.endReason", "结束或退回原因", "reason for ending or returning", mx=500),
        f(
            "feedbackUnitInfo",
            "反馈的监管行为",
            "supervision acts fed back",
            "object",
            req=["feedback"],
            variants=["feedback"],
        ),
        f("feedbackUnitInfo.admInspection", "行政检查", "inspections", "array", items="object", maxItems=100),
        f(
            "feedbackUnitInfo.admInspection[].supervisionMatterCode",
            "监管事项目录编码",
            "regulatory item code",
            req=True,
            mx=14,
        ),
        f(
            "feedbackUnitInfo.admInspection[].checkActionName",
            "检查行为名称",
            "inspection act name",
            req=True,
            mx=2000,
        ),
        f(
            "feedbackUnitInfo.admInspection[].checkActionCode",
            "检查行为编号",
            "inspection act number",
            req=True,
            mx=50,
        ),
        f(
            "feedbackUnitInfo.admInspection[].implementInstitution",
            "实施机构",
            "implementing institution",
            mx=100,
        ),
        f(
            "feedbackUnitInfo.admInspection[].implementInstitutionCode",
            "实施机构编码",
            "implementing institution code",
            mx=20,
        ),
        f("feedbackUnitInfo.admInspection[].superviseObjectCode", "监管对象标识", "object id", mx=64),
        f(
            "feedbackUnitInfo.admInspection[].superviseObjectName",
            "监管对象名称",
            "object name",
            req=True,
            mx=200,
        ),
        f(
            "feedbackUnitInfo.admInspection[].checkForm",
            "检查形式",
            "inspection form",
            req=True,
            codeList="check_form",
        ),
        f(
            "feedbackUnitInfo.admInspection[].checkType",
            "检查类别",
            "inspection category",
            req=True,
            codeList="check_type",
        ),
        f(
            "feedbackUnitInfo.admInspection[].checkMode",
            "检查方式",
            "inspection method",
            codeList="check_mode",
        ),
        f(
            "feedbackUnitInfo.admInspection[].checkResult",
            "检查结果",
            "inspection result",
            req=True,
            codeList="check_result",
        ),
        f("feedbackUnitInfo.admInspection[].checkDate", "检查时间", "date of inspection", "date", req=True),
        f(
            "feedbackUnitInfo.admInspection[].checkPersonnel",
            "检查人员",
            "inspectors",
            "array",
            req=True,
            itemMaxLength=50,
        ),
        f("feedbackUnitInfo.admPunishment", "行政处罚", "penalties", "array", items="object", maxItems=100),
        f(
            "feedbackUnitInfo.admPunishment[].supervisionMatterCode",
            "监管事项目录编码",
            "regulatory item code",
            req=True,
            mx=14,
        ),
        f(
            "feedbackUnitInfo.admPunishment[].punishActionName",
            "处罚行为名称",
            "penalty act name",
            req=True,
            mx=500,
        ),
        f(
            "feedbackUnitInfo.admPunishment[].punishActionCode",
            "处罚行为编号",
            "penalty act number",
            req=True,
            mx=50,
        ),
        f("feedbackUnitInfo.admPunishment[].superviseObjectCode", "监管对象标识", "object id", mx=64),
        f(
            "feedbackUnitInfo.admPunishment[].superviseObjectName",
            "监管对象名称",
            "object name",
            req=True,
            mx=200,
        ),
        f("feedbackUnitInfo.admPunishment[].illegalFact", "违法事实", "illegal facts", req=True, mx=2000),
        f("feedbackUnitInfo.admPunishment[].punishAccord", "处罚依据", "legal basis", req=True, mx=1000),
        f(
            "feedbackUnitInfo.admPunishment[].punishProcedure",
            "处罚程序",
            "procedure",
            req=True,
            codeList="case_procedure",
        ),
        f(
            "feedbackUnitInfo.admPunishment[].punishDocumentCode",
            "处罚文书号",
            "decision number",
            req=True,
            mx=100,
        ),
        f(
            "feedbackUnitInfo.admPunishment[].setDate",
            "作出处罚决定日期",
            "date of decision",
            "date",
            req=True,
        ),
        f("feedbackUnitInfo.admPunishment[].penaltyResult", "处罚结果", "penalty result", req=True, mx=1000),
        f("feedbackUnitInfo.other", "其他行政监管行为", "other acts", "array", items="object", maxItems=100),
        f(
            "feedbackUnitInfo.other[].supervisionMatterCode",
            "监管事项目录编码",
            "regulatory item code",
            req=True,
            mx=14,
        ),
        f("feedbackUnitInfo.other[].actionName", "行为名称", "act name", req=True, mx=300),
        f("feedbackUnitInfo.other[].actionCode", "行为编号", "act number", req=True, mx=50),
        f("feedbackUnitInfo.other[].superviseObjectName", "监管对象名称", "object name", req=True, mx=200),
        f("feedbackUnitInfo.other[].superviseMeasure", "监管措施", "measure", mx=50),
        f("feedbackUnitInfo.other[].startDate", "开始时间", "start", "date"),
        f("feedbackUnitInfo.other[].endDate", "结束时间", "end", "date"),
    ]
    city = {"unionUnitType": "region", "unionUnitNo": CITY_AMR, "unionUnitName": "成都市市场监督管理局"}
    s.good["dispatch"] = {
        **_operator("dispatch", "2025-06-16 09:00:00", PROVINCE_HUB, "四川省市场监督管理局"),
        "taskNo": "LHJG-51-2025-0007",
        "status": "1",
        "taskInfo": {
            "taskName": "2025 年食品生产企业联合检查",
            "taskStartTime": "2025-06-16 09:00:00",
            "taskEndTime": "2025-07-31",
            "initiateUnitNo": PROVINCE_HUB,
            "initiateUnitName": "四川省市场监督管理局",
            "initiateUnitType": "dept",
            "unionRegionNo": "510100",
            "supervisionMatterCode": "51010020240001",
            "superviseObjectNo": "C14",
            "inspectContent": "食品生产许可条件保持情况、原料进货查验记录",
            "inspectClaim": "7 月 31 日前完成并反馈",
        },
        "superviseObjects": [
            {
                "superviseObjectType": "1",
                "superviseObjectName": "成都某某食品有限公司",
                "superviseObjectCode": "OBJ-0001",
                "credentialsType": "001",
                "credentialsValue": COMPANY,
                "basisData": {"creditAssess": {"enterpriseMark": "C", "estimateTime": "2025-03-31"}},
            }
        ],
    }
    s.good["claim"] = {
        **_operator("claim", "2025-06-17 10:00:00"),
        "taskNo": "LHJG-51-2025-0007",
        "status": "2",
        "taskDetails": {**city, "claimTime": "2025-06-17 10:00:00"},
    }
    s.good["feedback"] = {
        **_operator("feedback", "2025-06-27 16:00:00"),
        "taskNo": "LHJG-51-2025-0007",
        "status": "3",
        "taskDetails": {
            **city,
            "claimTime": "2025-06-17 10:00:00",
            "feedbackTime": "2025-06-27 16:00:00",
            "feedbackSuggestion": "已完成检查，未发现违法行为。",
        },
        "feedbackUnitInfo": _feedback_unit(),
    }
    s.good["close"] = {
        **_operator("close", "2025-06-30 10:00:00", PROVINCE_HUB, "四川省市场监督管理局"),
        "taskNo": "LHJG-51-2025-0007",
        "status": "4",
        "taskDetails": {**city, "endTime": "2025-06-30 10:00:00", "endReason": "任务完成"},
    }
    s.good["return"] = {
        **_operator("return", "2025-06-17 11:00:00"),
        "taskNo": "LHJG-51-2025-0008",
        "status": "1",
        "taskDetails": {**city, "endTime": "2025-06-17 11:00:00", "endReason": "监管对象不在本辖区"},
    }
    s.rule(
        "field_map",
        {
            "key": "action",
            "field": "status",
            "mapping": {
                "dispatch": ["1"],
                "claim": ["2"],
                "feedback": ["3"],
                "close": ["4"],
                "return": ["1"],
            },
        },
        (
            "任务状态应与操作一致（分发→1，认领→2，反馈→3，结束→4，退回→1）",
            "the task status follows the action (dispatch 1, claim 2, feedback 3, close 4, return 1)",
        ),
        bad=Bad("claim-with-status-3", "claim", set={"/status": "3"}),
    )
    s.rule(
        "item_code",
        {"field": "taskInfo.supervisionMatterCode"},
        ("监管事项目录编码应为 14 位数字", "the regulatory item code is 14 digits"),
        bad=Bad("bad-item-code", "dispatch", set={"/taskInfo/supervisionMatterCode": "51010020240001X"}),
    )
    s.rule(
        "item_code",
        {"field": "supervisionMatterCode", "scope": "feedbackUnitInfo.admInspection[]"},
        ("反馈的检查行为的监管事项目录编码应为 14 位数字", "fed-back inspections carry a 14-digit item code"),
        clause="5.2",
        bad=Bad(
            "bad-feedback-item-code",
            "feedback",
            set={"/feedbackUnitInfo/admInspection/0/supervisionMatterCode": "123"},
        ),
    )
    s.rule(
        "date_order",
        {"earlier": "taskInfo.taskStartTime", "later": "taskInfo.taskEndTime"},
        ("任务截止日期不得早于任务开始时间", "the task is not due before it starts"),
        bad=Bad("due-before-start", "dispatch", set={"/taskInfo/taskEndTime": "2025-06-01"}),
    )
    s.rule(
        "date_order",
        {"earlier": "taskDetails.claimTime", "later": "taskDetails.feedbackTime"},
        ("反馈时间不得早于认领时间", "feedback is not before the claim"),
        bad=Bad(
            "feedback-before-claim", "feedback", set={"/taskDetails/feedbackTime": "2025-06-16 10:00:00"}
        ),
    )
    s.rule(
        "required_if",
        {"field": "taskDetails.endReason", "when": {"field": "action", "in": ["close", "return"]}},
        ("结束或退回任务应写明原因", "closing or returning a task gives the reason"),
        bad=Bad("return-without-reason", "return", drop=["/taskDetails/endReason"]),
    )
    s.rule(
        "at_least_one",
        {
            "fields": [
                "feedbackUnitInfo.admInspection",
                "feedbackUnitInfo.admPunishment",
                "feedbackUnitInfo.other",
            ],
            "key": "action",
            "when": ["feedback"],
        },
        ("反馈应至少包含一项监管行为", "feedback carries at least one supervision act"),
        bad=Bad("empty-feedback", "feedback", set={"/feedbackUnitInfo": {}}),
    )
    s.rule(
        "min_items",
        {"field": "checkPersonnel", "min": 2, "scope": "feedbackUnitInfo.admInspection[]"},
        ("反馈的检查行为检查人员不得少于两人", "a fed-back inspection has at least two inspectors"),
        origin=STATUTE,
        bad=Bad(
            "one-inspector", "feedback", set={"/feedbackUnitInfo/admInspection/0/checkPersonnel": ["张三"]}
        ),
    )
    return s
