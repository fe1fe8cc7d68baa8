"""The national link, running: the national 互联网+监管 system behind its own jgx gateway (``cn.national``).

    national system ──push_task / push_clue (SC-14 / SC-12, signed as cn.national)──► sc.hub ─► department
    department ─► sc.hub ─► cn.national gateway (Exchange.Submit) ──► Inbox ──► collect():
        认领 / 反馈 of tasks and clues   → the national feedback layout (supervisionProcess, feedbackUnitInfo)
        records reported upward        → front-table rows with cd_id, cd_time, cd_source, cd_batch, cd_operation

The national system signs with the ``cn.national`` key and submits over mTLS to the provincial hub,
which verifies, logs, receipts and delivers; what comes back up is delivered by the hub's delivery
worker to the national gateway, which judges and logs it in turn; the system reads it from there.
The national system tracks each task's lifecycle (`adapters.lifecycle`) so it can tell what is overdue.

The mapping between the national layout and the standard records is pure (`adapters.links.layout`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from adapters.lifecycle import Event, IllegalTransition, Item, apply, china_day, dispatch, overdue
from adapters.links import layout
from adapters.links.inbox import Arrival, Inbox
from adapters.sdk import HubClient, Record, Submitted, seal_record
from gateway.keys import PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

__all__ = ["Collected", "NationalSystem", "Pushed"]

_log = structlog.get_logger("jgx.link.national")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Pushed:
    """A task or clue the national system pushed down: its ids and the hub's verified receipt."""

    correlation_id: str
    message_id: str
    submitted: Submitted


@dataclass
class Collected:
    """What the national system took from its gateway in one `collect`."""

    feedback: list[dict[str, Any]] = field(default_factory=list)  # national feedback documents
    rows: list[dict[str, Any]] = field(default_factory=list)  # front-table rows with cd_* columns


class NationalSystem:
    """The national system's side of the link: pushes tasks and clues, collects feedback and records."""

    def __init__(
        self,
        *,
        node_id: str,
        key: PrivateKey,
        trust: TrustConfig,
        hub: HubClient,
        inbox: Inbox,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """A national system signing as `node_id`, submitting to the hub through `hub`, reading `inbox`."""
        self.node_id = node_id
        self.key = key
        self.trust = trust
        self.hub = hub
        self.inbox = inbox
        self.clock = clock
        self.items: dict[str, Item] = {}
        self.sent: list[Pushed] = []
        self.feedback: list[dict[str, Any]] = []
        self.rows: list[dict[str, Any]] = []

    async def _submit(self, record: Record) -> Pushed:
        message, envelope = seal_record(
            record, sender=self.node_id, key=self.key, default_recipient=record.recipient, now=self.clock()
        )
        submitted = await self.hub.submit(envelope)
        pushed = Pushed(record.correlation_id, message.message_id, submitted)
        self.sent.append(pushed)
        _log.info(
            "national.pushed", standard=record.standard, action=record.action, recipient=record.recipient,
            correlation_id=record.correlation_id, outcome=submitted.outcome,
        )  # fmt: skip
        return pushed

    def _track(self, record: Record, pushed: Pushed) -> None:
        if not pushed.submitted.accepted:
            return
        today = china_day(self.clock())
        item = self.items.get(record.correlation_id)
        if record.action == Event.DISPATCH and item is None:
            self.items[record.correlation_id] = dispatch(
                record.correlation_id, record.standard, on=today, message_id=pushed.message_id
            )
        elif item is not None:
            self.items[record.correlation_id] = apply(
                item, Event(record.action), on=today, message_id=pushed.message_id
            )

    async def push_task(self, document: Mapping[str, Any], *, recipient: str) -> Pushed:
        """分发: push a supervision task in the national layout (``superviseData``) to `recipient` as SC-14."""
        record = layout.task_record(document, recipient=recipient, now=self.clock())
        pushed = await self._submit(record)
        self._track(record, pushed)
        return pushed

    async def push_clue(self, warning: Mapping[str, Any], *, recipient: str, unit: Mapping[str, str]) -> Pushed:
        """分发: push a risk-warning clue (national ``riskWarning``) to `recipient` as SC-12."""
        record = layout.clue_record(warning, recipient=recipient, unit=unit, now=self.clock())
        pushed = await self._submit(record)
        self._track(record, pushed)
        return pushed

    async def close(self, correlation_id: str, *, reason: str = "任务完成") -> Pushed:
        """结束: close a task or clue that was fed back, telling the unit that worked on it."""
        item = self.items.get(correlation_id)
        if item is None:
            raise IllegalTransition(correlation_id, None, Event.CLOSE)
        apply(item, Event.CLOSE, on=china_day(self.clock()))  # refuse before anything is sent
        last = next(
            a.message for a in reversed(self.inbox.arrivals) if a.message.correlation_id == correlation_id
        )
        record = layout.close_record(last, unit=_unit_of(self.trust, self.node_id), reason=reason,
                                     now=self.clock())  # fmt: skip
        pushed = await self._submit(record)
        self._track(record, pushed)
        return pushed

    async def collect(self) -> Collected:
        """Read the gateway's new arrivals: lifecycle replies become national feedback, records become rows."""
        collected = Collected()
        for arrival in await self.inbox.poll():
            message = arrival.message
            if message.action and message.correlation_id:
                self._reply(arrival, collected)
            else:
                row = layout.front_row(message, received_at=arrival.time, source=_source_of(self.trust, message))
                collected.rows.append(row)
        self.feedback.extend(collected.feedback)
        self.rows.extend(collected.rows)
        return collected

    def _reply(self, arrival: Arrival, collected: Collected) -> None:
        message = arrival.message
        item = self.items.get(message.correlation_id)
        if item is not None:
            try:
                self.items[message.correlation_id] = apply(
                    item, Event(message.action), on=china_day(arrival.time), message_id=message.message_id
                )
            except (IllegalTransition, ValueError) as exc:
                _log.warning("national.reply_out_of_order", correlation_id=message.correlation_id,
                             action=message.action, detail=str(exc))  # fmt: skip
        collected.feedback.append(layout.feedback_document(message))

    def overdue(self, now: datetime) -> list[Item]:
        """The pushed tasks and clues whose clock ran out by `now` (nobody claimed or fed back in time)."""
        return overdue(self.items.values(), now)


def _unit_of(trust: TrustConfig, node_id: str) -> dict[str, str]:
    node = trust.node(node_id)
    return {"unitNo": node.uscc or layout.NATIONAL_UNIT["unitNo"], "unitName": node.name_zh}


def _source_of(trust: TrustConfig, message: exchange_pb2.Message) -> str:
    """cd_source: 省份区划代码 + 部门编码 of the reporting node."""
    node = trust.nodes.get(message.sender)
    if node is None:
        return message.sender
    return f"{(node.region or '')[:2]}0000{node.uscc or node.node_id}"


def payload_of(message: exchange_pb2.Message) -> dict[str, Any]:
    """The message's JSON payload."""
    value: dict[str, Any] = json.loads(message.payload)
    return value
