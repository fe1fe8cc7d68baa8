"""Reconciliation (对账): what the bridge wrote per cd_batch against what the national side acknowledged.

For every batch the journal records as written, the national side's acknowledgement (t_ack_batch: rows
received and accepted; t_ack_refused: each refused row and why) is compared with the rows written:

    ok          every written row acknowledged as accepted
    refused     the national side refused rows (listed with their reasons)
    missing     fewer rows acknowledged (accepted + refused) than written
    pending     no acknowledgement yet
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from adapters.bridge.national.layout import NationalTables
from adapters.bridge.tables import DatabaseUnavailable

__all__ = ["BatchCheck", "reconcile", "render"]

OK, REFUSED, MISSING, PENDING = "ok", "refused", "missing", "pending"
_WORDS = {OK: "一致 ok", REFUSED: "有拒收 refused", MISSING: "有缺失 missing", PENDING: "未回执 pending"}


@dataclass(frozen=True, slots=True)
class BatchCheck:
    """One cd_batch reconciled."""

    cd_batch: str
    written: int
    received: int | None  # None: not acknowledged yet
    accepted: int | None
    refused: tuple[tuple[str, str, str], ...] = field(default=())  # (table, cd_id, reason)

    @property
    def status(self) -> str:
        """ok, refused, missing or pending."""
        if self.accepted is None:
            return PENDING
        if self.refused:
            return REFUSED
        if self.accepted < self.written:
            return MISSING
        return OK


def compare(
    written: Mapping[str, Sequence[tuple[str, str]]],
    acks: Mapping[str, tuple[int, int]],
    refused: Mapping[str, Sequence[tuple[str, str, str]]],
) -> list[BatchCheck]:
    """Pure: the written batches against the acknowledgements (batch → (received, accepted))."""
    checks = []
    for batch, rows in sorted(written.items()):
        ack = acks.get(batch)
        checks.append(
            BatchCheck(
                batch,
                len(rows),
                ack[0] if ack else None,
                ack[1] if ack else None,
                tuple(refused.get(batch, ())),
            )
        )
    return checks


def reconcile(tables: NationalTables, written: Mapping[str, Sequence[tuple[str, str]]]) -> list[BatchCheck]:
    """Read the national acknowledgements and compare them with ``written`` (the journal's batches)."""
    batch, rows = tables.ack_batch, tables.ack_refused
    try:
        with tables.engine.connect() as connection:
            acks = {
                r.cd_batch: (int(r.received), int(r.accepted))
                for r in connection.execute(sa.select(batch.c.cd_batch, batch.c.received, batch.c.accepted))
            }
            refused: dict[str, list[tuple[str, str, str]]] = {}
            query = sa.select(rows.c.cd_batch, rows.c.table_name, rows.c.cd_id, rows.c.reason).order_by(
                rows.c.cd_batch, rows.c.table_name, rows.c.cd_id
            )
            for r in connection.execute(query):
                refused.setdefault(r.cd_batch, []).append((r.table_name, r.cd_id, r.reason))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(str(exc), national=True) from None
    return compare(written, acks, refused)


def render(checks: Sequence[BatchCheck]) -> list[str]:
    """The bilingual table a person reads."""
    lines = [
        f"{'批次 cd_batch':<16} {'写入 written':>12} {'收到 received':>14} {'接收 accepted':>14}"
        "  状态 status",
    ]
    for c in checks:
        received = "-" if c.received is None else str(c.received)
        accepted = "-" if c.accepted is None else str(c.accepted)
        lines.append(f"{c.cd_batch:<16} {c.written:>12} {received:>14} {accepted:>14}  {_WORDS[c.status]}")
        if c.status == MISSING:
            lines.append(
                f"    缺失 / unacknowledged: {c.written - (c.accepted or 0) - len(c.refused)} 行 / rows"
            )
        for table, cd_id, reason in c.refused:
            lines.append(f"    拒收 / refused: {table} {cd_id}: {reason}")
    if not checks:
        lines.append("（尚无已写入的批次 / no batch written yet）")
    return lines
