"""The national link, running: the national 互联网+监管 system behind its own jgx gateway (``cn.national``).

    national system ─ push_task (superviseData → SC-14) / push_clues (riskWarning → SC-12), signed as
        cn.national, over mTLS ─► sc.hub Exchange.Submit ─► the department's adapter (Adapter.Deliver)
    department ─ 认领 / 反馈 and records reported upward (report_upward: cd_batch runs) ─► sc.hub
        ─► the cn.national gateway (Exchange.Submit) ─► Inbox ─► collect():
            SC-14 replies   → national documents (supervisionProcess: taskDetails, feedbackUnitInfo)
            other records   → front-table rows with cd_id, cd_time, cd_source, cd_batch, cd_operation

The national system signs with the ``cn.national`` key; the hub verifies, logs, receipts and delivers
what it pushes. What comes back up is delivered by the hub's delivery worker to the national gateway,
which judges and logs it in turn; the system reads it from there. The national system tracks each
task's lifecycle (`adapters.lifecycle`) so it can tell what nobody claimed in time. The layouts
themselves are the pure mappings of `adapters.national`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from adapters import national
from adapters.lifecycle import CHINA, Event, IllegalTransition, Item, apply, china_day, dispatch, overdue
from adapters.links.inbox import Arrival, Inbox
from adapters.sdk import AdapterServicer, HubClient, Record, Submitted, seal_record
from gateway._time import utc_now
from gateway.keys import PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

__all__ = ["Collected", "NationalSystem", "Pushed", "report_upward", "used_batches"]

_log = structlog.get_logger("jgx.link.national")
_VERSION = "1.0.0"
_OPERATIONS = {
    exchange_pb2.OPERATION_INSERT: "insert",
    exchange_pb2.OPERATION_UPDATE: "update",
    exchange_pb2.OPERATION_DELETE: "delete",
}



def _wall(now: datetime) -> str:
    return now.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class Pushed:
    """A task or clue the national system pushed down: its ids and the hub's verified receipt."""

    correlation_id: str
    message_id: str
    submitted: Submitted


@dataclass
class Collected:
    """What the national system took from its gateway in one `collect`."""

    documents: list[bytes] = field(default_factory=list)  # SC-14 replies in the national layout (XML)
    replies: list[exchange_pb2.Message] = field(default_factory=list)  # every lifecycle reply
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
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """A national system signing as `node_id`, submitting to the hub through `hub`, reading `inbox`."""
        self.node_id = node_id
        self.key = key
        self.trust = trust
        self.hub = hub
        self.inbox = inbox
        self.clock = clock
        self.items: dict[str, Item] = {}
        self.units: dict[str, tuple[str, str]] = {}  # correlation id -> the dispatching unit (code, name)
        self.sent: list[Pushed] = []
        self.collected = Collected()

    async def _submit(self, record: Record) -> Pushed:
        message, envelope = seal_record(
            record, sender=self.node_id, key=self.key, default_recipient=record.recipient, now=self.clock()
        )
        submitted = await self.hub.submit(envelope)
        pushed = Pushed(record.correlation_id, message.message_id, submitted)
        self.sent.append(pushed)
        if submitted.accepted:
            self._track(record, message.message_id)
            if record.action == "dispatch":
                unit = (str(record.payload["operatorUnitNo"]), str(record.payload["operatorUnitName"]))
                self.units[record.correlation_id] = unit
        _log.info(
            "national.pushed",
            standard=record.standard,
            action=record.action,
            recipient=record.recipient,
            correlation_id=record.correlation_id,
            outcome=submitted.outcome,
        )
        return pushed

    def _track(self, record: Record, message_id: str) -> None:
        today = china_day(self.clock())
        item = self.items.get(record.correlation_id)
        if item is None:
            self.items[record.correlation_id] = dispatch(
                record.correlation_id, record.standard, on=today, message_id=message_id
            )
        else:
            self.items[record.correlation_id] = apply(
                item, Event(record.action), on=today, message_id=message_id
            )

    async def push_task(self, document: bytes, *, recipient: str) -> Pushed:
        """分发: push a national supervision task (``superviseData``, XML or JSON) to `recipient` as SC-14."""
        payload = national.task_from_national(document)
        task_no = str(payload["taskNo"])
        record = Record(
            "SC-14",
            _VERSION,
            task_no,
            payload,
            recipient=recipient,
            correlation_id=task_no,
            action="dispatch",
        )
        return await self._submit(record)

    async def push_clues(
        self, document: bytes, *, recipient: str, unit_no: str, unit_name: str
    ) -> list[Pushed]:
        """分发: push the risk-warning clues riding in a national task's objects to `recipient` as SC-12."""
        pushed = []
        for payload in national.clues_from_national(document, recipient_no=unit_no, recipient_name=unit_name):
            clue = str(payload["fxyjId"])
            record = Record(
                "SC-12", _VERSION, clue, payload, recipient=recipient, correlation_id=clue, action="dispatch"
            )
            pushed.append(await self._submit(record))
        return pushed

    async def close(self, correlation_id: str, *, reason: str = "任务完成") -> Pushed:
        """结束: close a task or clue that was fed back, telling the unit that worked on it."""
        item = self.items.get(correlation_id)
        if item is None:
            raise IllegalTransition(correlation_id, None, Event.CLOSE)
        apply(item, Event.CLOSE, on=china_day(self.clock()))  # refuse before anything is sent
        last = next(m for m in reversed(self.collected.replies) if m.correlation_id == correlation_id)
        unit_no, unit_name = self.units[correlation_id]
        record = close_record(last, unit_no=unit_no, unit_name=unit_name, reason=reason, now=self.clock())
        return await self._submit(record)

    async def collect(self) -> Collected:
        """Read the gateway's new arrivals: lifecycle replies and national documents, records as rows."""
        new = Collected()
        for arrival in await self.inbox.poll():
            message = arrival.message
            if message.action and message.correlation_id:
                self._reply(arrival, new)
            else:
                new.rows.append(self._row(arrival))
        self.collected.documents += new.documents
        self.collected.replies += new.replies
        self.collected.rows += new.rows
        return new

    def _reply(self, arrival: Arrival, new: Collected) -> None:
        message = arrival.message
        new.replies.append(message)
        item = self.items.get(message.correlation_id)
        if item is not None:
            try:
                self.items[message.correlation_id] = apply(
                    item, Event(message.action), on=china_day(arrival.time), message_id=message.message_id
                )
            except (IllegalTransition, ValueError) as exc:
                _log.warning(
                    "national.reply_out_of_order",
                    correlation_id=message.correlation_id,
                    action=message.action,
                    detail=str(exc),
                )
        if message.standard == "SC-14":
            new.documents.append(national.task_to_national(json.loads(message.payload)))

    def _row(self, arrival: Arrival) -> dict[str, Any]:
        message = arrival.message
        node = self.trust.nodes.get(message.sender)
        region = node.region if node is not None and node.region else "510000"
        return national.upward_row(
            json.loads(message.payload),
            business_key=message.business_key,
            operation=_OPERATIONS.get(message.operation, "insert"),
            batch=message.batch_id,
            source_region=f"{region[:2]}0000",
            department_code=(node.uscc if node and node.uscc else message.sender),
            now=arrival.time,
            extra=(("standard", message.standard),),
        )

    def overdue(self, now: datetime) -> list[Item]:
        """The pushed tasks and clues whose clock ran out by `now` (nobody claimed or fed back in time)."""
        return overdue(self.items.values(), now)


