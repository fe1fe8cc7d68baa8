"""SC-01 … SC-04, SC-09, SC-10, SC-15: catalogue, implementation lists, objects, personnel, spot checks,
publicity (双公示) and credit risk classes."""

from __future__ import annotations

from standards_src.common import PERSONAL_CERTS, PROJECT, STATUTE, Bad, Std, citizen_id, f, uscc

AGENCY = uscc("510100", "MB1F2E3X", "11")
COMPANY = uscc("510107", "MA6CX0T1", "91")
LIST_CODE = AGENCY + "3" + "51010020240001" + "001"


def sc01() -> Std:
    """监管事项目录清单."""
    s = Std(
        "SC-01",
        ("监管事项目录清单编制规范", "Regulatory item catalogue"),
        (
            "规定监管事项目录清单（主项、子项）的数据项与编码规则。",
            "Fields and coding of the regulatory item catalogue (main and sub-items).",
        ),
    )
    s.fields = [
        f("supervisionMatterCode", "监管事项目录编码", "regulatory item code", req=True, mx=14),
        f("matterName", "监管事项名称", "item name", req=True, mx=500),
        f("matterType", "监管事项类型", "item type", req=True, codeList="matter_type"),
        f("isMainItem", "是否主项", "main item", "boolean", req=True),
        f("parentCode", "所属主项编码", "code of the main item", mx=14),
        f(
            "implementLevels",
            "行使层级",
            "levels exercising the item",
            "array",
            req=True,
            codeList="implementation_level",
            maxItems=5,
        ),
        f("competentDepartment", "主管部门", "competent department", req=True, mx=100),
        f(
            "competentDepartmentCode",
            "主管部门统一社会信用代码",
            "USCC of the competent department",
            mx=18,
            identifier="uscc",
        ),
        f("legalBasis", "设定依据", "legal basis", req=True, mx=2000),
        f("isSpotCheckItem", "是否双随机抽查事项", "random spot-check item", "boolean", req=True),
        f("isKeyInspection", "是否重点检查事项", "key inspection item", "boolean"),
        f(
            "jointSpotCheck",
            "是否适用部门联合随机抽查",
            "suitable for joint random checks",
            "boolean",
            req=True,
        ),
        f("effectiveDate", "生效日期", "effective date", "date", req=True),
    ]
    s.good["default"] = {
        "supervisionMatterCode": "51010020240001",
        "matterName": "对食品经营者的监督检查",
        "matterType": "01",
        "isMainItem": False,
        "parentCode": "51010020240000",
        "implementLevels": ["2", "3", "4"],
        "competentDepartment": "四川省市场监督管理局",
        "competentDepartmentCode": uscc("510000", "MB0A1B2C", "11"),
        "legalBasis": "《中华人民共和国食品安全法》第一百一十条",
        "isSpotCheckItem": True,
        "isKeyInspection": False,
        "jointSpotCheck": True,
        "effectiveDate": "2024-03-01",
    }
    s.rule(
        "item_code",
        {"field": "supervisionMatterCode"},
        ("监管事项目录编码应为 14 位数字", "the item code is 14 digits"),
        bad=Bad("letters", set={"/supervisionMatterCode": "XK000010000000"}),
    )
    s.rule(
        "item_code",
        {"field": "parentCode"},
        ("所属主项编码应为 14 位数字", "the main item's code is 14 digits"),
        clause="5.1",
        bad=Bad("short-parent", set={"/parentCode": "5101"}),
    )
    s.rule(
        "required_if",
        {"field": "parentCode", "when": {"field": "isMainItem", "equals": False}},
        ("子项应填写所属主项编码", "a sub-item names its main item"),
        bad=Bad("orphan-sub-item", drop=["/parentCode"]),
    )
    s.rule(
        "absent_if",
        {"field": "parentCode", "when": {"field": "isMainItem", "equals": True}},
        ("主项不得填写所属主项编码", "a main item has no parent"),
        bad=Bad("main-with-parent", set={"/isMainItem": True}),
    )
    s.rule(
        "allowed_if",
        {
            "field": "isSpotCheckItem",
            "when": {"field": "matterType", "in": ["02", "03", "04"]},
            "values": [False],
        },
        ("只有行政检查事项可标为双随机抽查事项", "only inspection items are random spot-check items"),
        origin=PROJECT,
        bad=Bad("penalty-spot-check", set={"/matterType": "02"}),
    )
    s.rule(
        "allowed_if",
        {"field": "jointSpotCheck", "when": {"field": "isSpotCheckItem", "equals": False}, "values": [False]},
        ("非双随机抽查事项不适用部门联合随机抽查", "joint random checks need a spot-check item"),
        bad=Bad("joint-without-spot-check", set={"/isSpotCheckItem": False}),
    )
    return s


