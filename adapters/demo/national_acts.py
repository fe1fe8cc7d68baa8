"""The national acts of ``jgx demo`` (1 task down, 2 claim up, 3 feedback up and close, 6 cd_batch report
and reconciliation), played through the province's national bridge (`adapters.demo.national.DemoBridge`).
"""

from __future__ import annotations

from typing import TextIO

from adapters.bridge.national import render
from adapters.bridge.national.layout import UP_TABLES
from adapters.demo import samples
from adapters.demo.national import DemoBridge
from adapters.demo.network import LoopbackNetwork
from adapters.demo.stage import Stage
from adapters.links.national import report_upward
from gateway.testing import NATIONAL_BRIDGE

__all__ = ["TASK", "NationalActs"]

TASK = "LHJG-51-DEMO-0001"


class NationalActs(Stage):
    """The acts between the national side's front database and the province, through the national bridge."""

    def __init__(self, network: LoopbackNetwork, out: TextIO, *, timeout: float = 10.0) -> None:
        """The stage, and the national bridge driven on the demo clock."""
        super().__init__(network, out, timeout=timeout)
        self.bridge = DemoBridge.of(network, clock=self.now)
        self.side = self.bridge.side

    async def close(self) -> None:
        """Close the national bridge's hub client."""
        await self.bridge.close()

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
