"""The 川渝 link, running: illegal-clue transfer and assistance requests (SC-13) to and from Chongqing.

    Sichuan department (sc.amr) ─ transfer(): region codes checked, SC-20 partner masking, signed ─►
        its outbox ─► sc.hub ─► Chongqing gateway cq.hub (Exchange.Submit)
    Chongqing platform ─ Inbox ─ partner layout (to_chongqing) ─ claim() / feedback() written in the
        partner layout (from_chongqing) ─ signed as cq.hub ─► sc.hub ─► sc.amr (Adapter.Deliver)

Personal information leaves the province masked for the partner destination (SC-20 profile
``partner`` with SC-13's exception: phones 前3后4, the party's number kept for the investigation).
`transfer(..., seal=("/partyIdCode",))` also seals the party's number for the partner's SM2 key (wire.md
§12): the hub validates the clear fields and logs only the ciphertext, and the platform opens it with its
own key (`ChongqingPlatform.record`). Before signing, the clue is judged as the hub's step 8 will judge
it (`gateway.validation.judge_payload`), so one the hub would refuse is refused here (`LocallyRefused`).
Masking happens before signing, because the hub forwards the exact envelope bytes; the Chongqing side
checks that what arrived is masked (masking it again changes nothing). Region codes of both provinces
are accepted as in force on the day: after 2025-11-06 Chongqing's 江北区 (500105) and 渝北区 (500112)
are gone and 两江新区 (500157) exists. The mappings are the pure ones of `adapters.chuanyu`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import structlog

from adapters.chuanyu import ACTION_WORDS, CQ_FIELDS, from_chongqing, region_problem, to_chongqing
from adapters.lifecycle import CHINA, china_day
from adapters.links.inbox import Arrival, Inbox
from adapters.sdk import (
    AdapterServicer,
    Handling,
    HubClient,
    LocallyRefused,
    Record,
    Submitted,
    record_message,
    seal_record,
)
from gateway._time import utc_now
from gateway.envelope import seal_message
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.sealed_records import open_payload
from gateway.validation import held_keys, judge_payload

__all__ = [
    "PARTNER",
    "ChongqingPlatform",
    "ClueRegionError",
    "Unit",
    "mask_for_partner",
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



def mask_for_partner(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The SC-13 payload as SC-20 lets it leave for the 川渝 partner (the party's number stays)."""
    import standards

    return standards.mask(dict(payload), PARTNER, standard="SC-13")


def transfer(
    servicer: AdapterServicer,
    clue: Mapping[str, Any],
    *,
    recipient: str = "cq.hub",
    seal: Sequence[str] = (),
) -> str:
    """移送: sign a Sichuan department's SC-13 clue (masked for the partner) into its outbox; the message id.

    The department tracks the clue as its own work item (分发 by it, 认领 and 反馈 by the partner), so
    the partner's replies are accepted when they arrive. `ClueRegionError` when a region code is not
    in force on the transfer day. `seal` names fields sealed for the recipient's SM2 key (e.g.
    ``("/partyIdCode",)``); `LocallyRefused` when the hub's step 8 would refuse the clue as sealed.
    """
    now = servicer.clock()
    for name in _REGION_FIELDS:
        if (problem := region_problem(str(clue.get(name, "")), china_day(now))) is not None:
            raise ClueRegionError(f"{name}: {problem}")
    payload = mask_for_partner(clue)
    clue_no = str(clue["clueNo"])
    record = Record(
        "SC-13", "1.0.0", clue_no, payload, recipient=recipient, correlation_id=clue_no, action="dispatch",
        seal=tuple(seal),
    )  # fmt: skip
    trust = servicer.trust
    message = record_message(
        record, sender=servicer.identity.node_id, default_recipient=recipient, now=now, trust=trust
    )
    verdict = judge_payload(
        message.payload, "SC-13", "1.0.0", on=now.date(), destination=trust.destination_of(recipient),
        recipient=recipient, held=held_keys(trust, recipient),
    )  # fmt: skip
    if not verdict.accepted:
        raise LocallyRefused(verdict)
    servicer.worklist.record(message, Handling(), now)
    envelope = seal_message(message, servicer.identity.key).SerializeToString()
    servicer.store.enqueue(
        message_id=message.message_id,
        envelope=envelope,
        now=now,
        correlation_id=clue_no,
        action="dispatch",
    )
    _log.info(
        "chuanyu.transfer", clue=clue_no, recipient=recipient, masked=payload != dict(clue), sealed=list(seal)
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
        clock: Callable[[], datetime] = utc_now,
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

    def record(self, arrival: Arrival) -> dict[str, Any]:
        """The arrived clue's record, the values sealed for this platform's key opened (wire.md §12);
        `SealedValueError` (MALFORMED) when one does not open."""
        return dict(json.loads(open_payload(arrival.message, self.key)))

    def masked_as_required(self, arrival: Arrival) -> bool:
        """True when the clue arrived masked for the partner (masking it again changes nothing)."""
        payload = self.record(arrival)
        return bool(mask_for_partner(payload) == payload)

    def partner_view(self, arrival: Arrival) -> dict[str, Any]:
        """The arrived clue in the Chongqing platform's own layout (``xsbh``, ``lxdh`` …), opened."""
        return to_chongqing(self.record(arrival), on=china_day(arrival.time))

    async def _reply(
        self, dispatch: exchange_pb2.Message, action: str, unit: Unit, extra: Mapping[str, Any]
    ) -> Submitted:
        """Write the reply in the partner layout, map it to SC-13, sign it as cq.hub and submit it."""
        now = self.clock()
        document: dict[str, Any] = {
            CQ_FIELDS["action"]: ACTION_WORDS[action],
            CQ_FIELDS["actionTime"]: now.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            CQ_FIELDS["operatorUnitNo"]: unit.uscc,
            CQ_FIELDS["operatorUnitName"]: unit.name,
            CQ_FIELDS["clueNo"]: dispatch.correlation_id,
            CQ_FIELDS["operatorRegionCode"]: unit.region,
            **{CQ_FIELDS[name]: value for name, value in extra.items()},
        }
        payload = from_chongqing(document, on=china_day(now))
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