def sc02() -> Std:
    """检查实施清单."""
    s = Std(
        "SC-02",
        ("检查实施清单编制规范", "Inspection implementation list"),
        (
            "规定检查实施清单的数据项与检查实施清单编码规则：实施机构统一社会信用代码（18 位）+ 行使层级（1 位）+ 监管事项目录编码（14 位）+ 顺序号（3 位）。",
            "Fields of the inspection implementation list and its code: the agency's USCC (18) + level (1) + item code "
            "(14) + sequence (3).",
        ),
    )
    s.fields = [
        f("checkImplementCode", "检查实施清单编码", "implementation list code", req=True, mx=36),
        f("supervisionMatterCode", "监管事项目录编码", "regulatory item code", req=True, mx=14),
        f("implementInstitution", "实施机构", "implementing institution", req=True, mx=100),
        f(
            "implementInstitutionCode",
            "实施机构统一社会信用代码",
            "USCC of the implementing institution",
            req=True,
            mx=18,
            identifier="uscc",
        ),
        f("implementLevel", "行使层级", "level", req=True, codeList="implementation_level"),
        f("checkContent", "检查内容", "what is inspected", req=True, mx=2000),
        f("checkModes", "检查方式", "inspection methods", "array", codeList="check_mode", maxItems=6),
        f("objectScope", "检查对象范围", "scope of objects", mx=500),
        f("frequency", "检查频次", "frequency", mx=100),
        f("legalBasis", "实施依据", "legal basis", req=True, mx=2000),
        f("isSpotCheck", "是否纳入双随机抽查", "in random spot checks", "boolean", req=True),
    ]
    s.good["default"] = {
        "checkImplementCode": LIST_CODE,
        "supervisionMatterCode": "51010020240001",
        "implementInstitution": "成都市市场监督管理局",
        "implementInstitutionCode": AGENCY,
        "implementLevel": "3",
        "checkContent": "食品经营许可条件保持、进货查验记录、食品贮存",
        "checkModes": ["1", "2"],
        "objectScope": "辖区内食品经营者",
        "frequency": "每年不少于 1 次",
        "legalBasis": "《中华人民共和国食品安全法》第一百一十条",
        "isSpotCheck": True,
    }
    s.rule(
        "implement_code",
        {"field": "checkImplementCode"},
        (
            "检查实施清单编码前 18 位应为统一社会信用代码格式，第 19 位为 1–5",
            "the list code starts with a USCC shape and a level digit 1–5",
        ),
        bad=Bad("lowercase", set={"/checkImplementCode": LIST_CODE.lower()}),
    )
    s.rule(
        "prefix_from_field",
        {"field": "checkImplementCode", "prefixField": "implementInstitutionCode", "length": 18},
        (
            "检查实施清单编码前 18 位应为实施机构统一社会信用代码",
            "the list code starts with the agency's USCC",
        ),
        bad=Bad("other-agency", set={"/implementInstitutionCode": uscc("510100", "MB1F2E4Y", "11")}),
    )
    s.rule(
        "slice_equals_field",
        {"field": "checkImplementCode", "start": 18, "end": 19, "other": "implementLevel"},
        ("检查实施清单编码第 19 位应为行使层级", "character 19 of the list code is the level"),
        bad=Bad("level-mismatch", set={"/implementLevel": "4"}),
    )
    s.rule(
        "slice_equals_field",
        {"field": "checkImplementCode", "start": 19, "end": 33, "other": "supervisionMatterCode"},
        (
            "检查实施清单编码第 20–33 位应为监管事项目录编码",
            "characters 20–33 of the list code are the item code",
        ),
        severity="warning",
        origin=PROJECT,
        bad=Bad("item-mismatch", set={"/supervisionMatterCode": "51010020240009"}),
    )
    s.rule(
        "item_code",
        {"field": "supervisionMatterCode"},
        ("监管事项目录编码应为 14 位数字", "the item code is 14 digits"),
        bad=Bad(
            "short", set={"/supervisionMatterCode": "510100", "/checkImplementCode": AGENCY + "3" + "510100"}
        ),
    )
    return s


