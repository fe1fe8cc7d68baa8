"""The federation scenario of ``jgx demo``: every act over real gRPC with mTLS, each one checking itself.

    1 the national side writes a supervision task (with a risk-warning clue) and a malformed one into its
      front database; the province's national bridge reads them: the task goes through the hub to market
      regulation, the malformed one is refused with its reason written back
    2 认领 (claim) up into the national up-table   3 inspection, 反馈 (feedback) up; the national side 结束
    4 川渝: a clue to a retired 渝北 code is refused; to 两江新区 it goes masked; Chongqing claims, feeds back
    5 12315 complaints flow in
    6 penalties and spot-check results go up in a cd_batch run; the national side acknowledges, refusing
      one row, and the reconciliation (对账) finds it
    7 a forged and a replayed envelope are rejected (and an exact resend gets the original receipt)
    8 Chongqing's gateway is down: the transfer queues, and completes when it is back
    9 a task nobody claims turns overdue (demo clock advanced past its deadline)

The national acts (1, 2, 3, 6) are in `adapters.demo.national_acts`, the narration in `adapters.demo.stage`.
Every act records expectations (`Stage.expect`); the demo succeeds only when all of them held.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any, TextIO

from adapters.demo import samples
from adapters.demo.national_acts import TASK, NationalActs
from adapters.demo.network import LoopbackNetwork
from adapters.links.chuanyu import ChongqingPlatform, ClueRegionError, Unit, transfer
from adapters.links.inbox import Inbox
from adapters.sdk import Record
from gateway.envelope import seal_message
from gateway.keys import Algorithm, generate_key
from gateway.storage import OutboxState

__all__ = ["TASK", "Scenario"]

OVERDUE_TASK = "LHJG-51-DEMO-0002"
CLUE, QUEUED_CLUE = "CY-XS-DEMO-0001", "CY-XS-DEMO-0002"


class Scenario(NationalActs):
    """The acts, run in order against a started `LoopbackNetwork`, printing as they go."""

    def __init__(self, network: LoopbackNetwork, out: TextIO, *, timeout: float = 10.0) -> None:
        """Drive `network`, narrating to `out`; each wait gives up after `timeout` seconds."""
        super().__init__(network, out, timeout=timeout)
        chongqing = network.gateways["cq.hub"]
        self.chongqing = ChongqingPlatform(
            node_id="cq.hub",
            key=network.key("cq.hub"),
            hub=network.client("cq.hub"),
            inbox=Inbox("cq.hub", lambda: chongqing.store),
        )
        self.cq_unit = Unit(**samples.CHONGQING_UNIT)

    async def close(self) -> None:
        """Close the link clients."""
        await super().close()
        await self.chongqing.hub.close()

    # -- the acts (1, 2, 3 and 6 in `NationalActs`) ---------------------------------------------------
    async def clue_to_chongqing(self) -> None:
        """Act 4: the 川渝 transfer, masked, with Chongqing's 2025 region change; claim and feedback back."""
        self.act(
            4, "川渝违法线索移送与协查反馈", "a Sichuan illegal clue transferred to Chongqing and fed back"
        )
        amr = self.net.departments["sc.amr"]
        try:
            transfer(amr.servicer, samples.clue(self.now(), CLUE, receiver_region="500112"))
            refused = False
        except ClueRegionError as exc:
            refused = True
            self.say(f"渝北区 500112 → {exc.detail}")
        self.expect("已撤销的区划代码被拒绝 / a retired Chongqing region code is refused", refused)
        transfer(amr.servicer, samples.clue(self.now(), CLUE, receiver_region="500157"))
        try:
            arrival = await self.chongqing.wait_for_clue(CLUE, timeout=self.timeout)
        except TimeoutError:
            self.expect("线索已到达重庆 / the clue reached cq.hub", False)
            return
        payload = json.loads(arrival.message.payload)
        view = self.chongqing.partner_view(arrival)
        shown = ", ".join(f"{k}={view[k]}" for k in ("xsbh", "czlx", "jsdwqh", "dsrzjhm", "lxr", "lxdh"))
        self.say(f"重庆平台格式 / in Chongqing's layout: {shown}")
        self.say("（电话前3后4脱敏，当事人证件号因协查需要保留 / phone 前3后4, the party's number kept)")
        self.expect(
            "按 SC-20 川渝协作方规则脱敏 / masked per SC-20 for the partner",
            self.chongqing.masked_as_required(arrival) and "*" in payload["contactPhone"],
        )
        claimed = await self.chongqing.claim(arrival.message, self.cq_unit)
        fed = await self.chongqing.feedback(
            arrival.message,
            self.cq_unit,
            result="已核实发货仓库位置，查获涉嫌侵权白酒 120 瓶。",
            case_no="渝两江市监立〔2026〕18号",
        )
        self.expect(
            "重庆的认领与反馈被枢纽接收 / Chongqing's claim and feedback accepted",
            claimed.accepted and fed.accepted,
        )

        async def fed_back() -> bool:
            return self.state("sc.amr", CLUE) == "fed_back"

        self.expect(
            "协查反馈已送达市场监管局 / the feedback reached sc.amr (已反馈)", await self.until(fed_back)
        )

    async def complaints(self) -> None:
        """Act 5: 12315 complaints and tip-offs flow in to market regulation."""
        self.act(5, "12315 投诉举报流入", "12315 complaints flow in")
        desk = self.net.departments["sc.12315"]
        amr = self.net.departments["sc.amr"]
        before = amr.store.next_seq()
        records = [replace(r, recipient="sc.amr") for r in desk.department.export("SC-11")]
        desk.servicer.send(records)

        async def arrived() -> bool:
            return amr.store.next_seq() - before >= len(records)

        self.expect(
            f"{len(records)} 条投诉举报 (SC-11) 送达市场监管局 / complaints delivered to sc.amr",
            bool(records) and await self.until(arrived),
        )

    async def forged_and_replayed(self) -> None:
        """Act 7: a forged envelope and a replayed message id are rejected with signed receipts."""
        self.act(7, "伪造与重放的报文被拒绝", "a forged and a replayed envelope are rejected")
        client = self.net.departments["sc.12315"].client
        assert client is not None
        fed = self.net.federation
        message = fed.message(
            "sc.12315", "sc.hub", standard="SC-11", payload=_first_payload(self.net, "sc.12315")
        )
        original = fed.envelope(message)
        first = await client.submit(original)
        forged = seal_message(message, generate_key(Algorithm.ED25519)).SerializeToString()
        tampered = bytearray(original)
        tampered[len(tampered) // 2] ^= 0x01
        message.payload = message.payload.replace(b"}", b', "note": "altered"}', 1)
        replayed = fed.envelope(message)  # the same message id, other bytes
        results = {
            "original": first,
            "forged": await client.submit(forged),
            "tampered": await client.submit(bytes(tampered)),
            "replayed": await client.submit(replayed),
            "resent": await client.submit(original),
        }
        for name, result in results.items():
            self.say(f"{name:<9} → {result.outcome} {' '.join(result.reason_codes)}")
        reasons = {name: set(result.reason_codes) for name, result in results.items()}
        self.expect(
            "伪造签名被拒 / the forged envelope is rejected (KEY_UNKNOWN)", "KEY_UNKNOWN" in reasons["forged"]
        )
        self.expect("篡改被拒 / the tampered envelope is rejected", results["tampered"].outcome == "rejected")
        self.expect(
            "重放被拒 / the replayed message id is rejected (REPLAYED)", "REPLAYED" in reasons["replayed"]
        )
        self.expect(
            "原样重发得到原回执 / an exact resend gets the original receipt",
            results["resent"].receipt_envelope == first.receipt_envelope,
        )

    async def peer_down(self) -> None:
        """Act 8: Chongqing's gateway goes down; a transfer queues at the hub and completes on its return."""
        self.act(
            8, "重庆节点宕机：报文排队，恢复后送达", "Chongqing is down: the transfer queues, then completes"
        )
        gateway, hub = self.net.gateways["cq.hub"], self.net.gateways["sc.hub"]
        await gateway.stop()
        transfer(self.net.departments["sc.amr"].servicer, samples.clue(self.now(), QUEUED_CLUE))

        async def retrying() -> bool:
            assert hub.store is not None
            rows = await hub.store.outbox(state=OutboxState.PENDING)
            return any(r.recipient == "cq.hub" and r.attempts >= 2 for r in rows)

        queued = await self.until(retrying)
        if hub.store is not None:
            for row in await hub.store.outbox(state=OutboxState.PENDING):
                self.say(
                    f"outbox #{row.id} → {row.recipient}: {row.attempts} attempts, {row.last_error[:60]}"
                )
        self.expect("报文在枢纽排队重试 / the envelope waits in the hub's outbox", queued)
        await gateway.start()
        try:
            arrival = await self.chongqing.wait_for_clue(QUEUED_CLUE, timeout=self.timeout)
        except TimeoutError:
            self.expect("重庆恢复后送达 / delivered once cq.hub is back", False)
            return
        self.expect("重庆恢复后送达 / delivered once cq.hub is back", True)
        claimed = await self.chongqing.claim(arrival.message, self.cq_unit)
        self.expect("重庆认领排队送达的线索 / Chongqing claims the queued clue", claimed.accepted)

    async def overdue(self) -> list[tuple[str, str, str]]:
        """Act 9: a task nobody claims turns overdue on the demo clock; the overdue items (node, id, due)."""
        self.act(9, "无人认领的任务超期", "a task nobody claims turns overdue")
        now = self.now()
        self.side.publish_task(
            OVERDUE_TASK, samples.spot_check_task(now, OVERDUE_TASK), now, f"{now:%Y%m%d}00003"
        )
        report = await self.bridge.poll()

        async def delivered() -> bool:
            return self.state("sc.sjs", OVERDUE_TASK) == "dispatched"

        self.expect(
            "任务送达双随机系统 / delivered to sc.sjs",
            report.accepted == 1 and await self.until(delivered),
        )
        later = self.now() + timedelta(days=10)
        self.say(f"演示时钟拨快至 / demo clock advanced to {later:%Y-%m-%d}")
        found: list[tuple[str, str, str]] = []
        for node, department in self.net.departments.items():
            for item in department.servicer.worklist.mark_overdue(later):
                found.append((node, item.correlation_id, item.due.isoformat() if item.due else "-"))
        for node, correlation_id, due in found:
            self.say(f"超期 / overdue: {node:<12} {correlation_id}  due {due}")
        store = self.net.departments["sc.sjs"].directory / "adapter.db"
        self.say(f"jgx lifecycle overdue --store {store} --at {later:%Y-%m-%dT%H:%M:%SZ}")
        self.expect(
            "未认领任务被报告超期 / the unclaimed task is reported overdue",
            any(c == OVERDUE_TASK for _, c, _ in found),
        )
        self.expect(
            "已办结的任务不超期 / the closed task is not overdue", all(c != TASK for _, c, _ in found)
        )
        return found

    async def run(self) -> list[tuple[str, str, str]]:
        """Every act in order; the overdue items found."""
        await self.national_task()
        await self.claim()
        await self.inspect_and_feed_back()
        await self.clue_to_chongqing()
        await self.complaints()
        await self.report_upward()
        await self.forged_and_replayed()
        await self.peer_down()
        return await self.overdue()


def _first_payload(network: LoopbackNetwork, node: str) -> dict[str, Any]:
    records: list[Record] = list(network.departments[node].department.export("SC-11"))
    return dict(records[0].payload)
