"""Backend-neutral SQL of the console's search: one SELECT per query, newest first, keyset-paginated.

Both stores build the same statement; SQLite runs it with ``?`` placeholders and PostgreSQL after
`numbered` turns them into ``$1, $2, …``. Every index a search can use ends in (time_us, log_index),
so a page deep in the results costs what the first page costs.
"""

from __future__ import annotations

from typing import Any

from gateway.storage.base import MessageQuery, MessageSummary
from gateway.storage.sqlite_rows import header_fields, us

__all__ = ["ACCEPTED", "SUMMARY_COLUMNS", "numbered", "search_sql", "summary_row"]

SUMMARY_COLUMNS = (
    "m.log_index, m.kind, m.time_us, m.sender, m.recipient, m.message_id, m.standard, m.standard_version, "
    "m.correlation_id, m.action, m.outcome, m.reason_codes, m.envelope_sha256, m.duplicate_of"
)
ACCEPTED = 1  # exchange_pb2.OUTCOME_ACCEPTED; the storage layer does not import the wire types
_EXACT = ("message_id", "correlation_id", "sender", "recipient", "standard")


def summary_row(row: tuple[Any, ...]) -> MessageSummary:
    """A `MessageSummary` from a row selected with `SUMMARY_COLUMNS`."""
    duplicate_of = row[13]
    return MessageSummary(
        **header_fields(row), duplicate_of=None if duplicate_of is None else int(duplicate_of)
    )


def search_sql(query: MessageQuery, party_clause: str, party: tuple[str, ...]) -> tuple[str, list[object]]:
    """One SELECT for the query; the reason table drives it when a reason code is asked for."""
    conditions: list[str] = []
    params: list[object] = []
    if query.reason:
        source, t, i = (
            "message_reasons r JOIN messages m ON m.log_index = r.log_index",
            "r.time_us",
            "r.log_index",
        )
        conditions.append("r.reason = ?")
        params.append(query.reason)
    else:
        source, t, i = "messages m", "m.time_us", "m.log_index"
    for column in _EXACT:
        value = getattr(query, column)
        if value:
            conditions.append(f"m.{column} = ?")
            params.append(value)
    if query.correlation_id:
        conditions.append("m.correlation_id <> ''")  # lets the planner use the partial index
    if query.outcome is not None:
        conditions.append("m.outcome = ?")
        params.append(query.outcome)
    if query.since is not None:
        conditions.append(f"{t} >= ?")
        params.append(us(query.since))
    if query.until is not None:
        conditions.append(f"{t} < ?")
        params.append(us(query.until))
    if query.after is not None:
        conditions.append(f"({t}, {i}) < (?, ?)")
        params.extend((us(query.after.time), query.after.log_index))
    if party_clause:
        conditions.append(party_clause)
        params.extend(party)
    where = " AND ".join(conditions) or "1 = 1"
    sql = f"SELECT {SUMMARY_COLUMNS} FROM {source} WHERE {where} ORDER BY {t} DESC, {i} DESC LIMIT ?"  # noqa: S608
    params.append(max(0, query.limit))
    return sql, params


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, …`` (the statements here hold no literal ``?``)."""
    parts = sql.split("?")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, 1))