def sc03() -> Std:
    """监管对象."""
    s = Std(
        "SC-03",
        ("监管对象数据规范", "Regulated objects"),
        (
            "规定监管对象信息要素：唯一编码、名称、大类与子类、主体证件、地址与区划。",
            "Elements of regulated objects.",
        ),
    )
    s.extra = {"actDateField": "registrationDate"}
    s.fields = [
        f("objectCode", "监管对象唯一编码", "object id", req=True, mx=200),
        f("objectName", "监管对象名称", "object name", req=True, mx=200),
        f("objectType", "监管对象大类", "object class", req=True, codeList="object_type"),
        f("objectTypeName", "监管对象大类中文名称", "object class name", req=True, mx=600),
        f("objectSubType", "监管对象子类", "object sub-class", mx=50),
        f("objectSubTypeName", "监管对象子类中文名称", "object sub-class name", mx=600),
        f(
            "counterpartIdType",
            "主体证件类型",
            "certificate type of the holder",
            req=True,
            codeList="certificate_type",
        ),
        f(
            "counterpartIdCode",
            "行政相对人统一社会信用代码/身份证号",
            "USCC or citizen ID of the holder",
            req=True,
            mx=18,
            certificateTypeField="counterpartIdType",
        ),
        f("registeredAddress", "注册地址", "registered address", mx=600),
        f("businessAddress", "经营地址", "business address", mx=600),
        f("regionCode", "所在地区行政区划代码", "region", req=True, mx=6, codeList="region"),
        f("industryCode", "行业分类", "industry", mx=5, codeList="industry"),
        f("legalRepresentative", "法定代表人（负责人）", "legal representative", mx=50),
        f(
            "legalRepIdNumber",
            "法定代表人身份证号",
            "legal representative's citizen ID",
            mx=18,
            identifier="citizen_id",
        ),
        f("contactPhone", "联系电话", "contact phone", mx=20, identifier="phone"),
        f("registrationDate", "成立（注册）日期", "date of registration", "date"),
        f("longitude", "经营地址经度", "longitude", "number", minimum=-180, maximum=180),
        f("latitude", "经营地址纬度", "latitude", "number", minimum=-90, maximum=90),
    ]
    s.good["default"] = {
        "objectCode": "OBJ-510107-000001",
        "objectName": "成都某某食品有限公司",
        "objectType": "1",
        "objectTypeName": "企业、个体户、农专社",
        "counterpartIdType": "001",
        "counterpartIdCode": COMPANY,
        "registeredAddress": "四川省成都市武侯区某某路1号",
        "businessAddress": "四川省成都市武侯区某某路1号",
        "regionCode": "510107",
        "industryCode": "C14",
        "legalRepresentative": "周九",
        "legalRepIdNumber": citizen_id("510107", "19760521", "017"),
        "contactPhone": "13900001111",
        "registrationDate": "2018-04-12",
        "longitude": 104.04,
        "latitude": 30.64,
    }
    s.rule(
        "allowed_if",
        {
            "field": "counterpartIdType",
            "when": {"field": "objectType", "in": ["2"]},
            "values": PERSONAL_CERTS,
        },
        ("自然人监管对象应使用个人证件", "a natural-person object carries a personal certificate"),
        bad=Bad("person-with-uscc", set={"/objectType": "2", "/objectTypeName": "自然人"}),
    )
    s.rule(
        "allowed_if",
        {"field": "counterpartIdType", "when": {"field": "objectType", "in": ["1", "10"]}, "values": ["001"]},
        ("企业与非企业组织应使用统一社会信用代码", "an enterprise or organisation carries a USCC"),
        bad=Bad("company-with-id", set={"/counterpartIdType": "111", "/counterpartIdCode": citizen_id()}),
    )
    s.rule(
        "required_if",
        {"field": "industryCode", "when": {"field": "objectType", "in": ["1"]}},
        ("企业类监管对象应填写行业分类", "an enterprise names its industry"),
        severity="warning",
        origin=PROJECT,
        bad=Bad("no-industry", drop=["/industryCode"]),
    )
    return s


def sc04() -> Std:
    """执法人员."""
    s = Std(
        "SC-04",
        ("执法人员数据规范", "Enforcement personnel"),
        (
            "规定行政执法人员信息的数据项，执法证号为必填。",
            "Fields of enforcement personnel records; the certificate number is required.",
        ),
    )
    s.fields = [
        f("name", "姓名", "name", req=True, mx=50),
        f("organization", "所属主体（受委托组织）全称", "organisation", req=True, mx=100),
        f("idNumber", "身份证号", "citizen ID", mx=18, identifier="citizen_id"),
        f("sex", "性别", "sex", codeList="sex"),
        f("birthDate", "出生日期", "date of birth", "date"),
        f("politicalStatus", "政治面貌", "political status", codeList="political_status"),
        f(
            "personnelNature",
            "执法人员性质",
            "kind of post",
            enum=["1", "2", "3"],
            desc=(
                "1 行政编制 2 事业编制 3 其他（项目定义）",
                "1 civil service 2 public institution 3 other (project-defined)",
            ),
        ),
        f("isSupervisor", "是否监督人员", "supervisor", "boolean"),
        f("hasLegalQualification", "是否具有法律职业资格", "legal professional qualification", "boolean"),
        f("contactPhone", "联系电话", "phone", mx=20, identifier="phone"),
        f("lawEnforcementCertNo", "执法证号", "law-enforcement certificate number", req=True, mx=100),
        f("issuingAuthority", "发证机关", "issuing authority", mx=100),
        f("enforcementArea", "执法区域", "area of enforcement", mx=200),
        f("enforcementCategory", "执法类别", "category of enforcement", mx=200),
        f("certValidFrom", "证件有效期起", "certificate valid from", "date"),
        f("certValidTo", "证件有效期至", "certificate valid to", "date"),
        f("regionCode", "行政区划代码", "region", mx=6, codeList="region"),
        f("departmentCode", "部门编码", "department code", mx=50),
    ]
    s.good["default"] = {
        "name": "张三",
        "organization": "成都市市场监督管理局",
        "idNumber": citizen_id("510104", "19870415", "031"),
        "sex": "1",
        "birthDate": "1987-04-15",
        "politicalStatus": "01",
        "personnelNature": "1",
        "isSupervisor": False,
        "hasLegalQualification": True,
        "contactPhone": "028-85551234",
        "lawEnforcementCertNo": "51010012345",
        "issuingAuthority": "四川省人民政府",
        "enforcementArea": "成都市",
        "enforcementCategory": "市场监管",
        "certValidFrom": "2023-01-01",
        "certValidTo": "2028-12-31",
        "regionCode": "510100",
        "departmentCode": "SC-AMR-CD",
    }
    s.rule(
        "citizen_id_consistency",
        {"idField": "idNumber", "field": "birthDate", "aspect": "birth"},
        ("出生日期应与身份证号一致", "the birth date agrees with the citizen ID"),
        bad=Bad("birth-mismatch", set={"/birthDate": "1987-05-15"}),
    )
    s.rule(
        "citizen_id_consistency",
        {"idField": "idNumber", "field": "sex", "aspect": "sex"},
        ("性别应与身份证号一致", "the sex agrees with the citizen ID"),
        bad=Bad("sex-mismatch", set={"/sex": "2"}),
    )
    s.rule(
        "date_order",
        {"earlier": "certValidFrom", "later": "certValidTo", "strict": True},
        ("证件有效期至应晚于有效期起", "the certificate's end is after its start"),
        bad=Bad("ends-before-start", set={"/certValidTo": "2022-12-31"}),
    )
    s.rule(
        "not_before_validation_day",
        {"field": "certValidTo"},
        ("执法证件已过有效期", "the law-enforcement certificate has expired"),
        severity="warning",
        origin=STATUTE,
        text=(
            "执法人员应持有效执法证件（《行政处罚法》第四十二条）。",
            "Officers hold a valid certificate (Administrative Penalty Law, art. 42).",
        ),
        bad=Bad("expired", set={"/certValidTo": "2025-01-31"}),
    )
    return s


