"""The national link's mappings: the national task layout ↔ SC-14/SC-12, and the ``cd_*`` upward columns.

Downward, the national "互联网+监管" system pushes joint supervision tasks as a ``superviseData``
document (domain notes §2.10, observed in a public test fixture): ``taskInfo`` with its
``superviseObjects`` (and their ``basisData``: credit, abnormal list, complaints, tip-offs, risk
warnings), and ``supervisionProcess`` (``taskDetails``, ``feedbackUnitInfo``). It arrives as XML or as
the same tree in JSON. `task_from_national` turns it into an SC-14 dispatch record, `clues_from_national`
turns the ``riskWarning`` blocks into SC-12 dispatch records; upward, `task_to_national` writes an SC-14
claim, feedback or return back into the national tree. The national status is a word (分发, 认领, 反馈,
结束) where SC-14 has a code.

Records reported upward carry the national exchange columns (§2.1): ``cd_id`` (business key),
``cd_time``, ``cd_source`` (province region code + department code), ``cd_batch`` (``YYYYMMDD`` + a
5-digit run of that day) and ``cd_operation`` (``i``/``u``/``d``); see `upward_row` and `next_batch`.

Pure: bytes and values in, values out; malformed input raises `VerificationError` (MALFORMED).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from adapters.lifecycle import CHINA
from gateway.errors import ReasonCode, VerificationError
from standards.calendar import add_working_days

__all__ = [
    "BASIS_BLOCKS",
    "NATIONAL_STATUS",
    "OPERATION_FLAGS",
    "clues_from_national",
    "next_batch",
    "parse_national",
    "task_from_national",
    "task_to_national",
    "upward_row",
]

#: SC-14 task_status code <-> the national status word.
NATIONAL_STATUS: Final[Mapping[str, str]] = {"1": "分发", "2": "认领", "3": "反馈", "4": "结束"}
_STATUS_CODE: Final = {word: code for code, word in NATIONAL_STATUS.items()}
#: The national ``cd_operation`` flags for the wire's operations.
OPERATION_FLAGS: Final[Mapping[str, str]] = {"insert": "i", "update": "u", "delete": "d"}
BASIS_BLOCKS: Final = (
    "creditAssess", "operatingAbnormal", "seriousIllegal", "complaintInfo", "tipInfo", "riskWarning",
)  # fmt: skip
_TASK_INFO: Final = (
    "taskName", "taskStartTime", "taskEndTime", "initiateUnitNo", "initiateUnitName", "initiateUnitType",
    "unionDeptNo", "unionDeptName", "unionRegionNo", "supervisionMatterCode", "superviseObjectNo",
    "inspectContent", "inspectClaim", "remark",
)  # fmt: skip
_OBJECT: Final = (
    "superviseObjectType",
    "superviseObjectName",
    "superviseObjectCode",
    "credentialsType",
    "credentialsValue",
)
_LISTS: Final = frozenset(
    {"superviseObject", "taskDetails", "admInspection", "admPunishment", "admForce", "other"}
)
#: Days a national task runs when its document names no end: the project's SC-14 feedback clock.
DEFAULT_TASK_DAYS: Final = 20


def _malformed(detail: str) -> VerificationError:
    return VerificationError(ReasonCode.MALFORMED, f"国家任务报文 / national task document: {detail}")


# -- reading ---------------------------------------------------------------------------------------


def _element(node: ET.Element) -> Any:
    children = list(node)
    if not children:
        return (node.text or "").strip()
    tree: dict[str, Any] = {}
    for child in children:
        value = _element(child)
        if child.tag in _LISTS:
            tree.setdefault(child.tag, []).append(value)
        elif child.tag in tree:
            raise _malformed(f"element <{child.tag}> repeats")
        else:
            tree[child.tag] = value
    return tree


def parse_national(data: bytes) -> dict[str, Any]:
    """The ``superviseData`` tree of a national document, XML or JSON."""
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
            raise _malformed("DTDs and entities are not accepted")
        try:
            root = ET.fromstring(text)  # noqa: S314 - no DTD or entity can reach the parser (checked above)
        except ET.ParseError as exc:
            raise _malformed(f"XML: {exc}") from None
        if root.tag != "superviseData":
            raise _malformed(f"root element <{root.tag}>, expected <superviseData>")
        tree = _element(root)
    else:
        try:
            doc = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _malformed(f"JSON: {exc}") from None
        tree = doc.get("superviseData") if isinstance(doc, dict) else None
    if not isinstance(tree, dict) or not isinstance(tree.get("taskInfo"), dict):
        raise _malformed("no taskInfo")
    return tree


def _objects(info: Mapping[str, Any]) -> list[dict[str, Any]]:
    holder = info.get("superviseObjects", {})
    listed = holder.get("superviseObject", []) if isinstance(holder, dict) else holder
    if isinstance(listed, dict):
        listed = [listed]
    objects: list[dict[str, Any]] = []
    for raw in listed:
        obj = {k: raw[k] for k in _OBJECT if raw.get(k)}
        basis = raw.get("basisData")
        if isinstance(basis, dict) and (kept := {k: v for k, v in basis.items() if k in BASIS_BLOCKS and v}):
            obj["basisData"] = kept
        objects.append(obj)
    return objects


def _wall_time(value: str) -> str:
    """National times as ``YYYY-MM-DD HH:MM:SS`` (they come as ``…T…`` or with a bare date too)."""
    value = value.replace("T", " ").replace("/", "-")
    return value if len(value) > 10 else f"{value} 00:00:00"


def task_from_national(data: bytes) -> dict[str, Any]:
    """The SC-14 dispatch record of a national task document."""
    tree = parse_national(data)
    info: Mapping[str, Any] = tree["taskInfo"]
    task_no = info.get("taskNo", "")
    if not task_no:
        raise _malformed("taskInfo has no taskNo")
    start = _wall_time(str(info.get("taskStartTime", "")))
    try:
        started = datetime.strptime(start, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        raise _malformed(f"taskStartTime {info.get('taskStartTime')!r}") from None
    task_info = {k: info[k] for k in _TASK_INFO if info.get(k)}
    task_info["taskStartTime"] = start
    task_info.setdefault("taskEndTime", add_working_days(started.date(), DEFAULT_TASK_DAYS).isoformat())
    return {
        "action": "dispatch",
        "actionTime": start,
        "operatorUnitNo": info.get("initiateUnitNo", ""),
        "operatorUnitName": info.get("initiateUnitName", ""),
        "taskNo": task_no,
        "status": _STATUS_CODE.get(str(info.get("status", "分发")), "1"),
        "taskInfo": task_info,
        "superviseObjects": _objects(info),
    }


def clues_from_national(
    data: bytes, *, recipient_no: str, recipient_name: str, deadline_days: int = 15
) -> list[dict[str, Any]]:
    """SC-12 dispatch records of the ``riskWarning`` blocks riding in a national task's objects."""
    tree = parse_national(data)
    info = tree["taskInfo"]
    clues: list[dict[str, Any]] = []
    for obj in _objects(info):
        warning = obj.get("basisData", {}).get("riskWarning")
        if not isinstance(warning, dict) or not warning.get("fxyjId"):
            continue
        created = _wall_time(str(warning.get("createdAt", info.get("taskStartTime", ""))))
        day = date.fromisoformat(created[:10])
        clue = {
            "action": "dispatch",
            "actionTime": _wall_time(str(info.get("taskStartTime", created))),
            "operatorUnitNo": info.get("initiateUnitNo", ""),
            "operatorUnitName": info.get("initiateUnitName", ""),
            "fxyjId": warning["fxyjId"],
            "title": warning.get("title", ""),
            "domain": warning.get("domain", ""),
            "level": str(warning.get("level", "")),
            "province": warning.get("province", ""),
            "riskObject": warning.get("riskObject", obj.get("superviseObjectName", "")),
            "riskObjectCertType": obj.get("credentialsType", "001"),
            "riskObjectCertCode": warning.get("riskObjectCertCode", obj.get("credentialsValue", "")),
            "source": warning.get("source", ""),
            "createdAt": created,
            "recipientUnitNo": recipient_no,
            "recipientUnitName": recipient_name,
            "deadline": add_working_days(day, deadline_days).isoformat(),
        }
        for optional in ("ruleId", "props"):
            if warning.get(optional):
                clue[optional] = warning[optional]
        if info.get("supervisionMatterCode"):
            clue["supervisionMatterCode"] = info["supervisionMatterCode"]
        clues.append(clue)
    return clues


