"""Downward: national tasks (superviseData rows of the national down-table) become SC-14/SC-12 dispatches.

One poll, in the order of `adapters.bridge.runner` and with its journal (`BridgeState`):

    (1) read the down-table after the watermark's look-back window, in (cd_time, cd_id) order (a page never
        splits a cd_time: `adapters.bridge.tables.read_page`); a row without a usable key is refused
    (2) skip rows already read back (journal ``done``)
    (3) map: ``分发`` → the SC-14 dispatch and one SC-12 clue per riskWarning; ``结束`` → the SC-14 close
        of a task the bridge dispatched; a malformed document → a typed refusal (never a crash)
    (4) sign as the province's national-bridge node with idempotent message ids; journal ``pending``
    (5) submit; every receipt is verified
    (6) write each row's outcome to the read-back table: read (every message accepted) or refused, why
    (7) journal the row ``done`` and advance the watermark

Each accepted dispatch and close is also handed to ``track`` (`worklist_tracker`: the bridge node's own
worklist), so the replies the hub later delivers to the bridge are judged against the task's lifecycle
and a task nobody claims in time turns overdue at the bridge too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import SQLAlchemyError

from adapters import national
from adapters.bridge.national.config import NationalLink
from adapters.bridge.national.journal import NationalJournal
from adapters.bridge.national.layout import NationalTables
from adapters.bridge.rows import message_id_for, time_text
from adapters.bridge.runner import Submitter
from adapters.bridge.state import BridgeState, Unfinished
from adapters.bridge.tables import Cursor, DatabaseUnavailable, Page, read_page
from adapters.lifecycle import IllegalTransition, china_day, dispatch
from adapters.links.national import close_record
from adapters.sdk.department import Record
from adapters.sdk.messages import record_message
from adapters.sdk.worklist import Worklist
from gateway._time import utc_now
from gateway.envelope import seal_message
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

__all__ = ["READ", "REFUSED", "DownReport", "NationalDownward", "Tracker", "worklist_tracker"]

log = structlog.get_logger("jgx.bridge.national")
READ, REFUSED = "read", "refused"
_VERSION = "1.0.0"


@dataclass
class DownReport:
    """The account of one poll of the national down-table."""

    read: int = 0  # rows read from the table
    already: int = 0  # read back by an earlier poll
    accepted: int = 0  # rows every message of which the hub accepted
    refused: list[tuple[str, str]] = field(default_factory=list)  # (cd_id, reason)
    sent: list[str] = field(default_factory=list)  # message ids submitted

    def describe(self) -> str:
        """One line for a person, Chinese and English."""
        return (
            f"国家下行表 / national down-table: 读取 / read {self.read}, 已处理 / already {self.already}, "
            f"已下发 / dispatched {self.accepted}, 拒收 / refused {len(self.refused)}"
        )


Tracker = Callable[[Record, str, datetime], None]


@dataclass
class _Outcome:
    """One down row's outcome: refused when it has reason codes."""

    row: dict[str, Any]
    codes: list[str]
    detail: str
    ids: list[str]
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One signed message of a down row (``index`` in the rows read)."""

    index: int
    message_id: str
    envelope: bytes
    record: Record


def worklist_tracker(worklist: Worklist) -> Tracker:
    """Record what the bridge dispatched (and closed) in the bridge node's worklist."""

    def track(record: Record, message_id: str, now: datetime) -> None:
        if record.action == "dispatch":
            if worklist.get(record.correlation_id) is None:
                item = dispatch(
                    record.correlation_id, record.standard, on=china_day(now), message_id=message_id,
                    overrides=worklist.overrides,
                )  # fmt: skip
                worklist.store.save_item(item.correlation_id, item.to_json(), now=now)
            return
        try:
            worklist.reply(record, now, message_id=message_id)
        except (IllegalTransition, ValueError) as exc:  # a resend after a stop: already applied
            log.info("national.track_skipped", correlation_id=record.correlation_id, detail=str(exc))

    return track


def _usable_key(row: dict[str, Any]) -> None:
    """Refuse a down row without a usable business key: message ids derive from its cd_id and cd_time."""
    if row["cd_id"] is None or not str(row["cd_id"]).strip() or not isinstance(row["cd_time"], datetime):
        raise _refusal(
            ReasonCode.MALFORMED,
            f"cd_id“{row['cd_id']}”或 cd_time“{row['cd_time']}”为空，不能作为业务主键 / cd_id "
            f"'{row['cd_id']}' or cd_time '{row['cd_time']}' is empty: not a usable business key",
        )


def _refusal(reason: ReasonCode, detail: str) -> VerificationError:
    return VerificationError(reason, detail)


