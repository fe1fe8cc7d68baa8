"""SC-16 … SC-20: codes, interface, quality, security and masking; their bad fixtures ride on record standards."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from standards.files import FILE_RULES
from standards.payload import parse_rule_messages
from standards_src.common import (
    CITIZEN_ID_CERTS,
    PERSONAL_CERTS,
    PROJECT,
    STATUTE,
    Bad,
    Std,
    citizen_id,
    uscc,
)

NATIONAL_STD = "national-layout"


def sc16() -> Std:
    """基础代码."""
    s = Std(
        "SC-16",
        ("基础代码规范", "Basic codes"),
        (
            "规定各记录标准共用的标识与代码：统一社会信用代码、公民身份号码、组织机构代码、电话号码、行政区划、行业分类、证件类型及其他代码表。",
            "Identifiers and code lists shared by the record standards: USCC, citizen ID, organisation code, phone "
            "numbers, regions, industries, certificate types and the other code lists.",
        ),
        kind="codes",
        origin=STATUTE,
    )
    bad_uscc = uscc("510100", "MB1F2E3X", "11")[:-1] + "0"
    s.rule(
        "identifier",
        {"type": "uscc"},
        ("统一社会信用代码不符合 GB 32100-2015", "the USCC fails GB 32100-2015"),
        clause="4.1",
        bad=Bad("check-char", options={"standard": "SC-05"}, set={"/implementInstitutionCode": bad_uscc}),
        title=("统一社会信用代码", "unified social credit code"),
    )
    s.rule(
        "identifier",
        {"type": "citizen_id"},
        ("公民身份号码不符合 GB 11643-1999", "the citizen ID fails GB 11643-1999"),
        clause="4.2",
        bad=Bad(
            "check-char",
            "complaint",
            options={"standard": "SC-11"},
            set={"/complainantIdNumber": citizen_id("510104", "19850312", "216")[:-1] + "0"},
        ),
    )
    s.rule(
        "identifier",
        {"type": "org_code"},
        ("组织机构代码不符合 GB 11714-1997", "the organisation code fails GB 11714-1997"),
        clause="4.3",
        bad=Bad("check-char", "CF", options={"standard": "SC-10"}, set={"/CF_XDR_ZZJG": "MA6CX0T1-0"}),
    )
    s.rule(
        "identifier",
        {"type": "phone"},
        ("电话号码格式不正确", "the phone number is malformed"),
        clause="4.4",
        bad=Bad("short", "complaint", options={"standard": "SC-11"}, set={"/complainantPhone": "12345"}),
    )
    s.rule(
        "certificate",
        {"checks": {"001": "uscc", **dict.fromkeys(CITIZEN_ID_CERTS, "citizen_id")}},
        (
            "证件号码不符合其证件类型的编码规则",
            "the certificate number fails the rules of its certificate type",
        ),
        clause="4.5",
        bad=[
            Bad(
                "uscc-check-char",
                options={"standard": "SC-06"},
                set={"/counterpartIdCode": uscc("510107", "MA6CX0T1", "91")[:-1] + "1"},
            ),
            Bad(
                "id-birth-date",
                "dispatch",
                options={"standard": "SC-13"},
                set={"/partyIdCode": "500103198813450310"},
            ),
        ],
    )
    s.rule(
        "code_list",
        {},
        ("代码不在代码表中", "the code is not in its code list"),
        clause="4.6",
        bad=Bad("check-form", options={"standard": "SC-05"}, set={"/checkForm": "7"}),
    )
    s.rule(
        "region",
        {},
        (
            "行政区划代码不存在或在业务发生日无效",
            "the region code does not exist or is not in force on the day of the act",
        ),
        clause="4.7",
        bad=[
            Bad("unknown", options={"standard": "SC-05"}, set={"/regionCode": "519999"}),
            Bad("retired", "dispatch", options={"standard": "SC-13"}, set={"/receiverRegionCode": "510122"}),
        ],
    )
    s.rule(
        "industry",
        {},
        ("行业代码不在 GB/T 4754-2017 中", "the industry code is not in GB/T 4754-2017"),
        clause="4.8",
        bad=Bad(
            "unknown", "dispatch", options={"standard": "SC-14"}, set={"/taskInfo/superviseObjectNo": "Z99"}
        ),
    )
    texts = [
        (
            "4.1",
            ("统一社会信用代码", "unified social credit code"),
            (
                "统一社会信用代码为 18 位，字符集不含 I、O、S、V、Z，第 18 位校验码按 GB 32100-2015 以模 31 计算；第 9–17 位主体标识码宜符合 GB 11714 校验（不符时给出警告）。",
                "18 characters without I, O, S, V, Z; character 18 is the mod-31 check of GB 32100-2015; characters 9–17 "
                "should pass the GB 11714 check (a warning otherwise).",
            ),
        ),
        (
            "4.2",
            ("公民身份号码", "citizen identity number"),
            (
                "公民身份号码为 18 位，含出生日期，第 18 位按 ISO 7064 MOD 11-2 校验；15 位旧号码给出警告；出生日期不得晚于业务发生日。",
                "18 characters with the birth date and an ISO 7064 MOD 11-2 check character; legacy 15-digit numbers get a "
                "warning; the birth date is not after the day of the act.",
            ),
        ),
        (
            "4.3",
            ("组织机构代码", "organisation code"),
            (
                "组织机构代码为 8 位本体代码加 1 位校验码，按 GB 11714-1997 校验。",
                "8 characters plus a check character per GB 11714-1997.",
            ),
        ),
        (
            "4.4",
            ("电话号码", "telephone numbers"),
            (
                "电话号码为 11 位手机号或带区号的固定电话。",
                "An 11-digit mobile number or a landline with its area code.",
            ),
        ),
        (
            "4.5",
            ("按证件类型校验证件号码", "numbers checked by certificate type"),
            (
                "证件类型为统一社会信用代码（001）时号码按 4.1 校验，为居民身份证（111、112）时按 4.2 校验。",
                "With certificate type 001 the number is checked per 4.1, with 111/112 per 4.2.",
            ),
        ),
        (
            "4.6",
            ("代码表", "code lists"),
            (
                "引用代码表的数据项只能取代码表中的代码；代码表随本标准发布，注明来源与确定程度。",
                "Coded fields take codes from their code list; the lists ship with this standard with source and certainty.",
            ),
        ),
        (
            "4.7",
            ("行政区划代码", "administrative division codes"),
            (
                "行政区划代码按 GB/T 2260 取 6 位数字，须为全国代码表（1980 年以来的现行及已撤销代码）中的代码，"
                "并在业务发生日有效（含重庆 2025 年调整）；四川、重庆的变更精确到日，其他省份按年度代码表精确到年。",
                "Six digits per GB/T 2260, a code of the national table (current and retired codes since 1980), in "
                "force on the day of the act (including Chongqing's 2025 changes); changes in 四川 and 重庆 are known "
                "to the day, elsewhere to the year of the yearly lists.",
            ),
        ),
        (
            "4.8",
            ("行业分类", "industry classification"),
            (
                "行业代码采用 GB/T 4754-2017 的门类或大类（可带门类字母）。",
                "GB/T 4754-2017 sections or divisions (optionally with the section letter).",
            ),
        ),
    ]
    for cid, title, text in texts:
        s.clause(cid, title, text)
    return s


def _gbk(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("gb18030")


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode(encoding)


def csv_table(std: Std, record: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The CSV header (Chinese labels; 委托部门 stands in for 受委托部门) and the row of a flat record."""
    header, row = [], []
    for field in std.fields:
        name = field["name"]
        if name not in record:
            continue
        label = field["labelZh"]
        header.append("委托部门" if label == "受委托部门" else label)
        value = record[name]
        row.append(
            "；".join(value)
            if isinstance(value, list)
            else ("是" if value is True else "否" if value is False else str(value))
        )
    return header, row