def sc09() -> Std:
    """双随机一公开."""
    s = Std(
        "SC-09",
        ("双随机一公开数据规范", "Random spot checks"),
        (
            "规定双随机一公开的抽查计划、抽取的检查对象和检查结果三类记录，以 recordType 区分。",
            "Plans, drawn objects and results of random spot checks, told apart by recordType.",
        ),
        variant_field="recordType",
        variants=["plan", "object", "result"],
    )
    s.extra = {"actDateField": "checkDate", "reportField": "reportTime"}
    plan, obj, res = ["plan"], ["object"], ["result"]
    s.fields = [
        f(
            "recordType",
            "记录类型",
            "record type",
            req=True,
            enum=["plan", "object", "result"],
            desc=("plan 抽查计划 object 抽取对象 result 检查结果", "plan, drawn object or result"),
        ),
        f("planId", "计划ID", "plan id", req=True, mx=100),
        f("planName", "计划名称", "plan name", req=plan, mx=500, variants=plan),
        f("planYear", "年度", "year", "integer", req=plan, variants=plan),
        f("regionName", "地区名", "region name", req=plan, mx=100, variants=plan),
        f("regionCode", "地区行政编码", "region code", req=plan, mx=6, codeList="region", variants=plan),
        f(
            "departmentUscc",
            "监管部门统一社会信用代码",
            "USCC of the department",
            mx=18,
            identifier="uscc",
            variants=plan,
        ),
        f("department", "监管部门", "department", req=plan, mx=100, variants=plan),
        f("sampleRatio", "抽查比例", "sampling ratio", "number", variants=plan),
        f("supervisionMatterCodes", "抽查事项", "items checked", "array", maxItems=50, variants=plan),
        f("startDate", "计划开始日期", "plan start", "date", variants=plan),
        f("endDate", "计划结束日期", "plan end", "date", variants=plan),
        f("jointCheck", "是否部门联合抽查", "joint check", "boolean", variants=plan),
        f("objectId", "抽查检查对象ID", "object id", req=obj, mx=100, variants=obj),
        f("objectName", "抽查检查对象名称", "object name", req=obj + res, mx=200, variants=obj + res),
        f(
            "objectUscc",
            "抽查检查对象统一社会信用代码",
            "USCC of the object",
            req=obj + res,
            mx=18,
            identifier="uscc",
            variants=obj + res,
        ),
        f("creditRiskClass", "信用风险分类", "credit risk class", codeList="credit_risk_class", variants=obj),
        f("drawDate", "抽取日期", "date drawn", "date", variants=obj),
        f(
            "checkModes",
            "核查方式",
            "methods",
            "array",
            req=res,
            codeList="check_mode",
            maxItems=6,
            variants=res,
        ),
        f(
            "checkResults",
            "检查结果",
            "results",
            "array",
            req=res,
            codeList="check_result",
            maxItems=12,
            variants=res,
        ),
        f("followUpMeasures", "后续处置措施", "follow-up measures", mx=500, variants=res),
        f("followUpDone", "后续处置是否完结", "follow-up completed", codeList="follow_up_done", variants=res),
        f("followUpDoneDate", "完结日期", "date completed", "date", variants=res),
        f("checkDepartment", "检查执行部门", "department that checked", req=res, mx=100, variants=res),
        f(
            "checkPersonnel",
            "检查人员",
            "inspectors",
            "array",
            req=res,
            itemMaxLength=50,
            maxItems=20,
            variants=res,
        ),
        f("checkDate", "检查日期", "date of the check", "date", req=res, variants=res),
        f("reportTime", "报送时间", "time of reporting", "datetime", variants=res),
    ]
    s.good["plan"] = {
        "recordType": "plan",
        "planId": "SJS-2025-0012",
        "planName": "2025 年成都市食品经营者双随机抽查计划",
        "planYear": 2025,
        "regionName": "成都市",
        "regionCode": "510100",
        "departmentUscc": AGENCY,
        "department": "成都市市场监督管理局",
        "sampleRatio": 0.05,
        "supervisionMatterCodes": ["51010020240001"],
        "startDate": "2025-04-01",
        "endDate": "2025-11-30",
        "jointCheck": False,
    }
    s.good["object"] = {
        "recordType": "object",
        "planId": "SJS-2025-0012",
        "objectId": "OBJ-510107-000001",
        "objectName": "成都某某食品有限公司",
        "objectUscc": COMPANY,
        "creditRiskClass": "C",
        "drawDate": "2025-04-08",
    }
    s.good["result"] = {
        "recordType": "result",
        "planId": "SJS-2025-0012",
        "objectName": "成都某某食品有限公司",
        "objectUscc": COMPANY,
        "checkModes": ["1"],
        "checkResults": ["1"],
        "followUpDone": "2",
        "followUpDoneDate": "2025-06-24",
        "checkDepartment": "成都市武侯区市场监督管理局",
        "checkPersonnel": ["张三", "李四"],
        "checkDate": "2025-06-23",
        "reportTime": "2025-06-25 10:00:00",
    }
    s.rule(
        "range",
        {"field": "sampleRatio", "min": 0, "max": 1},
        ("抽查比例应在 0 与 1 之间", "the sampling ratio lies in [0, 1]"),
        bad=Bad("percent", "plan", set={"/sampleRatio": 5}),
    )
    s.rule(
        "year_window",
        {"field": "planYear", "past": 5, "future": 1},
        ("计划年度应为近年", "the plan year is recent"),
        bad=Bad("year-1925", "plan", set={"/planYear": 1925}),
    )
    s.rule(
        "min_items",
        {"field": "checkPersonnel", "min": 2},
        ("随机选派的检查人员不得少于两人", "at least two randomly drawn inspectors"),
        origin=STATUTE,
        bad=Bad("one-inspector", "result", set={"/checkPersonnel": ["张三"]}),
    )
    s.rule(
        "required_if",
        {"field": "followUpDoneDate", "when": {"field": "followUpDone", "in": ["2"]}},
        ("后续处置已完结的应填写完结日期", "a completed follow-up gives its date"),
        bad=Bad("done-without-date", "result", drop=["/followUpDoneDate"]),
    )
    s.rule(
        "date_order",
        {"earlier": "checkDate", "later": "followUpDoneDate"},
        ("完结日期不得早于检查日期", "the follow-up does not end before the check"),
        bad=Bad("done-before-check", "result", set={"/followUpDoneDate": "2025-06-01"}),
    )
    s.rule(
        "date_order",
        {"earlier": "startDate", "later": "endDate"},
        ("计划结束日期不得早于开始日期", "the plan does not end before it starts"),
        bad=Bad("ends-before-start", "plan", set={"/endDate": "2025-03-01"}),
    )
    s.rule(
        "item_code",
        {"field": "supervisionMatterCodes"},
        ("抽查事项应为 14 位监管事项目录编码", "items are 14-digit item codes"),
        bad=Bad("bad-item", "plan", set={"/supervisionMatterCodes": ["51010020240001", "ABC"]}),
    )
    s.rule(
        "date_order",
        {"earlier": "checkDate", "later": "reportTime"},
        ("报送时间不得早于检查日期", "the report is not before the check"),
        bad=Bad("reported-before-check", "result", set={"/reportTime": "2025-06-20 10:00:00"}),
    )
    return s


