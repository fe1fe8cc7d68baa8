"""Downward: tasks, clues and feedback delivered to a front-database department land in its inbound table.

`FrontDesk` is the `adapters.sdk.Department` of a bridged department. The SDK's `AdapterServicer` verifies,
deduplicates and receipts each delivery and hands the accepted message to `handle_delivered`, which
writes it into the inbound table with the same ``cd_*`` columns the department already reads. The
message id is the table's primary key and the row is inserted only when absent, so a redelivery (the
hub retrying after a lost receipt, the adapter restarted between writing and receipting) never writes a
second row: each message lands exactly once. The department answers (认领 claim, 反馈 feedback) by
writing rows into its outbound table, which an ordinary bridge mapping with ``correlation_id``,
``action`` and ``in_reply_to`` columns under ``[source]`` sends back up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

import standards
from adapters.bridge.mapping import BridgeMapping
from adapters.bridge.rows import map_row
from adapters.bridge.tables import LONG_TEXT, OWN_TABLE, TIMESTAMP, DatabaseUnavailable, FrontDatabase
from adapters.bridge.verdicts import local_findings
from adapters.sdk.department import Handling, Record, StandardClaim, WorkItem
from gateway.pb.jgx.exchange.v1 import exchange_pb2

__all__ = ["FrontDesk", "InboundTable"]

_LETTERS = {
    exchange_pb2.OPERATION_INSERT: "I",
    exchange_pb2.OPERATION_UPDATE: "U",
    exchange_pb2.OPERATION_DELETE: "D",
}


class InboundTable:
    """The department's inbound table (下发表): one row per delivered message, keyed by message id."""

    def __init__(self, engine: sa.Engine, name: str, schema: str | None = None) -> None:
        self.engine = engine
        self.table = sa.Table(
            name,
            sa.MetaData(schema=schema),
            sa.Column("message_id", sa.String(64), primary_key=True),
            sa.Column("cd_id", sa.String(64), nullable=False),  # the record's business key
            sa.Column("cd_operation", sa.String(1), nullable=False),
            sa.Column("cd_time", TIMESTAMP, nullable=False),  # when the bridge received it (to the µs)
            sa.Column("cd_batch", sa.String(13)),
            sa.Column("cd_source", sa.String(64), nullable=False),  # the sending node
            sa.Column("standard", sa.String(16), nullable=False),
            sa.Column("standard_version", sa.String(16), nullable=False),
            sa.Column("correlation_id", sa.String(64)),
            sa.Column("action", sa.String(16)),
            sa.Column("in_reply_to", sa.String(64)),
            sa.Column("payload", LONG_TEXT, nullable=False),  # the record as JSON, exactly as signed
            **OWN_TABLE,
        )
        try:
            self.table.create(engine, checkfirst=True)
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(str(exc)) from None

    def write(self, message: exchange_pb2.Message, *, now: datetime) -> bool:
        """Insert the message unless its id is already there; True when a row was written."""
        row = {
            "message_id": message.message_id,
            "cd_id": message.business_key,
            "cd_operation": _LETTERS.get(message.operation, "I"),
            "cd_time": now.replace(tzinfo=None),
            "cd_batch": message.batch_id or None,
            "cd_source": message.sender,
            "standard": message.standard,
            "standard_version": message.standard_version,
            "correlation_id": message.correlation_id,
            "action": message.action,
            "in_reply_to": message.in_reply_to,
            "payload": message.payload.decode("utf-8"),
        }
        key = self.table.c.message_id == message.message_id
        try:
            with self.engine.begin() as connection:
                if connection.execute(sa.select(sa.func.count()).where(key)).scalar_one():
                    return False
                connection.execute(sa.insert(self.table).values(**row))
        except IntegrityError as exc:
            # a concurrent redelivery inserted it first (the primary key keeps it to one row) — or the table
            # refused the row for another reason (a NOT NULL column of the department's own), which is an
            # error the delivery must report, never a duplicate: nothing was written
            if self._has(key):
                return False
            raise DatabaseUnavailable(str(exc)) from None
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(str(exc)) from None
        return True

    def _has(self, key: sa.ColumnElement[bool]) -> bool:
        try:
            with self.engine.connect() as connection:
                return bool(connection.execute(sa.select(sa.func.count()).where(key)).scalar_one())
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(str(exc)) from None

    def rows(self) -> list[dict[str, Any]]:
        """Every inbound row, oldest first."""
        with self.engine.connect() as connection:
            query = sa.select(self.table).order_by(self.table.c.cd_time, self.table.c.message_id)
            return [dict(r) for r in connection.execute(query).mappings()]


class FrontDesk:
    """A department that has only a database: its records are its front tables, its inbox a table."""

    def __init__(
        self, mappings: Sequence[BridgeMapping], inbound: InboundTable, *, today: date | None = None
    ):
        self.mappings = list(mappings)
        self.inbound = inbound
        self._today = today

    def claims(self) -> Sequence[StandardClaim]:
        """The standards the bridge sends (one per mapping) and those its inbound table accepts."""
        pairs = [(m.standard, m.version) for m in self.mappings]
        pairs += [pair for m in self.mappings for pair in m.inbound_standards]
        return [StandardClaim(s, v) for s, v in dict.fromkeys(pairs)]

    def export(self, standard: str) -> Iterable[Record]:
        """The records the bridge would send for ``standard``: every row of its source table that maps and
        validates (Export, for certification and reconciliation)."""
        for mapping in self.mappings:
            if mapping.standard != standard:
                continue
            fields = {f.name: f for f in standards.catalogue().get(mapping.standard, mapping.version).fields}
            database = FrontDatabase(mapping)
            try:
                after = None
                while True:
                    page = database.read(since=None, after=after, limit=mapping.batch_size)
                    for raw in page.rows:
                        row = map_row(raw, mapping, fields)
                        on = self._today or date.today()
                        findings = local_findings(row, mapping, on=on, destination=None)
                        if any(f.severity == "error" for f in findings):
                            continue
                        yield Record(
                            mapping.standard, mapping.version, row.cd_id, row.payload,
                            operation=row.operation, batch_id=row.batch,  # type: ignore[arg-type]
                        )  # fmt: skip
                    if not page.more:
                        break
                    after = page.cursor
            finally:
                database.close()

    def handle_delivered(self, message: exchange_pb2.Message, *, now: datetime) -> Handling:
        """Write the delivered message into the inbound table (once); the department answers in its tables."""
        self.inbound.write(message, now=now)
        try:
            title = str(json.loads(message.payload).get("taskInfo", {}).get("taskName", ""))
        except (ValueError, AttributeError):
            title = ""
        item = WorkItem(
            message.correlation_id, message.standard, message.sender, message.message_id, now, title
        )
        return Handling((item,) if message.correlation_id else ())
