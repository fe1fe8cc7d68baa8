"""Upward: what the hub delivers for the national system goes into the national up-tables in cd_batch runs.

`NationalDesk` is the `adapters.sdk.Department` of the province's national-bridge node: the SDK's
`AdapterServicer` verifies, deduplicates and receipts each delivery (records reported upward, SC-14
认领/反馈 and SC-12 replies) and hands it to `handle_delivered`, which *stages* it in the bridge's journal
as the row the national up-table will hold. `NationalDesk.flush` turns what is staged into the day's
next cd_batch and writes it into the national database (see `adapters.bridge.national.journal` for why
nothing is lost or written twice).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import SQLAlchemyError

import standards
from adapters import national
from adapters.bridge.national.config import NationalLink
from adapters.bridge.national.journal import NationalJournal, StagedRow
from adapters.bridge.national.layout import GENERIC, TASK_COLUMNS, NationalTables, up_table_of
from adapters.bridge.tables import DatabaseUnavailable
from adapters.lifecycle import china_day
from adapters.sdk.department import Handling, Record, StandardClaim
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

__all__ = ["UPWARD_STANDARDS", "NationalDesk", "UpBatch", "national_row"]

log = structlog.get_logger("jgx.bridge.national")
#: What the national bridge accepts from the hub for the national system.
UPWARD_STANDARDS = ("SC-05", "SC-06", "SC-09", "SC-10", "SC-12", "SC-14")
_FLAGS = {
    exchange_pb2.OPERATION_INSERT: "i",
    exchange_pb2.OPERATION_UPDATE: "u",
    exchange_pb2.OPERATION_DELETE: "d",
}


@dataclass(frozen=True, slots=True)
class UpBatch:
    """The account of one cd_batch written upward: rows per table, new and already there."""

    cd_batch: str
    tables: Mapping[str, int]
    written: int
    already: int  # rows a killed flush had written before: kept, not written twice

    def describe(self) -> str:
        """One line for a person, Chinese and English."""
        per = ", ".join(f"{t} {n}" for t, n in sorted(self.tables.items()))
        return (
            f"cd_batch {self.cd_batch}: 写入 / written {self.written}, "
            f"已存在 / already {self.already} ({per})"
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def national_row(message: exchange_pb2.Message) -> tuple[str, str, dict[str, Any]]:
    """(up-table, cd_id, the row's element columns) of a delivered message, in the national layout."""
    payload = json.loads(message.payload)
    table = up_table_of(message.standard)
    cd_id = message.business_key or message.correlation_id or message.message_id
    if table == GENERIC:
        return (
            table,
            cd_id,
            {"standard": message.standard, "payload": json.dumps(payload, ensure_ascii=False)},
        )
    if message.standard == "SC-14":
        details = dict(payload.get("taskDetails", {}))
        row = {c: _text(details.get(c)) for c in TASK_COLUMNS}
        row["taskNo"] = str(payload.get("taskNo", ""))
        row["status"] = national.NATIONAL_STATUS.get(str(payload.get("status", "")), "")
        row["superviseData"] = national.task_to_national(payload).decode("utf-8")
        return table, str(payload.get("taskNo") or cd_id), row
    fields = standards.catalogue().get(message.standard, message.standard_version).fields
    names = [f.name for f in fields if "." not in f.name and "[]" not in f.name]
    return table, cd_id, {name: _text(payload.get(name)) for name in names}


class NationalDesk:
    """The national bridge's department: deliveries staged for the national up-tables, flushed in batches."""

    def __init__(
        self, link: NationalLink, tables: NationalTables, journal: NationalJournal, trust: TrustConfig
    ) -> None:
        self.link = link
        self.tables = tables
        self.journal = journal
        self.trust = trust

    def claims(self) -> Sequence[StandardClaim]:
        """The standards the national system receives through the bridge."""
        return [StandardClaim(s, standards.catalogue().get(s).version) for s in UPWARD_STANDARDS]

    def export(self, standard: str) -> Iterable[Record]:  # noqa: ARG002 - the Department protocol
        """The bridge has no records of its own."""
        return ()

    def _source(self, sender: str) -> str:
        node = self.trust.nodes.get(sender)
        return f"{self.link.source_region}{node.uscc if node is not None and node.uscc else sender}"

    def handle_delivered(self, message: exchange_pb2.Message, *, now: datetime) -> Handling:
        """Stage the delivered message as its national up-table row (once per message id)."""
        table, cd_id, row = national_row(message)
        row |= {"cd_operation": _FLAGS.get(message.operation, "i"), "cd_source": self._source(message.sender)}
        staged = self.journal.stage(
            message_id=message.message_id, up_table=table, cd_id=cd_id, now=now, row=row,
            correlation_id=message.correlation_id, message=message.SerializeToString(),
        )  # fmt: skip
        log.info("national.staged", message_id=message.message_id, table=table, cd_id=cd_id, new=staged)
        return Handling()

    def flush(self, now: datetime) -> list[UpBatch]:
        """Write what is staged into the national up-tables as the day's next cd_batch run(s).

        Raises `DatabaseUnavailable`; a batch whose write failed stays unwritten and is written (with
        the same cd_batch and keys) by the next flush.
        """
        self.journal.assign_batch(china_day(now))
        return [self._write(batch, self.journal.rows(batch)) for batch in self.journal.unwritten()]

    def _write(self, batch: str, rows: Sequence[StagedRow]) -> UpBatch:
        written = already = 0
        try:
            with self.tables.engine.begin() as connection:
                for staged in rows:
                    table = self.tables.up[staged.up_table]
                    key = sa.and_(table.c.cd_id == staged.cd_id, table.c.cd_time == staged.cd_time)
                    if connection.execute(
                        sa.select(sa.func.count()).select_from(table).where(key)
                    ).scalar_one():
                        already += 1
                        continue
                    values = {
                        **staged.row,
                        "cd_id": staged.cd_id,
                        "cd_time": staged.cd_time,
                        "cd_batch": batch,
                    }
                    connection.execute(sa.insert(table).values(**values))
                    written += 1
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(str(exc), national=True) from None
        self.journal.mark_written(batch)
        report = UpBatch(
            batch, dict(Counter(self.tables.up[r.up_table].name for r in rows)), written, already
        )
        log.info("national.batch_written", cd_batch=batch, written=written, already=already)
        return report
