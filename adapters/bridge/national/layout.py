"""The national front-table layout (国家前置库表结构) as the province's national bridge reads and writes it.

Our reading of the national documents (domain notes §2.1, §2.10, §5.3); where the notes tag a fact as
observed in someone's code [O] or as our inference [I], so is the table here:

    上行 upward (the province writes)
      {p}t_jgxw_check_action   行政检查行为 SC-05: the national element names (checkActionName, …),
                               the table name as observed on a national DDL (tr_t_jgxw_check_action) [O]
      {p}t_jgxw_punish_action  行政处罚行为 SC-06: punishActionName, punishDocumentCode, … [O names, I table]
      {p}t_task_feedback       监管任务认领/反馈 SC-14 replies: taskDetails elements + the superviseData
                               document (XML) of the reply [O elements, I table]
      {p}t_up_record           every other record reported upward: standard + the record as JSON [I]
    下行 downward (the national side writes)
      {p}t_supervise_data      superviseData task documents (XML or JSON), riskWarning clues in them [O]
    回执 acknowledgements (the national side writes) [I: no public spec of national receipts exists]
      {p}t_ack_batch           per cd_batch: rows received and accepted
      {p}t_ack_refused         per refused row: cd_batch, table, cd_id, reason
    读取回写 read-back (the province writes)
      {p}t_supervise_data_read per down row: read | refused, reason codes and message, the message ids sent

Every data table carries the exchange columns cd_id, cd_operation (i/u/d), cd_time, cd_batch
(YYYYMMDD + 5-digit run) and cd_source (province region + department code) [O]. The schema is created
through SQLAlchemy Core, so the same layout stands on PostgreSQL and SQLite (and the other dialects).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

import standards
from adapters.bridge.tables import DatabaseUnavailable

__all__ = ["GENERIC", "UP_TABLES", "NationalTables", "up_table_of"]

#: The upward table of each standard with a national layout; every other standard goes to `GENERIC`.
UP_TABLES: Final[Mapping[str, str]] = {
    "SC-05": "t_jgxw_check_action",
    "SC-06": "t_jgxw_punish_action",
    "SC-14": "t_task_feedback",
}
GENERIC: Final = "t_up_record"
#: The SC-14 reply elements the national task-feedback table carries as columns (supervisionProcess).
TASK_COLUMNS: Final = (
    "taskNo", "status", "unionUnitType", "unionUnitNo", "unionUnitName", "claimTime", "feedbackTime",
    "feedbackSuggestion", "endTime", "endReason",
)  # fmt: skip


def up_table_of(standard: str) -> str:
    """The upward table (without prefix) a record of ``standard`` is written to."""
    return UP_TABLES.get(standard, GENERIC)


def _cd_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("cd_id", sa.String(200), primary_key=True),
        sa.Column("cd_time", sa.DateTime, primary_key=True),
        sa.Column("cd_operation", sa.String(1), nullable=False),
        sa.Column("cd_batch", sa.String(13), nullable=False, index=True),
        sa.Column("cd_source", sa.String(64), nullable=False),
    ]


def _element_columns(standard: str) -> list[sa.Column[object]]:
    """One text column per top-level field of the standard (its names are the national element names)."""
    fields = standards.catalogue().get(standard).fields
    return [sa.Column(f.name, sa.Text) for f in fields if "." not in f.name and "[]" not in f.name]


@dataclass
class NationalTables:
    """The national front tables in one database (and schema), every name behind ``prefix``."""

    engine: sa.Engine
    schema: str | None = None
    prefix: str = ""

    def __post_init__(self) -> None:
        self.metadata = sa.MetaData(schema=self.schema)
        p, m = self.prefix, self.metadata
        self.up: dict[str, sa.Table] = {
            **{
                UP_TABLES[s]: sa.Table(f"{p}{UP_TABLES[s]}", m, *_cd_columns(), *_element_columns(s))
                for s in ("SC-05", "SC-06")
            },
            UP_TABLES["SC-14"]: sa.Table(
                f"{p}{UP_TABLES['SC-14']}", m, *_cd_columns(),
                *(sa.Column(c, sa.Text) for c in TASK_COLUMNS), sa.Column("superviseData", sa.Text),
            ),
            GENERIC: sa.Table(
                f"{p}{GENERIC}", m, *_cd_columns(),
                sa.Column("standard", sa.String(16), nullable=False),
                sa.Column("payload", sa.Text, nullable=False),
            ),
        }  # fmt: skip
        self.down = sa.Table(
            f"{p}t_supervise_data", m, *_cd_columns(), sa.Column("content", sa.Text, nullable=False),
            sa.Index(f"ix_{p}t_supervise_data_change", "cd_time", "cd_id"),
        )  # fmt: skip
        self.read_back = sa.Table(
            f"{p}t_supervise_data_read", m,
            sa.Column("cd_id", sa.String(200), primary_key=True),
            sa.Column("cd_time", sa.DateTime, primary_key=True),
            sa.Column("status", sa.String(16), nullable=False),  # read | refused
            sa.Column("reason_codes", sa.String(500)),
            sa.Column("message", sa.Text),
            sa.Column("message_ids", sa.Text),
            sa.Column("read_at", sa.DateTime, nullable=False),
        )  # fmt: skip
        self.ack_batch = sa.Table(
            f"{p}t_ack_batch", m,
            sa.Column("cd_batch", sa.String(13), primary_key=True),
            sa.Column("received", sa.Integer, nullable=False),
            sa.Column("accepted", sa.Integer, nullable=False),
            sa.Column("ack_time", sa.DateTime, nullable=False),
        )  # fmt: skip
        self.ack_refused = sa.Table(
            f"{p}t_ack_refused", m,
            sa.Column("cd_batch", sa.String(13), primary_key=True),
            sa.Column("table_name", sa.String(64), primary_key=True),
            sa.Column("cd_id", sa.String(200), primary_key=True),
            sa.Column("reason", sa.Text, nullable=False),
        )  # fmt: skip

    def create(self) -> None:
        """Create every table that is absent (an existing table is left as it is)."""
        try:
            self.metadata.create_all(self.engine, checkfirst=True)
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(str(exc), national=True) from None

    def names(self) -> list[str]:
        """Every table's full name, upward first."""
        return [
            t.name for t in (*self.up.values(), self.down, self.read_back, self.ack_batch, self.ack_refused)
        ]