class NationalDownward:
    """Polls the national down-table and dispatches its tasks and clues through the hub."""

    def __init__(
        self, link: NationalLink, *, tables: NationalTables, state: BridgeState, journal: NationalJournal,
        hub: Submitter, key: PrivateKey, trust: TrustConfig, clock: Callable[[], datetime] = utc_now,
        track: Tracker | None = None,
    ) -> None:  # fmt: skip
        self.link = link
        self.tables = tables
        self.state = state
        self.journal = journal
        self.hub = hub
        self.key = key
        self.trust = trust
        self.clock = clock
        self.track = track

    # -- (3) mapping ----------------------------------------------------------------------------------
    def _recipient(self, info: dict[str, Any]) -> str:
        for key in ("unionDeptNo", "unionRegionNo"):
            if (code := str(info.get(key, ""))) in self.link.routes:
                return self.link.routes[code]
        if not self.link.default_recipient:
            raise _refusal(
                ReasonCode.NOT_ADDRESSED_TO_US,
                f"无路由 / no route for unionDeptNo {info.get('unionDeptNo')!r}, unionRegionNo "
                f"{info.get('unionRegionNo')!r}",
            )
        return self.link.default_recipient

    def records(self, content: bytes, now: datetime) -> list[Record]:
        """The records a national document becomes (raises `VerificationError` when it cannot be used)."""
        tree = national.parse_national(content)
        info = tree["taskInfo"]
        if str(info.get("status", "")) == "结束":
            return [self._close(tree, now)]
        task = national.task_from_national(content)
        recipient = self._recipient(info)
        task_no = str(task["taskNo"])
        records = [
            Record(
                "SC-14",
                _VERSION,
                task_no,
                task,
                recipient=recipient,
                correlation_id=task_no,
                action="dispatch",
            )
        ]
        node = self.trust.nodes.get(recipient)
        unit_no = str(info.get("unionDeptNo") or (node.uscc if node else "") or recipient)[:18]
        unit_name = str(info.get("unionDeptName") or (node.name_zh if node else recipient))
        for clue in national.clues_from_national(content, recipient_no=unit_no, recipient_name=unit_name):
            fxyj = str(clue["fxyjId"])
            records.append(
                Record(
                    "SC-12", _VERSION, fxyj, clue, recipient=recipient, correlation_id=fxyj, action="dispatch"
                )
            )
        return records

    def _close(self, tree: dict[str, Any], now: datetime) -> Record:
        info = tree["taskInfo"]
        task_no = str(info.get("taskNo", ""))
        last = self.journal.last_reply(task_no)
        if last is None:
            raise _refusal(
                ReasonCode.RULE_VIOLATION,
                f"任务 {task_no} 未经本桥下发或尚无回复，不能结束 / task {task_no!r} has no reply to close",
            )
        process = tree.get("supervisionProcess", {})
        details = process.get("taskDetails", [{}]) if isinstance(process, dict) else [{}]
        first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
        return close_record(
            exchange_pb2.Message.FromString(last),
            unit_no=str(info.get("initiateUnitNo", "")),
            unit_name=str(info.get("initiateUnitName", "")),
            reason=str(first.get("endReason") or "任务结束"),
            now=now,
        )

    # -- (1)–(7) --------------------------------------------------------------------------------------
    def _read(self, since: datetime | None, after: Cursor | None) -> Page:
        down = self.tables.down
        try:
            with self.tables.engine.connect() as connection:
                return read_page(
                    connection, sa.select(down), down.c.cd_time, down.c.cd_id, time_key="cd_time",
                    since=since, after=after, limit=self.link.batch_size,
                )  # fmt: skip
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(str(exc), national=True) from None

    def _seal(self, record: Record, message_id: str, now: datetime) -> bytes:
        message = record_message(
            record, sender=self.link.node, default_recipient=record.recipient, now=now,
            message_id=lambda: message_id,
        )  # fmt: skip
        return seal_message(message, self.key).SerializeToString()

    def _prepare(
        self, rows: Sequence[dict[str, Any]], keys: dict[int, str], report: DownReport, now: datetime
    ) -> tuple[list[_Outcome], list[_Outgoing]]:
        """(2)–(4): each row mapped and signed, or refused; the signed envelopes journaled ``pending``."""
        seen = self.state.entries(keys.values())
        outcomes: list[_Outcome] = []
        outgoing: list[_Outgoing] = []
        fresh: list[Unfinished] = []
        for index, row in enumerate(rows):
            report.read += 1
            entry = seen.get(keys[id(row)])
            if entry is not None and entry.done:
                report.already += 1
                continue
            try:
                _usable_key(row)
                records = self.records(str(row["content"]).encode("utf-8"), now)
            except VerificationError as exc:
                log.warning(
                    "national.refused", cd_id=row["cd_id"], reason=exc.reason.value, detail=exc.detail
                )
                outcomes.append(_Outcome(row, [exc.reason.value], exc.detail, []))
                continue
            ids = [f"{keys[id(row)]}-{n}" for n in range(len(records))]
            pending = self.state.entries(ids)
            for message_id, record in zip(ids, records, strict=True):
                earlier = pending.get(message_id)
                if earlier is not None and earlier.envelope is not None:  # sent before a stop: same bytes
                    outgoing.append(_Outgoing(index, message_id, earlier.envelope, record))
                    continue
                envelope = self._seal(record, message_id, now)
                fresh.append(
                    Unfinished(
                        message_id,
                        str(row["cd_id"]),
                        row["cd_time"],
                        row["cd_time"].isoformat(sep=" "),
                        str(row.get("cd_operation") or "i").upper(),
                        envelope,
                    )
                )
                outgoing.append(_Outgoing(index, message_id, envelope, record))
            outcomes.append(_Outcome(row, [], "", ids))
        self.state.pending(self.tables.down.name, fresh)  # (4) committed before the first byte leaves
        return outcomes, outgoing

    async def _rows(self, rows: Sequence[dict[str, Any]], report: DownReport) -> None:
        source, now = self.tables.down.name, self.clock()
        keys = {id(r): message_id_for(source, str(r["cd_id"]), time_text(r["cd_time"])) for r in rows}
        outcomes, outgoing = self._prepare(rows, keys, report, now)
        receipts = await self.hub.submit_many([o.envelope for o in outgoing]) if outgoing else []  # (5)
        by_row = {id(o.row): o for o in outcomes}
        for sent, submitted in zip(outgoing, receipts, strict=True):
            report.sent.append(sent.message_id)
            outcome = by_row[id(rows[sent.index])]
            if submitted.accepted:
                if self.track is not None:
                    self.track(sent.record, sent.message_id, now)
                continue
            if list(submitted.reason_codes) == [ReasonCode.REPLAYED.value]:
                # our own id, derived from the row, signed afresh after the state file was lost: the hub
                # already has this message, so the row's read-back stands and is not written over
                outcome.replayed = True
                continue
            outcome.codes.extend(submitted.reason_codes or ["REJECTED"])
            findings = [f"{f.rule_id} {f.pointer or '/'} {f.message_zh}" for f in submitted.receipt.findings]
            outcome.detail = "; ".join(["枢纽拒收 / refused by the hub", *findings])
        written, keep = [], set()
        for outcome in outcomes:  # a row whose key the read-back table cannot hold is refused, not written
            unkeyed = outcome.row["cd_id"] is None or not isinstance(outcome.row["cd_time"], datetime) or (
                self.tables.engine.dialect.name in ("oracle", "dm") and not outcome.row["cd_id"]
            )
            cd_id = str(outcome.row["cd_id"])
            if outcome.replayed and not outcome.codes:
                keep.add(cd_id)
                report.already += 1
            elif outcome.codes:
                report.refused.append((cd_id, f"{' '.join(dict.fromkeys(outcome.codes))}: {outcome.detail}"))
            else:
                report.accepted += 1
            if unkeyed:
                continue
            written.append({
                "cd_id": cd_id, "cd_time": outcome.row["cd_time"],
                "status": REFUSED if outcome.codes else READ,
                "reason_codes": " ".join(dict.fromkeys(outcome.codes)), "message": outcome.detail,
                "message_ids": " ".join(outcome.ids), "read_at": now.replace(tzinfo=None),
            })  # fmt: skip
        await asyncio.to_thread(self._write_back, written, frozenset(keep))  # (6)
        finished = [(keys[id(o.row)], o.row["cd_time"] or datetime.min) for o in outcomes]
        self.state.done(source, finished)  # (7)
        self.state.done(source, [(o.message_id, rows[o.index]["cd_time"]) for o in outgoing])
        times = [r["cd_time"] for r in rows if isinstance(r["cd_time"], datetime)]
        if times:
            self.state.advance(source, max(times))

    def _write_back(self, rows: Sequence[dict[str, Any]], keep: frozenset[str]) -> None:
        """Write each row's outcome; a row in ``keep`` is only added when absent, never written over."""
        table = self.tables.read_back
        try:
            with self.tables.engine.begin() as connection:
                for row in rows:
                    key = sa.and_(table.c.cd_id == row["cd_id"], table.c.cd_time == row["cd_time"])
                    if row["cd_id"] in keep:
                        if not connection.execute(sa.select(sa.func.count()).where(key)).scalar_one():
                            connection.execute(sa.insert(table).values(**row))
                        continue
                    if connection.execute(sa.update(table).where(key).values(**row)).rowcount == 0:
                        connection.execute(sa.insert(table).values(**row))
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(str(exc), national=True) from None

    async def poll(self) -> DownReport:
        """One pass over the down-table from the watermark's look-back window to its end."""
        source = self.tables.down.name
        watermark = self.state.watermark(source)
        since = watermark - timedelta(seconds=self.link.lookback_seconds) if watermark else None
        report, after = DownReport(), None
        while True:
            page = await asyncio.to_thread(self._read, since, after)  # (1)
            if not page.rows:
                break
            await self._rows(page.rows, report)
            after = page.cursor
            if not page.more:
                break
        if since is not None:
            self.state.prune(source, since)
        log.info("national.polled", read=report.read, accepted=report.accepted, refused=len(report.refused))
        return report