def close_record(
    last: exchange_pb2.Message, *, unit_no: str, unit_name: str, reason: str, now: datetime
) -> Record:
    """结束: the close of the task or clue that `last` (the unit's reply) answers, addressed to that unit."""
    reply = json.loads(last.payload)
    payload: dict[str, Any] = {
        "action": "close",
        "actionTime": _wall(now),
        "operatorUnitNo": unit_no,
        "operatorUnitName": unit_name,
    }
    if last.standard == "SC-14":
        unit = {k: v for k, v in dict(reply.get("taskDetails", {})).items() if k.startswith("union")}
        payload |= {
            "taskNo": last.correlation_id,
            "status": "4",
            "taskDetails": {**unit, "endTime": _wall(now), "endReason": reason},
        }
    else:
        payload |= {"fxyjId": last.correlation_id, "endReason": reason}
    return Record(
        last.standard,
        last.standard_version,
        last.correlation_id,
        payload,
        recipient=last.sender,
        correlation_id=last.correlation_id,
        action="close",
        in_reply_to=last.message_id,
    )


def used_batches(servicer: AdapterServicer) -> list[str]:
    """The cd_batch ids the adapter has already used (read from its durable outbox)."""
    batches = []
    for pending in servicer.store.outbox():
        body = exchange_pb2.Envelope.FromString(pending.envelope).body
        if batch := exchange_pb2.Message.FromString(body).batch_id:
            batches.append(batch)
    return batches


def report_upward(
    servicer: AdapterServicer, standards: Mapping[str, str] | list[str], *, recipient: str = "cn.national"
) -> tuple[str, list[str]]:
    """上报: sign the department's records of `standards` for the national system as the day's next
    cd_batch run; the batch id and the message ids (the outbox hands them to the hub)."""
    now = servicer.clock()
    batch = national.next_batch(china_day(now), used_batches(servicer))
    records = [
        Record(
            r.standard,
            r.version,
            r.business_key,
            r.payload,
            operation=r.operation,
            recipient=recipient,
            batch_id=batch,
        )
        for standard in standards
        for r in servicer.department.export(standard)
    ]
    return batch, servicer.send(records)
