"""What a department writes: the mapping between its native records and the standard records.

A department implements `Department`; the SDK does everything else (verifying, deduplicating,
receipting, signing, submitting with retry). The values here are plain data so the mapping code stays
pure and testable without a network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from gateway.pb.jgx.exchange.v1 import exchange_pb2

__all__ = [
    "Department",
    "Handling",
    "ImportResult",
    "Operation",
    "Record",
    "RowProblem",
    "StandardClaim",
    "WorkItem",
]

Operation = Literal["insert", "update", "delete"]


@dataclass(frozen=True, slots=True)
class StandardClaim:
    """A standard and the version the adapter implements, e.g. ("SC-06", "1.0.0")."""

    standard: str
    version: str


@dataclass(frozen=True, slots=True)
class Record:
    """One standard record ready to be signed: the payload plus the exchange header fields it needs."""

    standard: str
    version: str
    business_key: str  # national cd_id: the record's stable key
    payload: Mapping[str, Any]
    operation: Operation = "insert"  # national cd_operation i/u/d
    recipient: str = ""  # "" means the hub
    correlation_id: str = ""  # the task or clue id of a lifecycle message
    action: str = ""  # "claim" | "feedback" | … for SC-12/13/14 replies
    in_reply_to: str = ""  # message_id of the dispatch a reply answers
    batch_id: str = ""  # national cd_batch, YYYYMMDD + 5-digit run
    seal: tuple[str, ...] = ()  # JSON pointers of personal fields to seal for the recipient (wire.md §12)


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A native row that could not be mapped: where it is and why, in Chinese and English."""

    source: str
    line: int  # 1-based physical line of the row in the file (the header is line 1 in a CSV)
    reason_zh: str
    reason_en: str
    column: str = ""

    def describe(self) -> str:
        """One line for a person: ``file:line [column] 中文 / English``."""
        where = f"{self.source}:{self.line}" + (f" [{self.column}]" if self.column else "")
        return f"{where} {self.reason_zh} / {self.reason_en}"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The records mapped from a native export and the rows that were refused."""

    records: tuple[Record, ...] = ()
    problems: tuple[RowProblem, ...] = ()

    def __add__(self, other: ImportResult) -> ImportResult:
        return ImportResult(self.records + other.records, self.problems + other.problems)


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A delivered task or clue as the department tracks it (one lifecycle, keyed by correlation id)."""

    correlation_id: str
    standard: str
    sender: str  # who dispatched it (the national system, the hub, the partner)
    dispatch_message_id: str
    received_at: datetime
    title: str = ""
    variant: str = ""  # selects the deadline row, e.g. SC-11 "complaint" or "tip"
    summary: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Handling:
    """What the department does with a delivered message: work items to track and replies to send."""

    work_items: tuple[WorkItem, ...] = ()
    replies: tuple[Record, ...] = ()


class Department(Protocol):
    """The mapping a department implements; everything else is the SDK's."""

    def claims(self) -> Sequence[StandardClaim]:
        """The standards (and versions) this department's adapter produces and accepts."""
        ...

    def export(self, standard: str) -> Iterable[Record]:
        """The department's current records of one claimed standard (for Export and submission)."""
        ...

    def handle_delivered(self, message: exchange_pb2.Message, *, now: datetime) -> Handling:
        """Turn a delivered, verified message into work items and replies (claim, feedback).

        Optionally a department also has ``restore(dispatches)``: the SDK calls it at start with the
        dispatch messages of the tasks and clues it kept, so an answer can follow a restart.
        """
        ...
