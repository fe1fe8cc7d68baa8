"""The federation scenario of ``jgx demo``: every act over real gRPC with mTLS, each one checking itself.

    1 national pushes a supervision task carrying a risk-warning clue → hub → market regulation
    2 认领 (claim) up to national            3 inspection records, 反馈 (feedback) up to national, 结束
    4 川渝: a clue to a retired 渝北 code is refused; to 两江新区 it goes masked; Chongqing claims, feeds back
    5 12315 complaints flow in               6 penalties and spot-check results go up with cd_batch ids
    7 a forged and a replayed envelope are rejected (and an exact resend gets the original receipt)
    8 Chongqing's gateway is down: the transfer queues, and completes when it is back
    9 a task nobody claims turns overdue (demo clock advanced past its deadline)

Every act records expectations (`Scenario.expect`); the demo succeeds only when all of them held.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TextIO

from adapters.demo import samples
from adapters.demo.network import LoopbackNetwork
from adapters.links.chuanyu import ChongqingPlatform, ClueRegionError, Unit, transfer
from adapters.links.inbox import Inbox
from adapters.links.national import NationalSystem, report_upward
from adapters.sdk import Record
from gateway.envelope import seal_message
from gateway.keys import Algorithm, generate_key
from gateway.storage import OutboxState

__all__ = ["Scenario"]

TASK, OVERDUE_TASK = "LHJG-51-DEMO-0001", "LHJG-51-DEMO-0002"
CLUE, QUEUED_CLUE = "CY-XS-DEMO-0001", "CY-XS-DEMO-0002"


class Scenario:
    """The acts, run in order against a started `LoopbackNetwork`, printing as they go."""

    def __init__(self, network: LoopbackNetwork, out: TextIO, *, timeout: float = 10.0) -> None:
        """Drive `network`, narrating to `out`; each wait gives up after `timeout` seconds."""
        self.net = network
        self.out = out
        self.timeout = timeout
        self.checks: list[tuple[str, bool]] = []
        self.started = network.departments["sc.amr"].servicer.clock()
        national, chongqing = network.gateways["cn.national"], network.gateways["cq.hub"]
        self.national = NationalSystem(
            node_id="cn.national",
            key=network.key("cn.national"),
            trust=network.trust,
            hub=network.client("cn.national"),
            inbox=Inbox("cn.national", lambda: national.store),
        )
        self.chongqing = ChongqingPlatform(
            node_id="cq.hub",
            key=network.key("cq.hub"),
            hub=network.client("cq.hub"),
            inbox=Inbox("cq.hub", lambda: chongqing.store),
        )
        self.cq_unit = Unit(**samples.CHONGQING_UNIT)

    async def close(self) -> None:
        """Close the link clients."""
        await self.national.hub.close()
        await self.chongqing.hub.close()

    # -- narration and expectations -------------------------------------------------------------------
    def act(self, number: int, zh: str, en: str) -> None:
        """Announce an act."""
        print(f"\n▶ {number}. {zh} / {en}", file=self.out, flush=True)

    def say(self, text: str) -> None:
        """One line of narration."""
        print(f"  {text}", file=self.out, flush=True)

    def expect(self, what: str, held: bool) -> bool:
        """Record an expectation of the scenario and print whether it held."""
        self.checks.append((what, held))
        print(f"  {'✔' if held else '✘'} {what}", file=self.out, flush=True)
        return held

    async def until(self, condition: Callable[[], Awaitable[bool]]) -> bool:
        """Wait until `condition` holds (False when it does not within the timeout)."""
        try:
            async with asyncio.timeout(self.timeout):
                while not await condition():
                    await asyncio.sleep(0.05)
        except TimeoutError:
            return False
        return True

    def now(self) -> datetime:
        """The demo clock (the adapters' clock)."""
        return self.net.departments["sc.amr"].servicer.clock()

    def state(self, node: str, correlation_id: str) -> str:
        """The lifecycle state of a task or clue in a department's worklist."""
        item = self.net.departments[node].servicer.worklist.get(correlation_id)
        return item.state.value if item is not None else "-"

    async def replied(self, correlation_id: str, action: str) -> bool:
        """True once the national system has collected `action` for `correlation_id`."""
        await self.national.collect()
        return any(
            m.correlation_id == correlation_id and m.action == action for m in self.national.collected.replies
        )

    # -- the acts -----------------------------------------------------------------------------------
    async def national_task(self) -> None:
        """Act 1: the national system pushes a task with a risk warning; the hub delivers it to sc.amr."""
        self.act(1, "国家系统下发监管任务（附风险预警线索）", "the national system pushes a supervision task")
        pushed = await self.national.push_task(samples.national_task(self.now(), TASK), recipient="sc.amr")
        receipt = pushed.submitted.receipt
        self.say(
            f"superviseData → SC-14 {TASK}; 枢纽回执 / hub receipt: {pushed.submitted.outcome}, "
            f"log #{receipt.log_index}, signed by {receipt.issuer}"
        )
        self.expect("枢纽接收任务 / the hub accepted the task", pushed.submitted.accepted)

        async def delivered() -> bool:
            return self.state("sc.amr", TASK) == "dispatched"

        self.expect("任务已送达市场监管局 / delivered to sc.amr (已分发)", await self.until(delivered))

    async def claim(self) -> None:
        """Act 2: market regulation claims the task; the claim travels up to the national gateway."""
        self.act(2, "市场监管局认领任务", "sc.amr claims the task (认领)")
        amr = self.net.departments["sc.amr"]
        amr.servicer.send([amr.department.claim(TASK, self.now())])  # type: ignore[attr-defined]
        self.expect(
            "认领已到达国家系统 / the claim reached cn.national",
            await self.until(lambda: self.replied(TASK, "claim")),
        )

    async def inspect_and_feed_back(self) -> None:
        """Act 3: inspection records go to the hub, the feedback goes up, national closes the task."""
        self.act(
            3, "检查并反馈，国家系统结束任务", "inspection, feedback (反馈) to national, task closed (结束)"
        )
        amr = self.net.departments["sc.amr"]
        inspections = list(amr.department.export("SC-05"))
        amr.servicer.send(inspections)
        amr.servicer.send([amr.department.task_feedback(TASK, self.now())])  # type: ignore[attr-defined]
        fed_back = await self.until(lambda: self.replied(TASK, "feedback"))
        self.say(f"{len(inspections)} 条检查记录 (SC-05) 报送枢纽 / inspection records sent to the hub")
        self.expect("反馈已到达国家系统 / the feedback reached cn.national", fed_back)
        if self.national.collected.documents:
            document = self.national.collected.documents[-1].decode("utf-8")
            self.say("国家格式反馈 / feedback in the national layout:")
            for line in document.splitlines()[1:9]:
                self.say(f"  {line}")
        await self.national.close(TASK, reason="核查完毕，已责令整改")

        async def closed() -> bool:
            return self.state("sc.amr", TASK) == "closed"

        self.expect("任务已结束 / the task is closed at sc.amr (已结束)", await self.until(closed))

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

    async def report_upward(self) -> None:
        """Act 6: penalties (SC-06) and spot-check results (SC-09) go up with cd_batch run numbers."""
        self.act(
            6,
            "行政处罚与双随机结果上报国家（批次号）",
            "penalties and spot-check results go up with batch ids",
        )
        amr, sjs = self.net.departments["sc.amr"], self.net.departments["sc.sjs"]
        first, amr_ids = report_upward(amr.servicer, ["SC-06"])
        second, more_ids = report_upward(amr.servicer, ["SC-10"])
        sjs_batch, sjs_ids = report_upward(sjs.servicer, ["SC-09"])
        expected = len(amr_ids) + len(more_ids) + len(sjs_ids)
        self.say(f"cd_batch: sc.amr {first} (SC-06), {second} (SC-10); sc.sjs {sjs_batch} (SC-09)")

        async def received() -> bool:
            await self.national.collect()
            return len(self.national.collected.rows) >= expected

        self.expect(
            f"国家系统收到 {expected} 行 / cn.national received {expected} rows", await self.until(received)
        )
        self.expect(
            "同日第二批次序号递增 / the day's second run is numbered 00002",
            first[:8] == second[:8] and int(second[8:]) == int(first[8:]) + 1,
        )
        if self.national.collected.rows:
            row = self.national.collected.rows[0]
            self.say(
                "前置表行 / front-table row: "
                + ", ".join(f"{k}={row[k]}" for k in sorted(row) if k.startswith("cd_"))
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
        pushed = await self.national.push_task(
            samples.spot_check_task(self.now(), OVERDUE_TASK), recipient="sc.sjs"
        )

        async def delivered() -> bool:
            return self.state("sc.sjs", OVERDUE_TASK) == "dispatched"

        self.expect(
            "任务送达双随机系统 / delivered to sc.sjs",
            pushed.submitted.accepted and await self.until(delivered),
        )
        later = self.now() + timedelta(days=10)
        self.say(f"演示时钟拨快至 / demo clock advanced to {later:%Y-%m-%d}")
        found: list[tuple[str, str, str]] = []
        for node, department in self.net.departments.items():
            for item in department.servicer.worklist.mark_overdue(later):
                found.append((node, item.correlation_id, item.due.isoformat() if item.due else "-"))
        for item in self.national.overdue(later):
            found.append(("cn.national", item.correlation_id, item.due.isoformat() if item.due else "-"))
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