# -- writing ---------------------------------------------------------------------------------------


def _to_xml(parent: ET.Element, tag: str, value: Any) -> None:
    if isinstance(value, list) and tag in _LISTS:
        for item in value:
            _to_xml(parent, tag, item)
        return
    node = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _to_xml(node, key, item)
    elif isinstance(value, list):
        node.text = ",".join(str(v) for v in value)
    elif isinstance(value, bool):
        node.text = "1" if value else "0"
    else:
        node.text = str(value)


def task_to_national(record: Mapping[str, Any], *, fmt: str = "xml") -> bytes:
    """The national document of an SC-14 claim, feedback, return or close (``fmt`` ``xml`` or ``json``)."""
    details = dict(record.get("taskDetails", {}))
    details = {
        "taskNo": record["taskNo"],
        **details,
        "status": NATIONAL_STATUS.get(str(record["status"]), "分发"),
    }
    process: dict[str, Any] = {"taskDetails": [details]}
    if feedback := record.get("feedbackUnitInfo"):
        process["feedbackUnitInfo"] = feedback
    tree = {
        "taskInfo": {"taskNo": record["taskNo"], "status": details["status"]},
        "supervisionProcess": process,
    }
    if fmt == "json":
        return json.dumps({"superviseData": tree}, ensure_ascii=False, indent=1).encode("utf-8")
    root = ET.Element("superviseData")
    for key, value in tree.items():
        _to_xml(root, key, value)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def next_batch(day: date, used: Iterable[str]) -> str:
    """The next ``cd_batch`` of `day` after the batch ids `used` so far (``2019041100002`` = second run)."""
    prefix = day.strftime("%Y%m%d")
    runs = [int(b[8:]) for b in used if len(b) == 13 and b.startswith(prefix) and b[8:].isdigit()]
    run = max(runs, default=0) + 1
    if run > 99999:
        raise VerificationError(ReasonCode.MALFORMED, f"cd_batch: more than 99999 runs on {prefix}")
    return f"{prefix}{run:05d}"


def upward_row(
    payload: Mapping[str, Any],
    *,
    business_key: str,
    operation: str,
    batch: str,
    source_region: str,
    department_code: str,
    now: datetime,
    extra: Sequence[tuple[str, Any]] = (),
) -> dict[str, Any]:
    """A record as the national front table receives it: its fields plus the ``cd_*`` exchange columns."""
    if operation not in OPERATION_FLAGS:
        raise VerificationError(ReasonCode.MALFORMED, f"cd_operation: unknown operation {operation!r}")
    return {
        **payload,
        **dict(extra),
        "cd_id": business_key,
        "cd_time": now.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        "cd_source": f"{source_region}{department_code}",
        "cd_batch": batch,
        "cd_operation": OPERATION_FLAGS[operation],
    }