def sc17(sc05: Std, sc06: Std) -> Std:
    """数据接入与交换接口."""
    s = Std(
        "SC-17",
        ("数据接入与交换接口规范", "Data access and exchange interface"),
        (
            "规定记录的编码与 JSON 要求、文件交换格式，以及信封、签名、回执、错误代码等接口约定（由网关执行）。",
            "Encoding and JSON rules of records, file formats, and the envelope, signature, receipt and error-code "
            "conventions the gateway enforces.",
        ),
        kind="interface",
        origin=PROJECT,
    )
    good = json.dumps(sc06.good["default"], ensure_ascii=False)
    raw = {
        "SC-17.R001": [Bad("gbk", raw=_gbk(sc06.good["default"]), options={"standard": "SC-06"})],
        "SC-17.R002": [Bad("truncated", raw=good[: len(good) // 2].encode(), options={"standard": "SC-06"})],
        "SC-17.R003": [
            Bad(
                "duplicate-key",
                raw=good.replace(
                    '"fineAmount": 50000.0', '"fineAmount": 50000.0, "fineAmount": 5.0'
                ).encode(),
                options={"standard": "SC-06"},
            )
        ],
        "SC-17.R004": [
            Bad(
                "nan",
                raw=good.replace('"fineAmount": 50000.0', '"fineAmount": NaN').encode(),
                options={"standard": "SC-06"},
            )
        ],
        "SC-17.R005": [
            Bad(
                "deep",
                raw=good.replace('"caseSource": "1"', '"caseSource": ' + "[" * 40 + "]" * 40).encode(),
                options={"standard": "SC-06"},
            )
        ],
        "SC-17.R006": [Bad("oversize", raw=good.encode(), options={"standard": "SC-06", "maxBytes": 512})],
        "SC-17.R007": [
            Bad(
                "huge-number",
                raw=good.replace('"fineAmount": 50000.0', '"fineAmount": ' + "9" * 30).encode(),
                options={"standard": "SC-06"},
            ),
            Bad(
                "more-precise-than-a-double",
                raw=good.replace('"fineAmount": 50000.0', '"fineAmount": 50000.00000000000001').encode(),
                options={"standard": "SC-06"},
            ),
        ],
        "SC-17.R008": [Bad("bom", raw=b"\xef\xbb\xbf" + good.encode(), options={"standard": "SC-06"})],
        "SC-17.R013": [
            Bad("null", raw=b"null\n", options={"standard": "SC-06"}),
            Bad("array", raw=f"[{good}]".encode(), options={"standard": "SC-06"}),
        ],
        "SC-17.R014": [
            Bad(
                "lone-surrogate",
                raw=good.replace('"punishActionName": "', '"punishActionName": "\\ud800', 1).encode(),
                options={"standard": "SC-06"},
            ),
            Bad(
                "lone-surrogate-in-key",
                raw=good.replace('"caseSource"', '"caseSource\\udfff"', 1).encode(),
                options={"standard": "SC-06"},
            ),
        ],
    }
    header, row = csv_table(sc05, sc05.good["default"])
    raw["SC-17.R009"] = [
        Bad("missing-cells", raw=_csv([header, row, row[:-3]]), suffix=".csv", options={"standard": "SC-05"})
    ]
    raw["SC-17.R010"] = [
        Bad(
            "extra-cells",
            raw=_csv([header, row, [*row, "多余", "多余"]]),
            suffix=".csv",
            options={"standard": "SC-05"},
        )
    ]
    raw["SC-17.R011"] = [
        Bad(
            "unknown-header",
            raw=_csv([[*header, "备注栏"], [*row, "无"]]),
            suffix=".csv",
            options={"standard": "SC-05"},
        )
    ]
    raw["SC-17.R012"] = [
        Bad("gb18030", raw=_csv([header, row], "gb18030"), suffix=".csv", options={"standard": "SC-05"})
    ]
    table = {**parse_rule_messages(), **FILE_RULES}
    for rid in sorted(table):
        clause, severity, zh, en = table[rid]
        s.rules.append(
            {
                "id": rid,
                "clause": clause,
                "severity": severity,
                "kind": "decode" if rid in parse_rule_messages() else "file",
                "params": {},
                "messageZh": zh,
                "messageEn": en,
            }
        )
        s.bad[rid] = raw[rid]
    clauses = [
        (
            "4.1",
            ("字符编码", "character encoding"),
            (
                "记录以 UTF-8 编码，不带字节顺序标记；字符串（含键名）不得含孤立的 UTF-16 代理项（如 \\ud800 转义），"
                "此类字符无法以 UTF-8 存储或转发。",
                "Records are UTF-8 without a byte order mark; no string (key names included) holds a lone UTF-16 "
                "surrogate (such as the escape \\ud800), which cannot be stored or passed on as UTF-8.",
            ),
        ),
        (
            "4.2",
            ("JSON 语法", "JSON syntax"),
            (
                "记录为符合 RFC 8259 的 JSON 对象（null、数组、字符串、数值不是记录），不得含 NaN、Infinity。",
                "A record is an RFC 8259 JSON object (null, an array, a string or a number is not a record) "
                "without NaN or Infinity.",
            ),
        ),
        (
            "4.3",
            ("键唯一", "unique keys"),
            ("同一 JSON 对象中的键不得重复。", "A JSON object does not repeat a key."),
        ),
        (
            "4.4",
            ("大小与嵌套", "size and nesting"),
            (
                "单条记录不超过 1 MiB，嵌套不超过 32 层。",
                "A record is at most 1 MiB and nests at most 32 levels.",
            ),
        ),
        (
            "4.5",
            ("数值范围", "numbers"),
            (
                "整数绝对值不超过 2^53−1，数值须为有限数，且所写精度不超过 IEEE 754 双精度浮点数所能保持的精度"
                "（如 50000.00000000000001 不可接受，它解码后为 50000.0）（I-JSON，RFC 7493）。",
                "Integers stay within ±(2^53−1), numbers are finite, and no number is written more precisely than an "
                "IEEE 754 double keeps (50000.00000000000001 is refused: it decodes to 50000.0) (I-JSON, RFC 7493).",
            ),
        ),
        (
            "5.1",
            ("CSV 表头", "CSV headers"),
            (
                "CSV 文件首行为表头，使用字段表的中文名称、英文名称或登记的别名（如“委托部门”即“受委托部门”）。",
                "The first CSV line is the header: Chinese labels, field names or registered "
                "aliases (委托部门 means 受委托部门).",
            ),
        ),
        (
            "5.2",
            ("CSV 行", "CSV rows"),
            (
                "每行的列数与表头一致；多值数据项以“；”分隔，布尔值写作“是/否”。",
                "Every row has as many cells as the header; lists are separated by '；', booleans are 是/否.",
            ),
        ),
        (
            "5.3",
            ("文件编码", "file encoding"),
            (
                "交换文件应为 UTF-8；GB18030（GBK）导出文件可被读取，但给出警告。",
                "Files are UTF-8; GB18030 (GBK) exports are read with a warning.",
            ),
        ),
    ]
    for cid, title, text in clauses:
        s.clause(cid, title, text)
    gateway = [
        (
            "6.1",
            ("信封与签名", "envelope and signatures"),
            (
                "报文以 DSSE 形式的信封承载，签名覆盖 PAE(type, body)；密钥由信任配置按 key_id 确定，算法取自信任配置。",
                "Messages travel in a DSSE-shaped envelope signed over PAE(type, body); the key comes from the trust "
                "configuration by key_id, and so does the algorithm.",
            ),
            [
                "MALFORMED",
                "TOO_LARGE",
                "PAYLOAD_TYPE_UNKNOWN",
                "SIGNATURE_MISSING",
                "SIGNATURE_INVALID",
                "KEY_UNKNOWN",
                "SENDER_KEY_MISMATCH",
            ],
        ),
        (
            "6.2",
            ("标准与版本", "standard and version"),
            (
                "报文写明所依据的标准编号与版本，版本应在有效期内。",
                "A message names its standard and version; the version is in force.",
            ),
            ["STANDARD_UNKNOWN", "VERSION_NOT_IN_FORCE"],
        ),
        (
            "6.3",
            ("时效与重放", "freshness and replay"),
            (
                "报文带签发与过期时间；同一发送方的报文标识不得重复使用，重复提交返回原回执。",
                "Messages carry issue and expiry times; a sender never reuses a message id; a duplicate gets the original receipt.",
            ),
            ["EXPIRED", "NOT_YET_VALID", "REPLAYED"],
        ),
        (
            "6.4",
            ("寻址与访问控制", "addressing and access control"),
            (
                "报文接收方须为本节点；发送方、标准与接收方须经访问控制列表允许（默认拒绝）。",
                "The recipient is this node; sender × standard × recipient is allowed by the ACL (deny by default).",
            ),
            ["NOT_ADDRESSED_TO_US", "SENDER_UNKNOWN", "ACL_DENIED", "IDENTITY_MISMATCH"],
        ),
        (
            "6.5",
            ("内容校验", "content validation"),
            (
                "载荷按所声明的标准校验，结构错误与业务规则错误分别以不同原因代码拒收，并在回执中列出发现项。",
                "The payload is validated against its standard; structure and rule errors are refused with distinct reason "
                "codes and listed in the receipt.",
            ),
            ["SCHEMA_INVALID", "RULE_VIOLATION"],
        ),
        (
            "6.6",
            ("回执", "receipts"),
            (
                "每个收到的报文都得到签名回执（接收、拒收或重复），回执可用信任配置中的公钥离线验证。",
                "Every message received gets a signed receipt (accepted, rejected or duplicate), verifiable offline.",
            ),
            ["RECEIPT_INVALID"],
        ),
        (
            "6.7",
            ("错误代码", "error codes"),
            (
                "拒绝一律给出原因代码，并映射到 gRPC 与 HTTP 状态；传输与负载类错误与内容类错误分开。",
                "Every refusal names a reason code mapped to gRPC and HTTP statuses; transport and load errors are kept "
                "apart from content errors.",
            ),
            ["RATE_LIMITED", "UNAVAILABLE", "INTERNAL"],
        ),
    ]
    for cid, title, text, codes in gateway:
        s.clause(cid, title, text, enforcedBy=codes)
    s.clause(
        "6.8",
        ("操作类型与批次号", "operations and batch ids"),
        (
            "记录携带业务主键、操作类型 i/u/d（删除为逻辑删除）与批次号（8 位日期 + 5 位序号）；接收方按业务主键“最后写入为准”。",
            "Records carry a business key, an operation i/u/d (deletes are soft) and a batch id (8-digit date + 5-digit "
            "run); receivers apply last-write-wins per business key.",
        ),
        attestation={
            "reasonZh": "批次号与“最后写入为准”的合并由部门适配器与接收系统实现，需在接入认证时人工核对其导出与回放记录。",
            "reasonEn": "Batch ids and last-write-wins merging happen in department adapters and receiving "
            "systems; a certifier checks their exports and replays by hand.",
        },
    )
    return s


def sc18() -> Std:
    """数据质量."""
    s = Std(
        "SC-18",
        ("数据质量规范", "Data quality"),
        (
            "规定适用于全部记录标准的质量要求：完整性、及时性、一致性。及时性以工作日计（国务院办公厅年度放假安排）。",
            "Quality rules joined to every record standard: completeness, timeliness, consistency; timeliness counts "
            "working days (the State Council's yearly holiday schedule).",
        ),
        kind="quality",
        origin=PROJECT,
    )
    s.rule(
        "timeliness",
        {"workingDays": {"default": 10, "SC-06": 7, "SC-10": 7}},
        ("记录未在规定的工作日内报送", "the record was not reported within the working days allowed"),
        severity="warning",
        title=("报送及时性", "timeliness"),
        text=(
            "记录应当自业务发生（检查、决定、办结等）之日起规定的工作日内报送：行政处罚与双公示 7 个工作日，其他 10 个工作日；未写报送时间的，以校验之日计。"
            "迟报的记录照常接收（数据不因迟报而丢失），但给出警告。",
            "Records are reported within the working days allowed after the act (inspection, decision, closing): 7 "
            "for penalties and publicity records, 10 otherwise; without a report time the day of validation counts. "
            "Late records are still accepted (no data is lost for being late), with a warning.",
        ),
        bad=[
            Bad(
                "late-inspection",
                options={"standard": "SC-05"},
                set={"/checkDate": "2025-06-03", "/reportTime": "2025-06-27 10:00:00"},
            ),
            Bad("late-penalty", options={"standard": "SC-06"}, set={"/reportTime": "2025-06-27 10:00:00"}),
        ],
    )
    s.rule(
        "not_after_validation_day",
        {"graceDays": 1},
        ("报送时间晚于校验之日", "the report time is after the day of validation"),
        title=("报送时间", "time of reporting"),
        text=(
            "报送时间不得晚于接收方校验记录之日；报送时间为北京时间，校验之日可能按协调世界时计，故允许 1 日偏差。",
            "The report time is not after the day the record is validated; report times are Beijing time while "
            "the validating node may count days in UTC, so one day of slack is allowed.",
        ),
        bad=Bad("future", options={"standard": "SC-05"}, set={"/reportTime": "2025-07-05 10:00:00"}),
    )
    s.clause(
        "5.3",
        ("完整性", "completeness"),
        (
            "记录应包含字段表规定的全部必填数据项。",
            "Records carry every required field of their field table.",
        ),
        coveredBy=[f"SC-{n:02d}.S001" for n in range(1, 16)],
    )
    s.clause(
        "5.4",
        ("一致性", "consistency"),
        (
            "相关日期应先后有序（立案、决定、结案、报送），编码应相互一致（检查实施清单编码与实施机构等）。",
            "Related dates are in order (filing, decision, closing, reporting) and codes agree with each other.",
        ),
        coveredBy=[
            "SC-05.R003",
            "SC-05.R004",
            "SC-06.R002",
            "SC-06.R003",
            "SC-06.R004",
            "SC-07.R004",
            "SC-08.R002",
        ],
    )
    s.clause(
        "5.5",
        ("数据更正", "corrections"),
        (
            "发现已报送记录有误的，应以更新（u）或删除（d）操作更正，不得另行新增重复记录。",
            "A wrong record is corrected with an update (u) or delete (d), never with a second insert.",
        ),
        attestation={
            "reasonZh": "是否以更新而非重复新增更正，需比对同一业务主键的历史报送，由审计人员在交换日志上核查。",
            "reasonEn": "Whether corrections use updates rather than duplicate inserts needs the history of a "
            "business key; an auditor checks it on the exchange log.",
        },
    )
    return s


def sc19() -> Std:
    """密码应用."""
    s = Std(
        "SC-19",
        ("密码应用规范", "Cryptography"),
        (
            "规定签名、摘要、字段加密与传输安全的算法与密钥管理要求（GB/T 39786）。",
            "Algorithms and key management for signatures, digests, field encryption and transport (GB/T 39786).",
        ),
        kind="security",
        origin=PROJECT,
    )
    s.clause(
        "4.1",
        ("签名算法", "signature algorithms"),
        (
            "签名采用 Ed25519、ECDSA P-256/SHA-256 或 SM2-with-SM3；算法由信任配置中登记的密钥确定，不得由报文自行声明。",
            "Signatures use Ed25519, ECDSA P-256/SHA-256 or SM2-with-SM3; the algorithm is the one registered for the key, "
            "never one the message declares.",
        ),
        enforcedBy=["ALGORITHM_MISMATCH", "SIGNATURE_INVALID"],
    )
    s.clause(
        "4.2",
        ("密钥生命周期", "key lifecycle"),
        (
            "密钥登记有效期与吊销标志；过期或吊销的密钥签名一律拒收。",
            "Keys have validity periods and a revocation flag; "
            "signatures by expired or revoked keys are refused.",
        ),
        enforcedBy=["KEY_NOT_VALID", "KEY_REVOKED", "KEY_UNKNOWN"],
    )
    s.clause(
        "4.3",
        ("信任配置", "trust configuration"),
        (
            "信任配置须由上一版本与本版本各自门限数量的管理员签名，版本不得回退，过期不得使用。",
            "A trust configuration is signed by a threshold of the previous and its own admins; no rollback, no expired use.",
        ),
        enforcedBy=["TRUST_INVALID", "TRUST_THRESHOLD_NOT_MET", "TRUST_ROLLBACK", "TRUST_EXPIRED"],
    )
    s.clause(
        "4.4",
        ("传输安全", "transport security"),
        (
            "节点间采用双向 TLS，传输证书身份须与报文发送方一致。",
            "Nodes use mutual TLS; the certificate's node matches the sender.",
        ),
        enforcedBy=["IDENTITY_MISMATCH"],
    )
    s.clause(
        "4.5",
        ("摘要", "digests"),
        (
            "密钥标识、报文摘要与日志采用 SHA-256；SM2 签名内部按 GB/T 32918.2 以 SM3 计算 Z_A 与 e。",
            "Key ids, envelope digests and the log use SHA-256; SM2 signatures compute Z_A and e with SM3 "
            "(GB/T 32918.2).",
        ),
        attestation={
            "reasonZh": "摘要算法的选用体现在实现与配置中，由密码应用安全性评估人员核查。",
            "reasonEn": "The digest choice lives in implementation and configuration; a cryptography assessor checks it.",
        },
    )
    s.clause(
        "4.6",
        ("字段加密与密钥保管", "field encryption and key custody"),
        (
            "敏感字段在存储时以 SM4-GCM 加密；私钥保存在密码模块或受保护的密钥文件中，不得随报文传输。",
            "Sensitive fields are stored SM4-GCM encrypted; private keys stay in a cryptographic module or protected key "
            "files and never travel in messages.",
        ),
        attestation={
            "reasonZh": "存储加密与私钥保管无法从交换报文中观察，须由部门提供密评报告并由认证人员确认；"
            "jgx 的密钥文件是开发用软件密钥库；节点签名密钥可保存在 PKCS#11 密码模块中（jgx.toml 的 [keys.pkcs11]，"
            "见运维指南第 8 节）；jgx 未实现 GM/T 0018 SDF 接口，密码机须提供 PKCS#11 模块。",
            "reasonEn": "Storage encryption and key custody cannot be seen in exchanged messages; the department "
            "provides its assessment report and a certifier confirms it. jgx's key files are a software key "
            "store for development; a node's signing key can live in a PKCS#11 cryptographic module "
            "([keys.pkcs11] in jgx.toml, operations guide §8); jgx does not implement the GM/T 0018 SDF "
            "interface, so a 密码机 must offer a PKCS#11 module.",
        },
    )
    s.clause(
        "4.7",
        ("国密签名配置", "国密 signature profile"),
        (
            "国密联邦中节点密钥、信任配置管理员密钥、回执、检查点与认证证书均采用 SM2-with-SM3 签名（GB/T 32918.2），"
            "签名按 GB/T 35276 以 DER 编码，签名者标识默认为 1234567812345678，信任配置可另行登记。",
            "In a 国密 federation node keys, trust-admin keys, receipts, checkpoints and certificates are "
            "SM2-with-SM3 signatures (GB/T 32918.2), DER-encoded per GB/T 35276, with signer id 1234567812345678 "
            "unless the trust configuration records another.",
        ),
        enforcedBy=["ALGORITHM_MISMATCH", "SIGNATURE_INVALID"],
    )
    s.clause(
        "4.8",
        ("国密通道", "国密 transport channel"),
        (
            "gRPC 的 TLS 不支持 TLCP（GB/T 38636）与 RFC 8998 密码套件；要求通道国密化的部署须在节点前部署 TLCP 网关。",
            "gRPC's TLS supports neither TLCP (GB/T 38636) nor the RFC 8998 suites; a deployment whose channel must "
            "use 国密 puts a TLCP gateway in front of the node.",
        ),
        attestation={
            "reasonZh": "通道协议由部署决定（TLCP 网关或 TLS 1.3），须由密码应用安全性评估人员核查。",
            "reasonEn": "The channel protocol is a deployment choice (TLCP gateway or TLS 1.3); a cryptography "
            "assessor checks it.",
        },
    )
    return s


def sc20() -> Std:
    """个人信息保护与脱敏."""
    s = Std(
        "SC-20",
        ("个人信息保护与脱敏规范", "Personal information protection and masking"),
        (
            "规定记录中个人信息的分类，以及向内部、国家、川渝协作方与社会公示等不同类别接收方提供时的脱敏要求（《个人信息保护法》）。",
            "Classes of personal information in records and how they are masked for internal, national, 川渝 partner and "
            "public destinations (Personal Information Protection Law).",
        ),
        kind="security",
        origin=PROJECT,
    )
    personal = {"whenIn": PERSONAL_CERTS}
    s.extra = {
        "destinations": {
            "internal": ["省内政府部门间交换", "exchange between provincial government departments"],
            "national": ["报送国家“互联网+监管”系统", "reporting to the national system"],
            "partner": ["川渝协作方", "the Chongqing partner platform"],
            "public": ["社会公示", "publication to the public"],
        },
        "fieldClasses": {
            "counterpartIdCode": {"class": "idNumber", "whenField": "counterpartIdType", **personal},
            "partyIdCode": {"class": "idNumber", "whenField": "partyIdType", **personal},
            "riskObjectCertCode": {"class": "idNumber", "whenField": "riskObjectCertType", **personal},
            "credentialsValue": {"class": "idNumber", "whenField": "credentialsType", **personal},
            "CF_XDR_ZJHM": {"class": "idNumber", "whenField": "CF_XDR_ZJLX", **personal},
            "XK_XDR_ZJHM": {"class": "idNumber", "whenField": "XK_XDR_ZJLX", **personal},
            "CF_FR_ZJHM": {"class": "idNumber"},
            "XK_FR_SFZH": {"class": "idNumber"},
            "complainantIdNumber": {"class": "idNumber"},
            "legalRepIdNumber": {"class": "idNumber"},
            "idNumber": {"class": "idNumber"},
            "complainantPhone": {"class": "phone"},
            "contactPhone": {"class": "phone"},
            "complainantName": {"class": "otherPersonName"},
            "complainantAddress": {"class": "homeAddress"},
            "bankAccount": {"class": "bankAccount"},
        },
        "profiles": {
            "internal": {
                "idNumber": "keep",
                "phone": "keep",
                "otherPersonName": "keep",
                "homeAddress": "keep",
                "bankAccount": "keep",
            },
            "national": {
                "idNumber": "keep",
                "phone": "keep",
                "otherPersonName": "keep",
                "homeAddress": "keep",
                "bankAccount": "drop",
            },
            "partner": {
                "idNumber": "mask_id",
                "phone": "mask_phone",
                "otherPersonName": "mask_name",
                "homeAddress": "district",
                "bankAccount": "drop",
            },
            "public": {
                "idNumber": "drop",
                "phone": "drop",
                "otherPersonName": "drop",
                "homeAddress": "drop",
                "bankAccount": "drop",
            },
        },
        "overrides": {"SC-13": {"partner": {"idNumber": "keep"}}},
    }
    s.clause(
        "4.1",
        ("个人信息的分类", "classes of personal information"),
        (
            "身份证件号码（自然人）、电话号码、当事人以外自然人的姓名、住址、银行账号为个人信息；证件号码仅在证件类型为个人证件时视为个人信息。",
            "Identity numbers of natural persons, phone numbers, names of persons other than the party, home addresses "
            "and bank accounts are personal information; a certificate number counts only when its type is a personal one.",
        ),
        coveredBy=["SC-20.R001", "SC-20.R002"],
    )
    s.rule(
        "masked",
        {"actions": ["drop"]},
        ("发往该类接收方时此个人信息须删除", "this personal information must be removed for the destination"),
        title=("删除", "removal"),
        text=(
            "向社会公示的记录不得含身份证件号码、电话、当事人以外自然人的姓名、住址和银行账号；报送国家系统与川渝协作方的记录不得含银行账号"
            "（《行政处罚结果信息网上公示暂行办法》，《个人信息保护法》第六条）。发往某类接收方时依本条删除的数据项，"
            "即使所属标准将其列为必填，对该类接收方也不再必填：按本标准脱敏后的记录对其接收方总是合格的。",
            "Public records carry no identity numbers, phones, names of other persons, addresses or bank accounts; "
            "records for the national system and the partner carry no bank accounts (PIPL art. 6). A field this "
            "clause removes for a destination is not required for that destination even where its standard requires "
            "it: a record masked per this standard always passes for its destination.",
        ),
        bad=[
            Bad("public-complaint", "complaint", options={"standard": "SC-11", "destination": "public"}),
            Bad(
                "public-person-penalty",
                options={"standard": "SC-06", "destination": "public"},
                set={
                    "/counterpartName": "赵六",
                    "/counterpartCategory": "2",
                    "/counterpartIdType": "111",
                    "/counterpartIdCode": citizen_id(),
                },
            ),
        ],
    )
    s.rule(
        "masked",
        {"actions": ["mask_id", "mask_phone", "mask_name", "district"]},
        ("发往该类接收方时此个人信息须脱敏", "this personal information must be masked for the destination"),
        title=("脱敏", "masking"),
        text=(
            "向川渝协作方提供的记录，身份证件号码保留前 6 位与后 4 位，电话保留前 3 位与后 4 位，他人姓名仅保留姓氏，住址仅保留到区县；"
            "线索移送（SC-13）因协查需要可保留当事人证件号码。",
            "For the partner: identity numbers keep the first 6 and last 4 characters, phones the first 3 and last 4 "
            "digits, other persons' names the family name, addresses the district; clue transfers (SC-13) may keep the "
            "party's number for the investigation.",
        ),
        bad=Bad("partner-complaint", "complaint", options={"standard": "SC-11", "destination": "partner"}),
    )
    s.clause(
        "6",
        ("公示范围", "scope of publication"),
        (
            "仅受到警告处罚的行政处罚信息不予公示（《市场监督管理行政处罚信息公示规定》第二条）。",
            "Penalties consisting only of a warning are not published (SAMR publication rules, art. 2).",
        ),
        coveredBy=["SC-10.R009"],
    )
    s.clause(
        "7",
        ("存储与访问", "storage and access"),
        (
            "个人信息在存储时加密，访问留痕，仅限履行职责所必需的人员访问（《个人信息保护法》第三十四条、第五十一条）。",
            "Personal information is encrypted at rest, access is logged and limited to those whose duties need it "
            "(PIPL arts. 34, 51).",
        ),
        attestation={
            "reasonZh": "存储加密与访问控制发生在接收系统内部，交换报文无法体现，须由数据安全管理人员出具说明并经认证人员核查。",
            "reasonEn": "Encryption at rest and access control happen inside receiving systems and cannot be "
            "seen in messages; the data-security officer attests and a certifier checks.",
        },
    )
    return s


__all__ = ["NATIONAL_STD", "csv_table", "sc16", "sc17", "sc18", "sc19", "sc20", "uscc"]
