"""What the reference departments share: reading their native exports, and their task desk.

A `Desk` is a `Department` (adapters.sdk) whose records come from native export files mapped by
`Source`s, and which handles delivered SC-12 clues, SC-13 clue transfers and SC-14 tasks the same
way: each becomes a work item, is claimed (认领) at once, and is fed back (反馈) when the department's
own records answer it. The payloads follow the standards' lifecycle shapes: ``action``,
``actionTime``, the acting unit, and the task's or clue's key (``taskNo`` / ``fxyjId`` / ``clueNo``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from adapters.lifecycle import CHINA
from adapters.native import Column, NativeRow, read_csv, read_json
from adapters.sdk.department import Handling, ImportResult, Record, RowProblem, StandardClaim, WorkItem
from gateway.pb.jgx.exchange.v1 import exchange_pb2

__all__ = ["KEYS", "SAMPLES", "Desk", "Source", "Unit", "action_time"]

SAMPLES: Final = Path(__file__).parent / "samples"
#: The field that names a task or clue in each lifecycle standard.
KEYS: Final[Mapping[str, str]] = {"SC-12": "fxyjId", "SC-13": "clueNo", "SC-14": "taskNo"}
#: SC-14 task status codes by action (the standard's task_status list).
TASK_STATUS: Final[Mapping[str, str]] = {
    "dispatch": "1",
    "claim": "2",
    "feedback": "3",
    "close": "4",
    "return": "1",
}


@dataclass(frozen=True, slots=True)
class Unit:
    """The acting unit a department's lifecycle messages name."""

    uscc: str
    name: str
    region: str
    kind: str = "dept"  # SC-14 unionUnitType: dept | region


@dataclass(frozen=True, slots=True)
class Source:
    """One native export file and how its rows become records of one standard."""

    path: Path
    standard: str
    columns: Sequence[Column]
    key: (
        str | Callable[[Mapping[str, Any]], str]
    )  # the record's stable key (national cd_id): a field or a function
    fmt: str = "csv"  # csv | json
    items: str = ""  # for JSON: the key of the record list
    finish: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda record: record)

    def read(self, version: str) -> ImportResult:
        """The records mapped from the file, and its refused rows."""
        reader = (
            read_json(self.path, self.columns, items=self.items)
            if self.fmt == "json"
            else read_csv(self.path, self.columns)
        )
        records: list[Record] = []
        problems: list[RowProblem] = []
        for row in reader:
            if isinstance(row, RowProblem):
                problems.append(row)
            else:
                records.append(self._record(row, version))
        return ImportResult(tuple(records), tuple(problems))

    def _record(self, row: NativeRow, version: str) -> Record:
        payload = self.finish(dict(row.values))
        key = self.key(payload) if callable(self.key) else str(payload[self.key])
        return Record(self.standard, version, key, payload)


def action_time(now: datetime) -> str:
    """China wall-clock time as the standards write it: ``YYYY-MM-DD HH:MM:SS``."""
    return now.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


