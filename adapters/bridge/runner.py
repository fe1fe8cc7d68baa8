"""One bridge pass: read new rows by watermark, map, validate, sign, submit, write each verdict back.

A pass is a loop of bounded batches (memory stays flat however large the table). Each batch is
accounted and committed in this order, so a bridge stopped anywhere loses nothing and sends nothing twice:

    (1) read up to ``batch_size`` rows after the cursor, in (cd_time, cd_id) order, and every further row
        of the last cd_time (`adapters.bridge.tables.read_page`: a batch never splits a cd_time)
    (2) map each row; rows already written back (journal ``done``) are skipped
    (3) validate locally as the hub's step 8 will (`gateway.validation.judge_payload`), on the payload as it
        will be sent (fields the mapping seals already sealed); a row that fails is refused here, never sent
    (4) sign the rest with idempotent message ids; journal them ``pending`` (committed) before sending
    (5) submit over one SubmitStream; every receipt is verified against the trust configuration
    (6) write the verdicts back to the result table (one transaction)
    (7) journal the rows ``done`` and advance the watermark

A pass first finishes what a stopped pass left ``pending`` (`Bridge._recover`), from the journal alone: the
same envelopes are sent again (the hub answers one it already has with the original receipt, and logs
one it never got now, before any newer version of the row) and their verdicts are written back under the
row's cd_id and cd_time. This holds whether the source row is still there, was deleted (``vanished``) or
was updated to a new cd_time (``superseded``) in the meantime; the last two are counted in the batch's
account and say so in the result row's messages. No entry stays ``pending`` past the next pass.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Protocol

import structlog

import standards
from adapters.bridge.mapping import BridgeMapping
from adapters.bridge.rows import MappedRow, map_row, time_text
from adapters.bridge.state import SUPERSEDED, VANISHED, BridgeState, Unfinished
from adapters.bridge.tables import DatabaseUnavailable, FrontDatabase
from adapters.bridge.verdicts import (
    ACCEPTED,
    REFUSED_LOCAL,
    REJECTED,
    Verdict,
    local_findings,
    result_row,
    result_values,
    row_message,
    sealing_refusal,
)
from adapters.sdk.client import RetryPolicy, Submitted
from gateway._time import utc_now
from gateway.envelope import seal_message
from gateway.errors import JgxError, ReasonCode, VerificationError
from gateway.keys import PrivateKey
from gateway.trust import TrustConfig
from standards.findings import has_error

__all__ = ["BatchReport", "Bridge", "PassReport", "Submitter"]

log = structlog.get_logger("jgx.bridge")
_RETRYABLE = frozenset({ReasonCode.UNAVAILABLE, ReasonCode.RATE_LIMITED})
_SETTLED_NOTES = {
    VANISHED: "源记录在回写前已删除，按日志中的原报文完成 / the source row was deleted before its verdict "
    "was written back; finished from the journal with the same envelope",
    SUPERSEDED: "源记录在回写前已更新为新的 cd_time，此为旧版本，按日志中的原报文完成 / the source row was "
    "updated to a new cd_time before this version's verdict was written back; finished from the journal "
    "with the same envelope",
}


class Submitter(Protocol):
    """What the bridge needs of the hub: `adapters.sdk.HubClient.submit_many`."""

    async def submit_many(self, envelopes: Sequence[bytes]) -> list[Submitted]: ...


@dataclass(slots=True)
class BatchReport:
    """The account of one batch (批次): rows read, already receipted, sent, and how they ended."""

    read: int = 0
    already: int = 0  # written back by an earlier pass: skipped, not sent again
    sent: int = 0
    accepted: int = 0
    rejected: int = 0  # refused by the hub (logged, receipted)
    refused_local: int = 0  # refused by the bridge before sending
    vanished: int = 0  # finished from the journal: the source row was deleted meanwhile
    superseded: int = 0  # finished from the journal: the source row was updated to a new cd_time meanwhile
    unkeyed: int = 0  # refused locally with no result row: cd_id or cd_time NULL (or empty on Oracle/达梦)
    first: str = ""  # cd_time of the first and last row read
    last: str = ""

    def count(self, verdict: Verdict) -> None:
        """Count one verdict under its status."""
        name = {ACCEPTED: "accepted", REJECTED: "rejected", REFUSED_LOCAL: "refused_local"}[verdict.status]
        setattr(self, name, getattr(self, name) + 1)

    def describe(self) -> str:
        """One line for a person, Chinese and English."""
        return (
            f"批次 / batch {self.first} … {self.last}: 读取 / read {self.read}, "
            f"已回写 / already {self.already}, "
            f"发送 / sent {self.sent}, 接收 / accepted {self.accepted}, 拒收 / rejected {self.rejected}, "
            f"本地拒收未发送 / refused locally, not sent {self.refused_local}" + _unkeyed(self.unkeyed)
            + _settled(self)
        )


def _unkeyed(count: int) -> str:
    """The rows refused without a result row (no usable key), when there are any."""
    if not count:
        return ""
    return f" (其中无业务主键、未回写 / of which no business key, not written back {count})"


def _settled(report: BatchReport | PassReport) -> str:
    if isinstance(report, PassReport):
        vanished, superseded = report.total("vanished"), report.total("superseded")
    else:
        vanished, superseded = report.vanished, report.superseded
    if not vanished and not superseded:
        return ""
    return (
        f", 源记录已删除 / source row deleted {vanished}, "
        f"源记录已更新 / source row updated {superseded} (按日志完成 / finished from the journal)"
    )


@dataclass(slots=True)
class PassReport:
    """The account of one pass over the source table."""

    batches: list[BatchReport] = field(default_factory=list)

    def total(self, name: str) -> int:
        """The sum of one counter over the batches."""
        return sum(int(getattr(b, name)) for b in self.batches)

    def describe(self) -> str:
        """One summary line for a person, Chinese and English."""
        return (
            f"本轮 / pass: 批次 / batches {len(self.batches)}, 读取 / read {self.total('read')}, "
            f"发送 / sent {self.total('sent')}, 接收 / accepted {self.total('accepted')}, "
            f"拒收 / rejected {self.total('rejected')}, "
            f"本地拒收 / refused locally {self.total('refused_local')}" + _unkeyed(self.total("unkeyed"))
            + _settled(self)
        )


class Bridge:
    """A front-database table bridged to the hub as the node ``mapping.node``."""

    def __init__(
        self,
        mapping: BridgeMapping,
        *,
        database: FrontDatabase,
        state: BridgeState,
        hub: Submitter,
        key: PrivateKey,
        trust: TrustConfig,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.mapping = mapping
        self.database = database
        self.state = state
        self.hub = hub
        self.key = key
        self.trust = trust
        self.retry = retry or RetryPolicy(attempts=8, base=0.5, cap=30.0)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.SystemRandom()
        standard = standards.catalogue().get(mapping.standard, mapping.version)
        self.fields = {f.name: f for f in standard.fields}
        self.destination = trust.destination_of(mapping.recipient)

    async def close(self) -> None:
        """Release the database pool, the state file and the hub client."""
        self.database.close()
        self.state.close()
        close = getattr(self.hub, "close", None)
        if close is not None:
            await close()

    async def _batch(self, rows: Sequence[dict[str, object]]) -> BatchReport:
        source, now = self.mapping.table, self._clock()
        mapped = [map_row(row, self.mapping, self.fields) for row in rows]  # (2)
        report = BatchReport(read=len(rows), first=mapped[0].cd_time_text, last=mapped[-1].cd_time_text)
        seen = self.state.entries(m.message_id for m in mapped)
        verdicts: list[tuple[MappedRow, Verdict]] = []
        outgoing: list[tuple[MappedRow, bytes]] = []
        fresh: list[Unfinished] = []
        for row in mapped:
            entry = seen.get(row.message_id)
            if entry is not None and entry.done:
                report.already += 1
                continue
            if entry is not None and entry.envelope is not None:
                # pending in a journal written before entries kept their cd_id (`_recover` finishes the
                # others): sent before a stop, so the same bytes again
                outgoing.append((row, entry.envelope))
                continue
            try:  # (3) judged as the hub's step 8 will judge exactly what is sent (fields sealed)
                message = row_message(row, self.mapping, now=now, trust=self.trust)
                findings = local_findings(
                    row, self.mapping, on=now.date(), destination=self.destination, message=message,
                    trust=self.trust,
                )  # fmt: skip
            except VerificationError as exc:
                message, findings = None, sealing_refusal(exc)
            if message is None or has_error(list(findings)):
                verdicts.append((row, Verdict.refused_locally(findings, now.replace(tzinfo=None))))
                continue
            envelope = seal_message(message, self.key).SerializeToString()  # (4)
            letter = {"insert": "I", "update": "U", "delete": "D"}[row.operation]
            fresh.append(Unfinished(
                row.message_id, row.cd_id, row.cd_time or datetime.min, row.cd_time_text, letter, envelope
            ))  # fmt: skip
            outgoing.append((row, envelope))
        self.state.pending(source, fresh)
        receipts = await self.hub.submit_many([e for _, e in outgoing]) if outgoing else []  # (5)
        verdicts.extend(
            (row, Verdict.from_receipt(r)) for (row, _), r in zip(outgoing, receipts, strict=True)
        )
        # A REPLAYED refusal of one of our own idempotent ids means the hub already has this change (the
        # state file was lost, so it was signed afresh): it must not write over the verdict already there.
        replayed = frozenset(
            r.message_id for r, v in verdicts if v.reason_codes == (ReasonCode.REPLAYED.value,)
        )
        # a row whose cd_id or cd_time the result table cannot hold is refused (BRIDGE.M007 / M004) and
        # counted, but has no result row: writing one would fail the batch's transaction on every pass
        writable = []
        for row, verdict in verdicts:
            if row.keyed and self.database.holds_key(row.cd_id, row.cd_time_text):
                writable.append((row, verdict))
                continue
            report.unkeyed += 1
            log.warning("bridge.unkeyed", table=source, cd_id=row.cd_id, cd_time=row.cd_time_text)
        await asyncio.to_thread(  # (6)
            partial(self.database.write_results, keep=replayed),
            [result_row(self.mapping, r, r.message_id, v) for r, v in writable],
        )
        self.state.done(source, [(r.message_id, r.cd_time or datetime.min) for r, _ in verdicts])  # (7)
        times = [m.cd_time for m in mapped if m.cd_time is not None]
        if times:
            self.state.advance(source, max(times))
        report.sent = len(outgoing)
        for _, verdict in verdicts:
            report.count(verdict)
        return report

    async def _recover(self) -> BatchReport | None:
        """Finish every entry a stopped pass left ``pending``, from the journal (its row may be gone)."""
        source = self.mapping.table
        entries = self.state.unfinished(source)
        if not entries:
            return None
        fates: dict[str, str | None] = {}
        for entry in entries:
            versions = {time_text(v) for v in await asyncio.to_thread(self.database.versions, entry.cd_id)}
            present = entry.cd_time_text in versions
            fates[entry.message_id] = None if present else SUPERSEDED if versions else VANISHED
        report = BatchReport(first=entries[0].cd_time_text, last=entries[-1].cd_time_text, sent=len(entries))
        receipts = await self.hub.submit_many([e.envelope for e in entries])
        rows, replayed = [], set()
        for entry, receipt in zip(entries, receipts, strict=True):
            verdict, fate = Verdict.from_receipt(receipt), fates[entry.message_id]
            if verdict.reason_codes == (ReasonCode.REPLAYED.value,):
                replayed.add(entry.message_id)
            if fate is not None:
                verdict = dataclasses.replace(
                    verdict, messages_zh=(_SETTLED_NOTES[fate], *verdict.messages_zh)
                )
                setattr(report, fate, getattr(report, fate) + 1)
                log.warning("bridge.settled", table=source, cd_id=entry.cd_id, cd_time=entry.cd_time_text,
                            message_id=entry.message_id, why=fate)  # fmt: skip
            report.count(verdict)
            rows.append(result_values(
                self.mapping, entry.cd_id, entry.cd_time_text, entry.operation, entry.message_id, verdict
            ))  # fmt: skip
        await asyncio.to_thread(partial(self.database.write_results, keep=frozenset(replayed)), rows)
        for fate in (None, VANISHED, SUPERSEDED):
            finished = [(e.message_id, e.cd_time) for e in entries if fates[e.message_id] == fate]
            self.state.done(source, finished, settled=fate)
        return report

    async def run_pass(self, report: PassReport | None = None) -> PassReport:
        """One pass from the watermark's look-back window to the end of the table (batches go to ``report``).

        Raises `DatabaseUnavailable` or a `JgxError` (hub unavailable, receipt not verifiable); every
        batch finished before the failure is already written back and journaled.
        """
        source_name = self.mapping.table
        since = self.database.lookback(self.state.watermark(source_name))
        report = report if report is not None else PassReport()
        recovered = await self._recover()
        if recovered is not None:
            report.batches.append(recovered)
        after = None
        while True:
            page = await asyncio.to_thread(  # (1)
                self.database.read, since=since, after=after, limit=self.mapping.batch_size
            )
            if not page.rows:
                break
            batch = await self._batch(page.rows)
            log.info(
                "bridge.batch", table=source_name, read=batch.read, sent=batch.sent, accepted=batch.accepted
            )
            report.batches.append(batch)
            after = page.cursor
            if not page.more:
                break
        if since is not None:
            self.state.prune(source_name, since)
        return report

    async def run_once(self, on_retry: Callable[[int, Exception], None] | None = None) -> PassReport:
        """A pass, retried with backoff while the database or the hub is away (it resumes, not restarts)."""
        report = PassReport()  # batches finished before a failure stay counted
        for attempt in range(self.retry.attempts):
            try:
                return await self.run_pass(report)
            except (DatabaseUnavailable, JgxError) as exc:
                if isinstance(exc, JgxError) and exc.reason not in _RETRYABLE:
                    raise
                if attempt + 1 >= self.retry.attempts:
                    raise
                log.warning("bridge.retry", attempt=attempt + 1, error=str(exc))
                if on_retry is not None:
                    on_retry(attempt + 1, exc)
                await self._sleep(self.retry.delay(attempt, self._rng))
        raise AssertionError("unreachable: the last attempt re-raises")
