"""The national layouts (domain notes §2.1, §2.10) to and from the standard records SC-12 / SC-14.

    superviseData.taskInfo + superviseObjects[…basisData.riskWarning]  ──task_record──►  SC-14 dispatch
    riskWarning                                                          ──clue_record──►  SC-12 dispatch
    SC-14 / SC-12 claim · feedback · return                          ──feedback_document──► supervisionProcess
                                                                                            (taskDetails, feedbackUnitInfo)
    any record reported upward                                           ──front_row──►  cd_id, cd_time, cd_source,
                                                                                         cd_batch, cd_operation + fields

Pure: the time is passed in; no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from adapters.sdk import Record
from gateway.pb.jgx.exchange.v1 import exchange_pb2

__all__ = [
    "CD_OPERATION",
    "NATIONAL_UNIT",
    "clue_record",
    "close_record",
    "feedback_document",
    "front_row",
    "task_record",
]

_CHINA: Final = timezone(timedelta(hours=8))
VERSION: Final = "1.0.0"
#: The national system as an acting unit (its own code in the national layout).
NATIONAL_UNIT: Final = {"unitNo": "11100000MB0000000X", "unitName": "国家互联网+监管系统"}
#: Message.operation → the national cd_operation flag.
CD_OPERATION: Final = {
    exchange_pb2.OPERATION_INSERT: "i",
    exchange_pb2.OPERATION_UPDATE: "u",
    exchange_pb2.OPERATION_DELETE: "d",
}
_TASK_INFO: Final = (
    "taskName", "taskStartTime", "taskEndTime", "initiateUnitNo", "initiateUnitName", "initiateUnitType",
    "unionDeptNo", "unionDeptName", "unionRegionNo", "supervisionMatterCode", "superviseObjectNo",
    "inspectContent", "inspectClaim", "remark",
)  # fmt: skip
_OBJECT: Final = (
    "superviseObjectType", "superviseObjectName", "superviseObjectCode", "credentialsType", "credentialsValue",
    "basisData",
)  # fmt: skip
_CLUE: Final = (
    "fxyjId", "title", "domain", "level", "province", "riskObject", "riskObjectCertType", "riskObjectCertCode",
    "source", "ruleId", "createdAt", "props", "supervisionMatterCode", "deadline",
)  # fmt: skip
_STATUS: Final = {"dispatch": "1", "claim": "2", "feedback": "3", "close": "4", "return": "1"}
_STATUS_ZH: Final = {"1": "分发", "2": "认领", "3": "反馈", "4": "结束"}


def _time(now: datetime) -> str:
    return now.astimezone(_CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _pick(source: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: source[name] for name in names if source.get(name) not in (None, "")}


def task_record(document: Mapping[str, Any], *, recipient: str, now: datetime) -> Record:
    """The SC-14 dispatch of a national supervision task (``superviseData``: taskInfo, superviseObjects)."""
    info = document["taskInfo"]
    task_no = str(info["taskNo"])
    payload: dict[str, Any] = {
        "action": "dispatch",
        "taskNo": task_no,
        "actionTime": _time(now),
        "operatorUnitNo": info["initiateUnitNo"],
        "operatorUnitName": info["initiateUnitName"],
        "status": _STATUS["dispatch"],
        "taskInfo": _pick(info, _TASK_INFO),
        "superviseObjects": [_pick(o, _OBJECT) for o in document["superviseObjects"]],
    }
    return Record(
        "SC-14", VERSION, task_no, payload, recipient=recipient, correlation_id=task_no, action="dispatch"
    )


def clue_record(
    warning: Mapping[str, Any], *, recipient: str, unit: Mapping[str, str], now: datetime
) -> Record:
    """The SC-12 dispatch of a national risk-warning clue (``riskWarning``) to the unit `unit` names."""
    clue_id = str(warning["fxyjId"])
    payload: dict[str, Any] = {
        "action": "dispatch",
        "actionTime": _time(now),
        "operatorUnitNo": NATIONAL_UNIT["unitNo"],
        "operatorUnitName": NATIONAL_UNIT["unitName"],
        **_pick(warning, _CLUE),
        "recipientUnitNo": unit["unitNo"],
        "recipientUnitName": unit["unitName"],
    }
    return Record(
        "SC-12", VERSION, clue_id, payload, recipient=recipient, correlation_id=clue_id, action="dispatch"
    )


def close_record(
    last: exchange_pb2.Message, *, unit: Mapping[str, str], reason: str, now: datetime
) -> Record:
    """结束: the close of the task or clue `last` (a reply from the unit) answers, addressed to that unit."""
    reply = json.loads(last.payload)
    payload: dict[str, Any] = {
        "action": "close",
        "actionTime": _time(now),
        "operatorUnitNo": unit["unitNo"],
        "operatorUnitName": unit["unitName"],
    }
    if last.standard == "SC-14":
        details = {k: v for k, v in dict(reply.get("taskDetails", {})).items() if k.startswith("union")}
        payload |= {
            "taskNo": last.correlation_id,
            "status": _STATUS["close"],
            "taskDetails": {**details, "endTime": _time(now), "endReason": reason},
        }
    else:
        payload |= {"fxyjId": last.correlation_id, "endReason": reason}
    return Record(
        last.standard, last.standard_version, last.correlation_id, payload, recipient=last.sender,
        correlation_id=last.correlation_id, action="close", in_reply_to=last.message_id,
    )  # fmt: skip


def feedback_document(message: exchange_pb2.Message) -> dict[str, Any]:
    """A unit's 认领 / 反馈 / 退回 in the national layout: ``supervisionProcess`` (taskDetails, feedbackUnitInfo)."""
    reply = json.loads(message.payload)
    if message.standard == "SC-14":
        details = dict(reply.get("taskDetails", {}))
        status = str(reply.get("status", _STATUS.get(message.action, "")))
        process: dict[str, Any] = {
            "taskDetails": [{"taskNo": message.correlation_id, **details, "status": _STATUS_ZH.get(status, status)}]
        }
        if "feedbackUnitInfo" in reply:
            process["feedbackUnitInfo"] = reply["feedbackUnitInfo"]
        return {"supervisionProcess": process}
    # SC-12: the clue's verification comes back as a task detail of the clue's 风险预警 id.
    detail = {
        "fxyjId": message.correlation_id,
        "unionUnitNo": reply.get("operatorUnitNo", ""),
        "unionUnitName": reply.get("operatorUnitName", ""),
        "status": {"claim": "认领", "feedback": "反馈", "return": "退回"}.get(message.action, message.action),
    }
    if message.action == "claim":
        detail["claimTime"] = reply.get("actionTime", "")
    if message.action == "feedback":
        detail |= {
            "feedbackTime": reply.get("actionTime", ""),
            "feedbackSuggestion": reply.get("feedbackSuggestion", ""),
            "verifyResult": reply.get("verifyResult", ""),
        }
    return {"supervisionProcess": {"taskDetails": [detail]}}


def front_row(message: exchange_pb2.Message, *, received_at: datetime, source: str) -> dict[str, Any]:
    """A record reported upward as a national front-table row: the cd_* exchange columns, then its fields."""
    row: dict[str, Any] = {
        "cd_id": message.business_key,
        "cd_time": _time(received_at),
        "cd_source": source,
        "cd_batch": message.batch_id,
        "cd_operation": CD_OPERATION.get(message.operation, "i"),
        "standard": message.standard,
    }
    row.update(json.loads(message.payload))
    return row