def sc10() -> Std:
    """双公示信用信息 (XK_ / CF_ layouts, money in 万元)."""
    s = Std(
        "SC-10",
        ("双公示信用信息数据规范", "Licence and penalty publicity records"),
        (
            "规定行政许可（XK_）与行政处罚（CF_）双公示记录，沿用国家信用平台的数据项代码；金额以万元为单位。",
            "Licence (XK_) and penalty (CF_) publicity records with the national credit platform's element codes; "
            "amounts are in 10k yuan (万元).",
        ),
        variant_field="publicityType",
        variants=["XK", "CF"],
    )
    s.extra = {"actDateField": ["CF_JDRQ", "XK_JDRQ"], "reportField": "reportTime"}
    cf, xk, both = ["CF"], ["XK"], ["CF", "XK"]
    s.fields = [
        f(
            "publicityType",
            "公示类型",
            "publicity type",
            req=True,
            enum=both,
            desc=("XK 行政许可 CF 行政处罚", "XK licence, CF penalty"),
        ),
        f("CF_XDR_MC", "行政相对人名称", "counterpart name", req=cf, mx=200, variants=cf),
        f(
            "CF_XDR_LB",
            "行政相对人类别",
            "counterpart category",
            req=cf,
            codeList="party_category",
            variants=cf,
        ),
        f(
            "CF_XDR_SHXYM",
            "行政相对人代码_1（统一社会信用代码）",
            "counterpart USCC",
            mx=18,
            identifier="uscc",
            variants=cf,
        ),
        f(
            "CF_XDR_GSZC",
            "行政相对人代码_2（工商注册号）",
            "business registration number",
            mx=50,
            variants=cf,
        ),
        f(
            "CF_XDR_ZZJG",
            "行政相对人代码_3（组织机构代码）",
            "organisation code",
            mx=10,
            identifier="org_code",
            variants=cf,
        ),
        f("CF_XDR_SWDJ", "行政相对人代码_4（税务登记号）", "tax registration number", mx=50, variants=cf),
        f(
            "CF_XDR_SYDW",
            "行政相对人代码_5（事业单位证书号）",
            "public institution certificate",
            mx=50,
            variants=cf,
        ),
        f(
            "CF_XDR_SHZZ",
            "行政相对人代码_6（社会组织登记证号）",
            "social organisation certificate",
            mx=50,
            variants=cf,
        ),
        f("CF_FRDB", "法定代表人", "legal representative", mx=50, variants=cf),
        f(
            "CF_FR_ZJLX",
            "法定代表人证件类型",
            "legal representative's certificate type",
            codeList="certificate_type",
            variants=cf,
        ),
        f(
            "CF_FR_ZJHM",
            "法定代表人证件号码",
            "legal representative's certificate number",
            mx=64,
            certificateTypeField="CF_FR_ZJLX",
            variants=cf,
        ),
        f(
            "CF_XDR_ZJLX",
            "证件类型（自然人）",
            "certificate type (natural person)",
            codeList="certificate_type",
            variants=cf,
        ),
        f(
            "CF_XDR_ZJHM",
            "证件号码（自然人）",
            "certificate number (natural person)",
            mx=64,
            certificateTypeField="CF_XDR_ZJLX",
            variants=cf,
        ),
        f("CF_WSH", "行政处罚决定书文号", "decision number", req=cf, mx=128, variants=cf),
        f("CF_WFXW", "违法行为类型", "type of violation", req=cf, mx=2000, variants=cf),
        f("CF_SY", "违法事实", "illegal facts", req=cf, mx=5000, variants=cf),
        f("CF_YJ", "处罚依据", "legal basis", req=cf, mx=2048, variants=cf),
        f(
            "CF_CFLB",
            "处罚类别",
            "penalty kinds",
            "array",
            req=cf,
            codeList="penalty_kind",
            maxItems=14,
            variants=cf,
        ),
        f("CF_NR", "处罚内容", "penalty content", req=cf, mx=4000, variants=cf),
        f("CF_NR_FK", "罚款金额（万元）", "fine (10k yuan)", "number", minimum=0, variants=cf),
        f(
            "CF_NR_WFFF",
            "没收违法所得、没收非法财物的金额（万元）",
            "confiscated amount (10k yuan)",
            "number",
            minimum=0,
            variants=cf,
        ),
        f("CF_NR_ZKDX", "暂扣或吊销证照名称及编号", "licence suspended or revoked", mx=200, variants=cf),
        f("CF_JDRQ", "处罚决定日期", "decision date", "date", req=cf, variants=cf),
        f("CF_YXQ", "处罚有效期", "penalty valid until", "date", req=cf, variants=cf),
        f("CF_GSJZQ", "公示截止期", "publication ends", "date", variants=cf),
        f("CF_CFJG", "处罚机关", "deciding authority", req=cf, mx=200, variants=cf),
        f(
            "CF_CFJGDM",
            "处罚机关统一社会信用代码",
            "USCC of the deciding authority",
            req=cf,
            mx=18,
            identifier="uscc",
            variants=cf,
        ),
        f("CF_SJLY", "数据来源单位", "source unit", req=cf, mx=200, variants=cf),
        f(
            "CF_SJLYDM",
            "数据来源单位统一社会信用代码",
            "USCC of the source unit",
            req=cf,
            mx=18,
            identifier="uscc",
            variants=cf,
        ),
        f("XK_XDR_MC", "行政相对人名称", "counterpart name", req=xk, mx=200, variants=xk),
        f(
            "XK_XDR_LB",
            "行政相对人类别",
            "counterpart category",
            req=xk,
            codeList="party_category",
            variants=xk,
        ),
        f(
            "XK_XDR_SHXYM",
            "行政相对人代码_1（统一社会信用代码）",
            "counterpart USCC",
            mx=18,
            identifier="uscc",
            variants=xk,
        ),
        f("XK_FDDB", "法定代表人", "legal representative", mx=50, variants=xk),
        f(
            "XK_FR_SFZH",
            "法定代表人身份证号",
            "legal representative's citizen ID",
            mx=18,
            identifier="citizen_id",
            variants=xk,
        ),
        f(
            "XK_XDR_ZJLX",
            "证件类型（自然人）",
            "certificate type (natural person)",
            codeList="certificate_type",
            variants=xk,
        ),
        f(
            "XK_XDR_ZJHM",
            "证件号码（自然人）",
            "certificate number (natural person)",
            mx=64,
            certificateTypeField="XK_XDR_ZJLX",
            variants=xk,
        ),
        f("XK_XKWS", "行政许可决定文书名称", "licence decision document", req=xk, mx=64, variants=xk),
        f("XK_WSH", "行政许可决定文书号", "licence decision number", req=xk, mx=64, variants=xk),
        f(
            "XK_XKLB",
            "许可类别",
            "licence category",
            req=xk,
            enum=["普通", "特许", "认可", "核准", "登记", "其他"],
            variants=xk,
        ),
        f("XK_XKZS", "许可证书名称", "licence certificate", mx=64, variants=xk),
        f("XK_XKBH", "许可编号", "licence number", mx=64, variants=xk),
        f("XK_NR", "许可内容", "licence content", req=xk, mx=4000, variants=xk),
        f("XK_JDRQ", "许可决定日期", "decision date", "date", req=xk, variants=xk),
        f("XK_YXQZ", "有效期自", "valid from", "date", req=xk, variants=xk),
        f("XK_YXQZI", "有效期至", "valid to", "date", req=xk, variants=xk),
        f("XK_XKJG", "许可机关", "licensing authority", req=xk, mx=200, variants=xk),
        f(
            "XK_XKJGDM",
            "许可机关统一社会信用代码",
            "USCC of the licensing authority",
            req=xk,
            mx=18,
            identifier="uscc",
            variants=xk,
        ),
        f(
            "XK_ZT",
            "当前状态",
            "status",
            req=xk,
            enum=["1", "2"],
            desc=("1 有效 2 无效", "1 valid 2 invalid"),
            variants=xk,
        ),
        f("XK_LYDW", "数据来源单位", "source unit", req=xk, mx=200, variants=xk),
        f(
            "XK_LYDWDM",
            "数据来源单位统一社会信用代码",
            "USCC of the source unit",
            req=xk,
            mx=18,
            identifier="uscc",
            variants=xk,
        ),
        f("BZ", "备注", "remark", mx=512),
        f("reportTime", "报送时间", "time of reporting", "datetime"),
    ]
    s.good["CF"] = {
        "publicityType": "CF",
        "CF_XDR_MC": "成都某某食品有限公司",
        "CF_XDR_LB": "1",
        "CF_XDR_SHXYM": COMPANY,
        "CF_XDR_ZZJG": "MA6CX0T1-" + COMPANY[16],
        "CF_FRDB": "周九",
        "CF_FR_ZJLX": "111",
        "CF_FR_ZJHM": citizen_id("510107", "19760521", "017"),
        "CF_WSH": "成市监罚〔2025〕123号",
        "CF_WFXW": "经营超过保质期的食品",
        "CF_SY": "当事人经营超过保质期的食品。",
        "CF_YJ": "《中华人民共和国食品安全法》第一百二十四条",
        "CF_CFLB": ["01", "02"],
        "CF_NR": "警告，罚款人民币伍万元。",
        "CF_NR_FK": 5.0,
        "CF_JDRQ": "2025-06-05",
        "CF_YXQ": "2026-06-05",
        "CF_GSJZQ": "2028-06-05",
        "CF_CFJG": "成都市市场监督管理局",
        "CF_CFJGDM": AGENCY,
        "CF_SJLY": "成都市市场监督管理局",
        "CF_SJLYDM": AGENCY,
        "reportTime": "2025-06-10 09:00:00",
    }
    s.good["XK"] = {
        "publicityType": "XK",
        "XK_XDR_MC": "成都某某食品有限公司",
        "XK_XDR_LB": "1",
        "XK_XDR_SHXYM": COMPANY,
        "XK_FDDB": "周九",
        "XK_FR_SFZH": citizen_id("510107", "19760521", "017"),
        "XK_XKWS": "食品经营许可决定书",
        "XK_WSH": "JY15101070012345",
        "XK_XKLB": "普通",
        "XK_XKZS": "食品经营许可证",
        "XK_XKBH": "JY15101070012345",
        "XK_NR": "预包装食品销售",
        "XK_JDRQ": "2025-06-09",
        "XK_YXQZ": "2025-06-09",
        "XK_YXQZI": "2030-06-08",
        "XK_XKJG": "成都市武侯区市场监督管理局",
        "XK_XKJGDM": AGENCY,
        "XK_ZT": "1",
        "XK_LYDW": "成都市武侯区市场监督管理局",
        "XK_LYDWDM": AGENCY,
        "reportTime": "2025-06-10 09:00:00",
    }
    s.rule(
        "money_unit",
        {"field": "CF_NR_FK", "unit": "wanYuan", "maxDecimals": 6},
        ("罚款金额以万元为单位，最多六位小数", "the fine is in 10k yuan with at most six decimals"),
        text=(
            "CF_NR_FK、CF_NR_WFFF 以万元为单位，精确到六位小数（decimal(18,6)），与监管行为记录以元计的金额不同。",
            "CF_NR_FK and CF_NR_WFFF are in 10k yuan with six decimals (decimal(18,6)), unlike the yuan of act records.",
        ),
        bad=Bad("seven-decimals", "CF", set={"/CF_NR_FK": 5.1234567}),
    )
    s.rule(
        "money_unit",
        {"field": "CF_NR_FK", "unit": "wanYuan", "maxDecimals": 99, "plausibleMax": 10000},
        ("罚款金额超过 1 亿元，疑为按元填报", "a fine above 100 million yuan: probably entered in yuan"),
        severity="warning",
        clause="5.1",
        origin=PROJECT,
        bad=Bad("entered-in-yuan", "CF", set={"/CF_NR_FK": 50000.0}),
    )
    s.rule(
        "money_unit",
        {"field": "CF_NR_WFFF", "unit": "wanYuan", "maxDecimals": 6},
        (
            "没收金额以万元为单位，最多六位小数",
            "the confiscated amount is in 10k yuan with at most six decimals",
        ),
        clause="5.1",
        bad=Bad("confiscated-seven-decimals", "CF", set={"/CF_NR_WFFF": 0.00000012}),
    )
    s.rule(
        "required_if",
        {"field": "CF_NR_FK", "when": {"field": "CF_CFLB", "in": ["02"]}},
        ("处罚类别含罚款时应填写罚款金额", "a fine names its amount"),
        bad=Bad("fine-without-amount", "CF", drop=["/CF_NR_FK"]),
    )
    s.rule(
        "date_order",
        {"earlier": "CF_JDRQ", "later": "CF_YXQ"},
        ("处罚有效期不得早于决定日期", "the penalty is not valid before the decision"),
        bad=Bad("valid-before-decision", "CF", set={"/CF_YXQ": "2025-06-01"}),
    )
    s.rule(
        "date_order",
        {"earlier": "XK_YXQZ", "later": "XK_YXQZI", "strict": True},
        ("有效期至应晚于有效期自", "a licence ends after it starts"),
        bad=Bad("ends-before-start", "XK", set={"/XK_YXQZI": "2025-06-01"}),
    )
    s.rule(
        "required_if",
        {"field": "CF_XDR_SHXYM", "when": {"field": "CF_XDR_LB", "in": ["1", "3"]}},
        (
            "法人及非法人组织、个体工商户应填写统一社会信用代码",
            "an organisation or individual business gives its USCC",
        ),
        bad=Bad("company-without-uscc", "CF", drop=["/CF_XDR_SHXYM"]),
    )
    s.rule(
        "required_if",
        {"field": "CF_XDR_ZJHM", "when": {"field": "CF_XDR_LB", "in": ["2"]}},
        ("自然人应填写证件号码", "a natural person gives a certificate number"),
        bad=Bad("person-without-number", "CF", set={"/CF_XDR_LB": "2", "/CF_XDR_MC": "赵六"}),
    )
    s.rule(
        "not_only",
        {"field": "CF_CFLB", "values": ["01"]},
        ("仅受到警告处罚的不予公示", "a penalty of a warning alone is not published"),
        severity="warning",
        origin=STATUTE,
        text=(
            "仅受到警告行政处罚的，不予公示（《市场监督管理行政处罚信息公示规定》第二条）。",
            "A penalty consisting only of a warning is not published (SAMR publication rules, art. 2).",
        ),
        bad=Bad("warning-only", "CF", set={"/CF_CFLB": ["01"]}, drop=["/CF_NR_FK"]),
    )
    # Clauses 5.5 and 5.6 speak of every counterpart, the licensee of an XK record as much as the party of
    # a CF one (appended here so the ids of the rules above stay as published).
    s.rule(
        "required_if",
        {"field": "XK_XDR_SHXYM", "when": {"field": "XK_XDR_LB", "in": ["1", "3"]}},
        (
            "法人及非法人组织、个体工商户应填写统一社会信用代码（行政许可）",
            "an organisation or individual business gives its USCC (licence)",
        ),
        clause="5.5",
        bad=Bad("licensee-without-uscc", "XK", drop=["/XK_XDR_SHXYM"]),
    )
    s.rule(
        "required_if",
        {"field": "XK_XDR_ZJHM", "when": {"field": "XK_XDR_LB", "in": ["2"]}},
        ("自然人应填写证件号码（行政许可）", "a natural person gives a certificate number (licence)"),
        clause="5.6",
        bad=Bad("licensee-person-without-number", "XK", set={"/XK_XDR_LB": "2", "/XK_XDR_MC": "赵六"}),
    )
    return s


