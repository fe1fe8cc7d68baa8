"""One front-table row → one standard record: code translation, dates, lists, defaults, the ``cd_*`` header.

Pure: a row is a plain mapping of column name to the value the database driver returned. What cannot
be mapped (a code with no translation, a date that does not parse, an unknown ``cd_operation``) comes
back as a `standards.Finding` with a ``BRIDGE.M…`` rule id, beside the standard's own findings, so a
refused row is explained the same way whichever side refused it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import standards
from adapters.bridge.mapping import BridgeMapping, FieldRule
from gateway.envelope import BATCH_ID
from standards.findings import Finding, escape_pointer

__all__ = ["OPERATIONS", "MappedRow", "map_row", "message_id_for", "parse_cd_time", "time_text"]

#: The national cd_operation letters (I/U/D) → the Message operation.
OPERATIONS: Final = {"I": "insert", "U": "update", "D": "delete"}
_CLAUSE: Final = "bridge mapping"


@dataclass(frozen=True, slots=True)
class MappedRow:
    """A source row as the bridge will send it, or the problems that keep it from being sent."""

    cd_id: str
    cd_time: datetime | None
    cd_time_raw: Any  # exactly as read: the watermark and the result row carry the database's own value
    operation: str  # insert | update | delete ("" when cd_operation is not I/U/D)
    batch: str
    source: str
    message_id: str
    payload: dict[str, Any]
    problems: tuple[Finding, ...]
    keyed: bool = True  # cd_id and cd_time are both present (NULL in neither): a result row can name it
    correlation_id: str = ""  # the task or clue a reply belongs to
    action: str = ""  # claim | feedback | … (SC-12/13/14 replies)
    in_reply_to: str = ""  # message id of the dispatch it answers

    @property
    def cd_time_text(self) -> str:
        """``cd_time`` as text, exactly as the database gave it (the result row's key with ``cd_id``)."""
        return time_text(self.cd_time_raw)


def _problem(rule: str, name: str, zh: str, en: str) -> Finding:
    pointer = "".join(f"/{escape_pointer(part)}" for part in name.split(".")) if name else ""
    return Finding(rule, _CLAUSE, "error", pointer, zh, en)


def message_id_for(table: str, cd_id: str, cd_time: str) -> str:
    """The idempotent message id of one change: the same table, cd_id and cd_time give the same id."""
    digest = hashlib.sha256(f"{table}\x00{cd_id}\x00{cd_time}".encode()).hexdigest()
    return f"qzk-{digest[:40]}"


def parse_cd_time(value: Any, fmt: str) -> datetime | None:
    """``cd_time`` as a datetime: a timestamp column as it is, a text column through ``fmt``."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            return None
    return None


def time_text(value: Any) -> str:
    """A cd_time value as text: the result row's key, and part of the message id."""
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_date(value: Any, rule: FieldRule, kind: str) -> tuple[Any, str | None]:
    """A date/datetime field in the standard's spelling; the second item names a parse failure."""
    moment: datetime | date | None = None
    if isinstance(value, datetime | date):
        moment = value
    elif isinstance(value, str) and rule.date_format:
        try:
            moment = datetime.strptime(value.strip(), rule.date_format)
        except ValueError:
            return None, value
    if moment is None:
        return (value.strip() if isinstance(value, str) else str(value)), None
    if kind == "date":
        return (moment.date() if isinstance(moment, datetime) else moment).isoformat(), None
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    return moment.strftime("%Y-%m-%d %H:%M:%S"), None


def _scalar(value: Any, kind: str) -> Any:
    if kind == "integer":
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        return value
    if kind == "number":
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                return value
        return value
    if kind == "string" and isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


def _translate(value: Any, rule: FieldRule) -> tuple[Any, Finding | None]:
    if not rule.codes:
        return value, None
    key = str(value).strip()
    if key in rule.codes:
        return rule.codes[key], None
    if rule.passthrough:
        return value, None
    return None, _problem(
        "BRIDGE.M001", rule.name,
        f"列 {rule.column} 的代码值“{key}”没有转换为 {rule.name} 的标准代码",
        f"column {rule.column}: code value '{key}' has no translation to a standard code of {rule.name}",
    )  # fmt: skip


def _field(rule: FieldRule, row: Mapping[str, Any], spec: standards.Field) -> tuple[Any, list[Finding]]:
    """The value of one field (None: leave it out) and what went wrong filling it.

    Constants and defaults are written in the standard's own codes, so only column values are translated.
    """
    raw = row.get(rule.column) if rule.column is not None else None
    from_column = not _empty(raw)
    if not from_column:
        raw = rule.value if rule.column is None else rule.default
    if _empty(raw):
        return None, []
    translating = rule if from_column else FieldRule(rule.name)
    if spec.type == "object" and isinstance(raw, str):  # a nested record held as JSON text in one column
        try:
            return json.loads(raw), []
        except ValueError:
            return None, [_problem(
                "BRIDGE.M006", rule.name,
                f"列 {rule.column} 的值不是 JSON 对象", f"column {rule.column} does not hold a JSON object",
            )]  # fmt: skip
    if spec.type == "array":
        items = raw.split(rule.split) if isinstance(raw, str) and rule.split else raw
        items = items if isinstance(items, list) else [items]
        out, problems = [], []
        for item in (i.strip() if isinstance(i, str) else i for i in items):
            if _empty(item):
                continue
            translated, problem = _translate(item, translating)
            if problem:
                problems.append(problem)
            else:
                out.append(translated)
        return out, problems
    translated, problem = _translate(raw, translating)
    if problem:
        return None, [problem]
    if spec.type in ("date", "datetime"):
        value, failed = _as_date(translated, rule, spec.type)
        if failed is not None:
            return None, [_problem(
                "BRIDGE.M002", rule.name,
                f"列 {rule.column} 的值“{failed}”不符合日期格式 {rule.date_format}",
                f"column {rule.column}: '{failed}' does not match the date format {rule.date_format}",
            )]  # fmt: skip
        return value, []
    return _scalar(translated, spec.type), []


def map_row(
    row: Mapping[str, Any], mapping: BridgeMapping, fields: Mapping[str, standards.Field]
) -> MappedRow:
    """Map one source row by ``mapping``; ``fields`` are the standard's top-level fields by name."""
    problems: list[Finding] = []
    cd_id_raw = row.get(mapping.column("cd_id"))
    cd_id = "" if cd_id_raw is None else str(cd_id_raw)
    cd_time_raw = row.get(mapping.column("cd_time"))
    cd_time = parse_cd_time(cd_time_raw, mapping.cd_time_format)
    if not cd_id.strip():
        problems.append(_problem(
            "BRIDGE.M007", "",
            "cd_id 为空，不能作为业务主键（报文标识由表、cd_id 与 cd_time 派生）",
            "cd_id is empty: not a usable business key (message ids derive from table, cd_id and cd_time)",
        ))  # fmt: skip
    if cd_time_raw is None or (isinstance(cd_time_raw, str) and not cd_time_raw.strip()):
        problems.append(_problem(
            "BRIDGE.M004", "", "cd_time 为空，不能作为业务主键", "cd_time is empty: not a usable business key"
        ))  # fmt: skip
    elif cd_time is None:
        problems.append(_problem(
            "BRIDGE.M004", "",
            f"cd_time“{cd_time_raw}”不是时间（格式 {mapping.cd_time_format}）",
            f"cd_time '{cd_time_raw}' is not a time (format {mapping.cd_time_format})",
        ))  # fmt: skip
    letter = str(row.get(mapping.column("cd_operation")) or "").strip().upper()
    operation = OPERATIONS.get(letter, "")
    if not operation:
        problems.append(_problem(
            "BRIDGE.M003", "",
            f"cd_operation“{letter}”不是 I/U/D 之一", f"cd_operation '{letter}' is not one of I/U/D",
        ))  # fmt: skip
    batch = str(row.get(mapping.column("cd_batch")) or "").strip()
    if batch and not BATCH_ID.fullmatch(batch):
        problems.append(_problem(
            "BRIDGE.M005", "",
            f"cd_batch“{batch}”须为 YYYYMMDD 加 5 位序号",
            f"cd_batch '{batch}' must be YYYYMMDD + a 5-digit run",
        ))  # fmt: skip
    payload: dict[str, Any] = {}
    for rule in mapping.fields:
        value, found = _field(rule, row, fields[rule.name])
        problems.extend(found)
        if value is not None:
            *parents, leaf = rule.name.split(".")  # "taskDetails.claimTime" fills a nested object
            target = payload
            for name in parents:
                target = target.setdefault(name, {})
            target[leaf] = value
    headers = {role: str(row.get(column) or "").strip() for role, column in mapping.headers.items()}
    return MappedRow(
        cd_id=cd_id,
        cd_time=cd_time,
        cd_time_raw=cd_time_raw,
        operation=operation,
        batch=batch,
        source=str(row.get(mapping.column("cd_source")) or ""),
        message_id=message_id_for(mapping.table, cd_id, time_text(cd_time_raw)),
        payload=payload,
        problems=tuple(problems),
        keyed=cd_id_raw is not None and cd_time_raw is not None,
        correlation_id=headers.get("correlation_id", ""),
        action=headers.get("action", ""),
        in_reply_to=headers.get("in_reply_to", ""),
    )