class Desk:
    """A reference department: native sources for its records, and the task desk for its work items."""

    def __init__(
        self,
        *,
        unit: Unit,
        claims: Sequence[StandardClaim],
        sources: Sequence[Source],
        auto_claim: bool = True,
    ) -> None:
        self.unit = unit
        self._claims = tuple(claims)
        self.sources = tuple(sources)
        self.auto_claim = auto_claim
        self._imported: ImportResult | None = None
        self.tasks: dict[str, exchange_pb2.Message] = {}  # correlation id -> the dispatch
        self.claimed_at: dict[str, datetime] = {}

    # -- records -----------------------------------------------------------------------------------

    def claims(self) -> Sequence[StandardClaim]:
        """The standards this department claims."""
        return self._claims

    def version(self, standard: str) -> str:
        """The claimed version of `standard`."""
        return next(c.version for c in self._claims if c.standard == standard)

    def imported(self) -> ImportResult:
        """Every record mapped from the native sources, and every refused row (read once)."""
        if self._imported is None:
            result = ImportResult()
            for source in self.sources:
                result = result + source.read(self.version(source.standard))
            self._imported = result
        return self._imported

    def export(self, standard: str) -> Iterable[Record]:
        """The mapped records of one standard."""
        return [r for r in self.imported().records if r.standard == standard]

    # -- the task desk -----------------------------------------------------------------------------

    def handle_delivered(self, message: exchange_pb2.Message, *, now: datetime) -> Handling:
        """A delivered dispatch becomes a work item and (with auto_claim) a claim; other actions are noted."""
        if message.standard not in KEYS or message.action != "dispatch":
            return Handling()
        payload = json.loads(message.payload)
        self.tasks[message.correlation_id] = message
        item = WorkItem(
            message.correlation_id, message.standard, message.sender, message.message_id, now,
            title=self.title(message.standard, payload), variant="", summary=payload,
        )  # fmt: skip
        if not self.auto_claim:
            return Handling((item,))
        return Handling((item,), (self.claim(message.correlation_id, now),))

    def restore(self, dispatches: Iterable[exchange_pb2.Message]) -> None:
        """Take back the dispatches the adapter kept (after a restart) so they can still be answered."""
        for message in dispatches:
            self.tasks.setdefault(message.correlation_id, message)

    def claim(self, correlation_id: str, now: datetime) -> Record:
        """认领 (claim) a delivered task or clue."""
        self.claimed_at[correlation_id] = now
        return self.reply(self.tasks[correlation_id], "claim", now)

    @staticmethod
    def title(standard: str, payload: Mapping[str, Any]) -> str:
        """A one-line title of a task or clue for people."""
        if standard == "SC-14":
            return str(payload.get("taskInfo", {}).get("taskName", ""))
        if standard == "SC-12":
            return str(payload.get("title", ""))
        return str(payload.get("illegalFact", ""))[:60]

    def reply(
        self,
        dispatch: exchange_pb2.Message,
        action: str,
        now: datetime,
        extra: Mapping[str, Any] | None = None,
    ) -> Record:
        """A lifecycle reply (claim, feedback, return) to `dispatch`, addressed to its sender."""
        key = KEYS[dispatch.standard]
        payload: dict[str, Any] = {
            "action": action,
            "actionTime": action_time(now),
            "operatorUnitNo": self.unit.uscc,
            "operatorUnitName": self.unit.name,
            key: dispatch.correlation_id,
        }
        if dispatch.standard == "SC-13":
            payload["operatorRegionCode"] = self.unit.region
        if dispatch.standard == "SC-14":
            payload["status"] = TASK_STATUS[action]
            payload["taskDetails"] = {
                "unionUnitType": self.unit.kind,
                "unionUnitNo": self.unit.uscc,
                "unionUnitName": self.unit.name,
            }
            if action == "claim":
                payload["taskDetails"]["claimTime"] = action_time(now)
        for name, value in (extra or {}).items():
            if isinstance(value, dict) and isinstance(payload.get(name), dict):
                payload[name] = {**payload[name], **value}
            else:
                payload[name] = value
        return Record(
            dispatch.standard, dispatch.standard_version, dispatch.correlation_id, payload,
            operation="insert", recipient=dispatch.sender, correlation_id=dispatch.correlation_id,
            action=action, in_reply_to=dispatch.message_id,
        )  # fmt: skip

    def decline(self, correlation_id: str, reason: str, now: datetime) -> Record:
        """退回 (return) a delivered task or clue with a reason."""
        dispatch = self.tasks[correlation_id]
        extra: dict[str, Any]
        if dispatch.standard == "SC-14":
            extra = {"taskDetails": {"endTime": action_time(now), "endReason": reason}}
        elif dispatch.standard == "SC-12":
            extra = {"returnReason": reason}
        else:
            extra = {"reason": reason}
        return self.reply(dispatch, "return", now, extra)
