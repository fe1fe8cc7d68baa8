"""The department side of the national link: records reported upward in cd_batch runs, and the 结束 record.

The national 互联网+监管 system runs no jgx: it exchanges through its front database (前置库). The
province runs the national bridge (`adapters.bridge.national`, node ``sc.national-bridge``) which writes
what the hub delivers to it into the national up-tables and dispatches the national down-table's tasks:

    department ─ report_upward (a cd_batch run of its records) / 认领 / 反馈 ─► sc.hub
        ─► sc.national-bridge (Adapter.Deliver) ─► national up-tables, in the bridge's cd_batch runs
    national down-table (superviseData) ─► sc.national-bridge ─► sc.hub ─► the department
        (结束 rows become the `close_record` of the task's last reply)

The layouts themselves are the pure mappings of `adapters.national`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters import national
from adapters.lifecycle import CHINA, china_day
from adapters.sdk import AdapterServicer, Record
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.testing import NATIONAL_BRIDGE

__all__ = ["close_record", "report_upward", "used_batches"]


def _wall(now: datetime) -> str:
    return now.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


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
    servicer: AdapterServicer, standards: Mapping[str, str] | list[str], *, recipient: str = NATIONAL_BRIDGE
) -> tuple[str, list[str]]:
    """上报: sign the department's records of `standards` for the national system (the province's national
    bridge writes them to the national front database) as the department's next cd_batch run; the batch
    id and the message ids (the outbox hands them to the hub)."""
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
