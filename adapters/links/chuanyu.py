"""The 川渝 link, running: illegal-clue transfer and assistance requests (SC-13) to and from Chongqing.

    Sichuan department (sc.amr) ─ transfer(): SC-20 partner masking, region codes checked, signed ─►
        its outbox ─► sc.hub ─► Chongqing gateway cq.hub (Exchange.Submit)
    Chongqing platform ─ Inbox ─ claim() / feedback(): signed as cq.hub ─► sc.hub ─► sc.amr (Adapter.Deliver)

Personal information leaves the province masked for the partner destination (SC-20 profile
``partner``: citizen ID 前6后4, phone 前3后4, …). Masking happens before signing, because the hub
forwards the exact envelope bytes; the Chongqing side checks that what arrived is masked (masking it
again changes nothing). Region codes of both provinces are accepted, as in force on the transfer day:
after 2025-11-06 Chongqing's 江北区 (500105) and 渝北区 (500112) are gone and 两江新区 (500157) exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import structlog

from adapters.lifecycle import CHINA, china_day
from adapters.links.inbox import Arrival, Inbox
from adapters.sdk import AdapterServicer, Handling, HubClient, Record, Submitted, record_message, seal_record
from gateway.envelope import seal_message
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2

__all__ = [
    "PARTNER",
    "ChongqingPlatform",
    "ClueRegionError",
    "mask_for_partner",
    "region_problem",
    "transfer",
]

_log = structlog.get_logger("jgx.link.chuanyu")
#: The SC-20 destination class of the partner platform.
PARTNER: Final = "partner"
_REGION_FIELDS: Final = ("operatorRegionCode", "receiverRegionCode")


class ClueRegionError(VerificationError):
    """A clue names a region code that is not in force on the transfer day (RULE_VIOLATION)."""

    def __init__(self, detail: str) -> None:
        super().__init__(ReasonCode.RULE_VIOLATION, detail)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def mask_for_partner(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The SC-13 payload as SC-20 lets it leave for the 川渝 partner (the party's number stays)."""
    import standards

    return standards.mask(dict(payload), PARTNER, standard="SC-13")


def region_problem(code: str, on: date) -> str | None:
    """Why `code` cannot name a Sichuan or Chongqing unit on `on` (中文 / English); None when it can."""
    from standards.codelists import RegionStatus, region, region_status

    if code[:2] not in ("50", "51"):
        return f"{code} 不属于四川或重庆 / {code} is in neither Sichuan nor Chongqing"
    status = region_status(code, on)
    if status == RegionStatus.NOT_IN_FORCE:
        known = region(code)
        name = known.name_zh if known is not None else ""
        return (
            f"{code} {name} 在 {on.isoformat()} 已不是有效区划代码"
            f" / {code} ({name}) is not in force on {on.isoformat()}"
        )
    if status == RegionStatus.UNKNOWN:
        return f"{code} 不是行政区划代码 / {code} is not a region code"
    return None


def transfer(servicer: AdapterServicer, clue: Mapping[str, Any], *, recipient: str = "cq.hub") -> str:
    """移送: sign a Sichuan department's SC-13 clue (masked for the partner) into its outbox; the message id.

    The department tracks the clue as its own work item (分发 by it, 认领 and 反馈 by the partner), so
    the partner's replies are accepted when they arrive. `ClueRegionError` when a region code is not
    in force on the transfer day.
    """
    now = servicer.clock()
    for name in _REGION_FIELDS:
        if (problem := region_problem(str(clue.get(name, "")), china_day(now))) is not None:
            raise ClueRegionError(f"{name}: {problem}")
    payload = mask_for_partner(clue)
    record = Record(
        "SC-13",
        "1.0.0",
        str(clue["clueNo"]),
        payload,
        recipient=recipient,
        correlation_id=str(clue["clueNo"]),
        action="dispatch",
    )
    message = record_message(record, sender=servicer.identity.node_id, default_recipient=recipient, now=now)
    servicer.worklist.record(message, Handling(), now)
    envelope = seal_message(message, servicer.identity.key).SerializeToString()
    servicer.store.enqueue(
        message_id=message.message_id,
        envelope=envelope,
        now=now,
        correlation_id=message.correlation_id,
        action="dispatch",
    )
    _log.info(
        "chuanyu.transfer", clue=record.correlation_id, recipient=recipient, masked=payload != dict(clue)
    )
    return message.message_id


@dataclass(frozen=True, slots=True)
class Unit:
    """A Chongqing unit acting on a clue."""

    uscc: str
    name: str
    region: str


class ChongqingPlatform:
    """The Chongqing side: receives transferred clues on its gateway and answers them, signed as cq.hub."""

    def __init__(
        self,
        *,
        node_id: str,
        key: PrivateKey,
        hub: HubClient,
        inbox: Inbox,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """The platform signing as `node_id`, submitting through `hub`, reading its gateway's `inbox`."""
        self.node_id = node_id
        self.key = key
        self.hub = hub
        self.inbox = inbox
        self.clock = clock
        self.sent: list[Submitted] = []

    async def wait_for_clue(self, clue_no: str, *, timeout: float = 10.0) -> Arrival:
        """The transferred clue `clue_no` once it has arrived (TimeoutError otherwise)."""
        return await self.inbox.wait_for(
            lambda m: m.standard == "SC-13" and m.correlation_id == clue_no and m.action == "dispatch",
            timeout=timeout,
        )

    @staticmethod
    def masked_as_required(arrival: Arrival) -> bool:
        """True when the clue arrived masked for the partner (masking it again changes nothing)."""
        payload = json.loads(arrival.message.payload)
        return bool(mask_for_partner(payload) == payload)

    async def _reply(
        self, dispatch: exchange_pb2.Message, action: str, unit: Unit, extra: Mapping[str, Any]
    ) -> Submitted:
        now = self.clock()
        payload: dict[str, Any] = {
            "action": action,
            "actionTime": now.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "operatorUnitNo": unit.uscc,
            "operatorUnitName": unit.name,
            "clueNo": dispatch.correlation_id,
            "operatorRegionCode": unit.region,
            **extra,
        }
        record = Record(
            "SC-13",
            dispatch.standard_version,
            dispatch.correlation_id,
            payload,
            recipient=dispatch.sender,
            correlation_id=dispatch.correlation_id,
            action=action,
            in_reply_to=dispatch.message_id,
        )
        _, envelope = seal_record(
            record, sender=self.node_id, key=self.key, default_recipient=dispatch.sender, now=now
        )
        submitted = await self.hub.submit(envelope)
        self.sent.append(submitted)
        _log.info("chuanyu.reply", clue=dispatch.correlation_id, action=action, outcome=submitted.outcome)
        return submitted

    async def claim(self, dispatch: exchange_pb2.Message, unit: Unit) -> Submitted:
        """认领 a transferred clue."""
        return await self._reply(dispatch, "claim", unit, {})

    async def feedback(
        self, dispatch: exchange_pb2.Message, unit: Unit, *, result: str, case_no: str = ""
    ) -> Submitted:
        """协查反馈: what the Chongqing unit found, and the case it filed (if any)."""
        extra: dict[str, Any] = {"assistResult": result, "caseFiled": bool(case_no)}
        if case_no:
            extra["caseNo"] = case_no
        return await self._reply(dispatch, "feedback", unit, extra)
