"""The 川渝 link's mappings: SC-13 clue transfers and assistance requests ↔ the Chongqing partner layout.

Sichuan and Chongqing exchange 违法线索移送 (illegal-clue transfers), 协查请求 (assistance requests) and
their feedback (domain notes §7). Chongqing's own platform layout is not public; `CQ_FIELDS` is the
project's partner layout (pinyin-initial keys, as such platforms name their columns) and maps one to
one onto SC-13. What leaves Sichuan is masked for the partner destination per SC-20
(``standards.mask(record, "partner", standard="SC-13")``: the party's number stays when the transfer
needs it, phones are shortened to 前3后4 …).

Region codes must be in force on the day of the message, on both sides: 51xxxx (四川) or 50xxxx (重庆).
Chongqing's 2025-11-06 change retired 500105 江北区 and 500112 渝北区 (两江新区 500157 was set up); a
message after that day naming a retired code is refused with a hint (`region_problem`).

Pure: values in, values out; refusals raise `VerificationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

import standards
from gateway.errors import ReasonCode, VerificationError
from standards.codelists import RegionStatus, region, region_status

__all__ = ["ACTION_WORDS", "CQ_FIELDS", "SUCCESSORS", "from_chongqing", "region_problem", "to_chongqing"]

#: SC-13 field -> Chongqing partner layout key.
CQ_FIELDS: Final[Mapping[str, str]] = {
    "clueNo": "xsbh",  # 线索编号
    "action": "czlx",  # 操作类型
    "actionTime": "czsj",  # 操作时间
    "operatorUnitNo": "czdwdm",  # 操作单位代码
    "operatorUnitName": "czdwmc",  # 操作单位名称
    "operatorRegionCode": "czdwqh",  # 操作单位区划
    "clueType": "xslx",  # 线索类型
    "receiverUnitNo": "jsdwdm",  # 接收单位代码
    "receiverUnitName": "jsdwmc",  # 接收单位名称
    "receiverRegionCode": "jsdwqh",  # 接收单位区划
    "partyName": "dsr",  # 当事人
    "partyIdType": "dsrzjlx",  # 当事人证件类型
    "partyIdCode": "dsrzjhm",  # 当事人证件号码
    "illegalFact": "xsnr",  # 线索内容
    "legalBasis": "flyj",  # 法律依据
    "requestedItems": "xcsx",  # 协查事项
    "replyDeadline": "fkqx",  # 反馈期限
    "evidence": "zjcl",  # 证据材料
    "contactName": "lxr",  # 联系人
    "contactPhone": "lxdh",  # 联系电话
    "assistResult": "xcjg",  # 协查结果
    "caseFiled": "sfla",  # 是否立案
    "caseNo": "ajbh",  # 案件编号
    "reason": "yy",  # 结束或退回原因
}
_FROM_CQ: Final = {cq: field for field, cq in CQ_FIELDS.items()}
_EVIDENCE: Final = {"name": "mc", "sha256": "zy"}
#: SC-13 action -> the word the partner platform writes.
ACTION_WORDS: Final[Mapping[str, str]] = {
    "dispatch": "移送", "claim": "认领", "feedback": "反馈", "close": "结束", "return": "退回",
}  # fmt: skip
_ACTIONS: Final = {word: action for action, word in ACTION_WORDS.items()}
_CLUE_TYPES: Final = {"1": "违法线索移送", "2": "协查请求"}
_CLUE_CODES: Final = {word: code for code, word in _CLUE_TYPES.items()}
#: Retired region codes and the codes that took over (Chongqing, 2025-11-06).
SUCCESSORS: Final[Mapping[str, tuple[str, ...]]] = {"500105": ("500157",), "500112": ("500157", "500109")}
_REGION_FIELDS: Final = ("operatorRegionCode", "receiverRegionCode")


def region_problem(code: str, on: date) -> str | None:
    """Why `code` cannot name a unit of the 川渝 exchange on `on` (Chinese / English), or None when it can."""
    if code[:2] not in ("50", "51"):
        return f"{code} 不是四川或重庆的行政区划代码 / {code} is not a Sichuan or Chongqing region code"
    status = region_status(code, on)
    if status == RegionStatus.VALID:
        return None
    if status == RegionStatus.NOT_IN_FORCE:
        row = region(code)
        name = row.name_zh if row else code
        hint = "、".join(f"{c} {r.name_zh}" for c in SUCCESSORS.get(code, ()) if (r := region(c)) is not None)
        then = f"，现为 {hint} / now {', '.join(SUCCESSORS.get(code, ()))}" if hint else " / "
        return f"{code} {name} 在 {on.isoformat()} 已不是有效区划{then} (not in force on {on.isoformat()})"
    return f"{code} 不是已知的行政区划代码 / {code} is not a known region code"


def _check_regions(record: Mapping[str, Any], on: date) -> None:
    for name in _REGION_FIELDS:
        if (code := record.get(name)) and (problem := region_problem(str(code), on)):
            raise VerificationError(ReasonCode.RULE_VIOLATION, f"{name}: {problem}")


def to_chongqing(record: Mapping[str, Any], *, on: date) -> dict[str, Any]:
    """The partner-layout document of an SC-13 record, masked for the partner per SC-20."""
    _check_regions(record, on)
    masked = standards.mask(record, "partner", standard="SC-13")
    unknown = sorted(set(masked) - set(CQ_FIELDS))
    if unknown:
        raise VerificationError(ReasonCode.SCHEMA_INVALID, f"SC-13 has no field(s) {', '.join(unknown)}")
    document: dict[str, Any] = {}
    for field, value in masked.items():
        if field == "action":
            value = ACTION_WORDS[value]  # noqa: PLW2901 - the partner writes words
        elif field == "clueType":
            value = _CLUE_TYPES.get(value, value)  # noqa: PLW2901
        elif field == "evidence":
            value = [{_EVIDENCE[k]: v for k, v in item.items() if k in _EVIDENCE} for item in value]  # noqa: PLW2901
        document[CQ_FIELDS[field]] = value
    return document


def from_chongqing(document: Mapping[str, Any], *, on: date) -> dict[str, Any]:
    """The SC-13 record of a partner-layout document (a claim, feedback or transfer from Chongqing)."""
    unknown = sorted(set(document) - set(_FROM_CQ))
    if unknown:
        raise VerificationError(
            ReasonCode.MALFORMED, f"川渝报文含未定义字段 / unknown partner fields: {unknown}"
        )
    record: dict[str, Any] = {}
    for key, value in document.items():
        field = _FROM_CQ[key]
        if field == "action":
            if value not in _ACTIONS:
                raise VerificationError(ReasonCode.MALFORMED, f"czlx {value!r} is not an action")
            value = _ACTIONS[value]  # noqa: PLW2901 - back to SC-13's codes
        elif field == "clueType":
            value = _CLUE_CODES.get(value, value)  # noqa: PLW2901
        elif field == "evidence":
            back = {v: k for k, v in _EVIDENCE.items()}
            value = [{back[k]: v for k, v in item.items() if k in back} for item in value]  # noqa: PLW2901
        record[field] = value
    _check_regions(record, on)
    return record
