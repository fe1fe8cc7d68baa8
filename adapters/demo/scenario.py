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

Every act records expectations (`Scenario.expect`); the demo succeeds only when all of them held.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TextIO

from adapters.bridge.national import NationalDesk, render
from adapters.bridge.national.layout import UP_TABLES
from adapters.demo import samples
from adapters.demo.national import DemoBridge
from adapters.demo.network import LoopbackNetwork
from adapters.links.chuanyu import ChongqingPlatform, ClueRegionError, Unit, transfer
from adapters.links.inbox import Inbox
from adapters.links.national import report_upward
from adapters.sdk import Record
from gateway.envelope import seal_message
from gateway.keys import Algorithm, generate_key
from gateway.storage import OutboxState
from gateway.testing import NATIONAL_BRIDGE

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
        chongqing = network.gateways["cq.hub"]
        node = network.departments[NATIONAL_BRIDGE]
        assert isinstance(node.department, NationalDesk)
        self.bridge = DemoBridge(
            node.department, hub=network.client(NATIONAL_BRIDGE), key=network.key(NATIONAL_BRIDGE),
            trust=network.trust, clock=self.now, worklist=node.servicer.worklist,
        )  # fmt: skip
        self.side = self.bridge.side
        self.chongqing = ChongqingPlatform(
            node_id="cq.hub",
            key=network.key("cq.hub"),
            hub=network.client("cq.hub"),
            inbox=Inbox("cq.hub", lambda: chongqing.store),
        )
        self.cq_unit = Unit(**samples.CHONGQING_UNIT)

    async def close(self) -> None:
        """Close the link clients."""
        await self.bridge.close()
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

    async def up(self, message_ids: list[str]) -> int:
        """Flush what the hub delivered to the national bridge into the national up-tables; rows written."""
        batches = await self.bridge.upward(message_ids, timeout=self.timeout)
        for batch in batches:
            self.say(batch.describe())
        return sum(b.written for b in batches)

    # -- the acts -----------------------------------------------------------------------------------
    async def national_task(self) -> None:
        """Act 1: the national side writes a task row; the bridge reads it, the hub delivers it to sc.amr."""
        self.act(
            1, "国家系统在前置库下发监管任务（附风险预警线索）",
            "the national side writes a supervision task into its front database",
        )  # fmt: skip
        now = self.now()
        self.side.publish_task(TASK, samples.national_task(now, TASK), now, f"{now:%Y%m%d}00001")
        self.side.publish_task("LHJG-BAD", samples.malformed_task(), now, f"{now:%Y%m%d}00001")
        report = await self.bridge.poll()
        self.say(report.describe())
        for cd_id, why in report.refused:
            self.say(f"拒收 / refused {cd_id}: {why[:100]}")
        self.say(f"superviseData → SC-14 {TASK} + SC-12 FXYJ-{TASK}, 签名 / signed by {NATIONAL_BRIDGE}")
        self.expect(
            "国家桥读取任务，枢纽接收 / the bridge read the task, the hub accepted it", report.accepted == 1
        )
        read = self.side.read_back()
        bad = read.get("LHJG-BAD", {})
        self.say(f"LHJG-BAD → {bad.get('status')}: {str(bad.get('message', ''))[:90]}")
        self.expect(
            "畸形任务被拒收并回写原因 / the malformed task is refused, its reason written back",
            bad.get("status") == "refused" and bad.get("reason_codes") == "MALFORMED",
        )

        async def delivered() -> bool:
            return self.state("sc.amr", TASK) == "dispatched"

        self.expect("任务已送达市场监管局 / delivered to sc.amr (已分发)", await self.until(delivered))

    async def claim(self) -> None:
        """Act 2: market regulation claims the task; the claim lands in the national up-table."""
        self.act(2, "市场监管局认领任务", "sc.amr claims the task (认领)")
        amr = self.net.departments["sc.amr"]
        ids = amr.servicer.send([amr.department.claim(TASK, self.now())])  # type: ignore[attr-defined]
        await self.up(ids)
        self.expect(
            "认领已写入国家上行表 / the claim is in the national up-table (t_task_feedback 认领)",
            self.side.task_row(TASK, "认领") is not None,
        )

    async def inspect_and_feed_back(self) -> None:
        """Act 3: inspection records go to the hub, the feedback goes up, the national side closes it."""
        self.act(
            3, "检查并反馈，国家系统结束任务", "inspection, feedback (反馈) to national, task closed (结束)"
        )
        amr = self.net.departments["sc.amr"]
        inspections = list(amr.department.export("SC-05"))
        amr.servicer.send(inspections)
        ids = amr.servicer.send([amr.department.task_feedback(TASK, self.now())])  # type: ignore[attr-defined]
        await self.up(ids)
        self.say(f"{len(inspections)} 条检查记录 (SC-05) 报送枢纽 / inspection records sent to the hub")
        row = self.side.task_row(TASK, "反馈")
        self.expect("反馈已写入国家上行表 / the feedback is in the national up-table (反馈)", row is not None)
        if row is not None:
            self.say("国家格式反馈 / feedback in the national layout (superviseData):")
            for line in str(row["superviseData"]).splitlines()[1:9]:
                self.say(f"  {line}")
        now = self.now()
        self.side.publish_task(
            f"{TASK}-END", samples.close_task(TASK, "核查完毕，已责令整改"), now, f"{now:%Y%m%d}00002"
        )
        await self.bridge.poll()

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
        """Act 6: penalties and spot-check results go up in a cd_batch run; acknowledged; reconciled."""
        self.act(
            6, "行政处罚与双随机结果上报国家（批次号），国家回执与对账",
            "penalties and spot-check results go up in a cd_batch run; acknowledged and reconciled",
        )  # fmt: skip
        amr, sjs = self.net.departments["sc.amr"], self.net.departments["sc.sjs"]
        first, amr_ids = report_upward(amr.servicer, ["SC-06"], recipient=NATIONAL_BRIDGE)
        second, more_ids = report_upward(amr.servicer, ["SC-10"], recipient=NATIONAL_BRIDGE)
        sjs_batch, sjs_ids = report_upward(sjs.servicer, ["SC-09"], recipient=NATIONAL_BRIDGE)
        expected = len(amr_ids) + len(more_ids) + len(sjs_ids)
        self.say(
            f"部门批次 / department runs: sc.amr {first} (SC-06), {second} (SC-10); "
            f"sc.sjs {sjs_batch} (SC-09)"
        )
        self.expect(
            "同日第二批次序号递增 / the day's second run is numbered 00002",
            first[:8] == second[:8] and int(second[8:]) == int(first[8:]) + 1,
        )
        written = await self.up([*amr_ids, *more_ids, *sjs_ids])
        self.expect(
            f"国家上行表写入 {expected} 行 / {expected} rows written to the national up-tables",
            written == expected,
        )
        punished = self.side.up_rows(UP_TABLES["SC-06"])
        if punished:
            cd = ", ".join(f"{k}={v}" for k, v in sorted(punished[0].items()) if k.startswith("cd_"))
            self.say(f"前置表行 / up-table row: {cd}")
            refused = (
                UP_TABLES["SC-06"],
                punished[0]["cd_id"],
                "处罚决定书文号重复 / duplicate punishDocumentCode",
            )
            self.bridge.acknowledge_all(refused, self.now())
        checks = self.bridge.reconcile()
        self.say("jgx bridge national reconcile:")
        for line in render(checks):
            self.say(f"  {line}")
        statuses = [c.status for c in checks]
        self.expect(
            "对账发现被国家拒收的行 / reconciliation finds the row the national side refused",
            bool(checks) and statuses == ["ok"] * (len(checks) - 1) + ["refused"],
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