def sc15() -> Std:
    """信用风险分类结果."""
    s = Std(
        "SC-15",
        ("信用风险分类结果数据规范", "Credit risk classification results"),
        (
            "规定企业信用风险分类（A 低、B 一般、C 较高、D 高）结果记录（国市监信发〔2022〕6号）。",
            "Enterprise credit risk classes A–D (SAMR 2022 No. 6).",
        ),
    )
    s.extra = {"actDateField": "assessDate"}
    s.fields = [
        f("entityName", "企业名称", "enterprise", req=True, mx=200),
        f("uscc", "统一社会信用代码", "unified social credit code", req=True, mx=18, identifier="uscc"),
        f("creditClass", "信用风险分类", "credit risk class", req=True, codeList="credit_risk_class"),
        f("score", "评分", "score", "number"),
        f("assessDate", "评估日期", "date assessed", "date", req=True),
        f("validUntil", "有效期至", "valid until", "date"),
        f("assessingDepartment", "评估部门", "assessing department", req=True, mx=100),
        f(
            "assessingDepartmentCode",
            "评估部门统一社会信用代码",
            "USCC of the assessing department",
            req=True,
            mx=18,
            identifier="uscc",
        ),
        f("regionCode", "行政区划代码", "region", req=True, mx=6, codeList="region"),
        f("industryCode", "行业分类", "industry", mx=5, codeList="industry"),
        f("previousClass", "上次分类", "previous class", codeList="credit_risk_class"),
        f("changeReason", "调整原因", "reason for the change", mx=500),
    ]
    s.good["default"] = {
        "entityName": "成都某某食品有限公司",
        "uscc": COMPANY,
        "creditClass": "C",
        "score": 612.5,
        "assessDate": "2025-03-31",
        "validUntil": "2025-09-30",
        "assessingDepartment": "四川省市场监督管理局",
        "assessingDepartmentCode": uscc("510000", "MB0A1B2C", "11"),
        "regionCode": "510107",
        "industryCode": "C14",
        "previousClass": "B",
        "changeReason": "新增行政处罚记录",
    }
    s.rule(
        "range",
        {"field": "score", "min": 0, "max": 1000},
        ("评分应在 0 至 1000 之间", "the score lies in [0, 1000]"),
        origin=PROJECT,
        bad=Bad("negative", set={"/score": -1}),
    )
    s.rule(
        "date_order",
        {"earlier": "assessDate", "later": "validUntil", "strict": True},
        ("有效期至应晚于评估日期", "the class is valid after the assessment"),
        bad=Bad("expired-on-issue", set={"/validUntil": "2025-03-01"}),
    )
    s.rule(
        "required_if",
        {"field": "changeReason", "when": {"field": "previousClass", "present": True}},
        ("分类调整应写明原因", "a changed class gives the reason"),
        severity="warning",
        origin=PROJECT,
        bad=Bad("no-reason", drop=["/changeReason"]),
    )
    return s
