"""``jgx demo``: the whole federation on this machine — two gateways, three departments, the national
bridge and the national system's front database (PostgreSQL when reachable, SQLite otherwise).

`run_demo` builds a `LoopbackNetwork` in a directory (keys, CA, certificates, one signed trust
configuration), starts it on 127.0.0.1, runs the `Scenario`, traces a task across every hop, prints the
per-node summary, audits every log and prints the hub's signed checkpoint. It returns 0 only when
every expectation of the scenario held; with ``keep_running`` the nodes stay up until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from adapters.demo.national import NationalDatabase, national_database, national_desk, national_link
from adapters.demo.network import LoopbackNetwork, default_validator
from adapters.demo.report import (
    audit_logs,
    hub_checkpoint,
    print_summary,
    print_trace,
    summarise,
    trace_across,
)
from adapters.demo.scenario import TASK, Scenario
from adapters.sdk import Department
from gateway.keys import Algorithm
from gateway.testing import NATIONAL_BRIDGE
from gateway.trust import TrustConfig

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["demo_departments", "run_demo"]

_DEMO_OPERATOR = "demo.operator"


def demo_departments() -> dict[str, Department]:
    """The reference departments with their shipped native exports; tasks are claimed by hand (认领)."""
    from adapters.departments import Complaints12315, MarketRegulation, SpotCheck

    return {
        "sc.amr": MarketRegulation(auto_claim=False),
        "sc.12315": Complaints12315(),
        "sc.sjs": SpotCheck(auto_claim=False),
    }


def _heading(text: str, out: TextIO) -> None:
    print(f"\n━━ {text}", file=out, flush=True)


def _introduce(network: LoopbackNetwork, out: TextIO) -> None:
    _heading("联邦 / the federation (127.0.0.1, mTLS, one signed trust configuration)", out)
    trust = network.trust
    for node_id, node in trust.nodes.items():
        kind = "gateway" if node_id in network.gateways else "adapter"
        print(
            f"  {node_id:<12} {node.role:<10} {kind:<8} {node.endpoint:<16} key {node.keys[0].key_id[:12]}…"
            f"  {node.name_zh}",
            file=out,
        )
    print(
        f"  trust v{trust.version}, CA {network.directory / 'ca.crt'}, files in {network.directory}", file=out
    )


async def _start_console(network: LoopbackNetwork, out: TextIO) -> web.AppRunner | None:
    """The operator console over the hub's log, on a free port, with a demo operator account."""
    import secrets

    from gateway.cli.console import console_url, start_console
    from gateway.console.auth import Role, hash_password
    from gateway.storage import User

    hub = network.gateways["sc.hub"]
    if hub.store is None:
        return None
    runner = await start_console(hub.store, network.trust, node_id="sc.hub", address="127.0.0.1:0")
    if runner is not None:
        password = secrets.token_urlsafe(12)
        now = datetime.now(UTC)
        account = User(_DEMO_OPERATOR, Role.OPERATOR, "", hash_password(password), now)
        await hub.store.add_user(account, now=now, actor="jgx demo")
        _heading("运维控制台 / the operator console (sc.hub)", out)
        print(f"  {console_url(runner)}", file=out)
        print(f"  登录 / log in: {_DEMO_OPERATOR} / {password}   (operator, this run only)", file=out)
        print(f"  jgx users add NAME --role auditor --dir {hub.directory}", file=out, flush=True)
    return runner


async def _wait_for_interrupt(out: TextIO) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(
        "\n节点保持运行，按 Ctrl-C 停止 / the nodes keep running; press Ctrl-C to stop", file=out, flush=True
    )
    await stop.wait()
    print("正在停止 / stopping (draining in-flight work)…", file=out, flush=True)


def _network(directory: Path, algorithm: Algorithm) -> tuple[LoopbackNetwork, NationalDatabase]:
    """The federation, with the national bridge on the national front database (PostgreSQL or SQLite)."""
    directory.mkdir(parents=True, exist_ok=True)
    database = national_database(directory)
    link = national_link(directory, database)

    def bridge(trust: TrustConfig) -> Department:
        return national_desk(link, database, trust)

    network = LoopbackNetwork.create(
        directory,
        {**demo_departments(), NATIONAL_BRIDGE: bridge},
        now=datetime.now(UTC),
        validate=default_validator(),
        algorithm=algorithm,
    )
    return network, database


async def run_demo(
    directory: Path,
    *,
    out: TextIO = sys.stdout,
    keep_running: bool = False,
    algorithm: Algorithm = Algorithm.ED25519,
) -> int:
    """Run the federation demo in `directory` with `algorithm` keys; 0 when every expectation held."""
    started = time.perf_counter()
    network, database = _network(directory, algorithm)
    _introduce(network, out)
    print(
        f"  国家系统不运行 jgx：其前置库 / the national system runs no jgx; its front database: "
        f"{database.describe()}",
        file=out,
    )
    scenario: Scenario | None = None
    console: web.AppRunner | None = None
    try:
        await network.start()
        scenario = Scenario(network, out)
        overdue = await scenario.run()

        _heading(f"跨节点追踪 / {TASK} across every hop (jgx trace --across)", out)
        trace = await trace_across(network, TASK)
        print_trace(trace, out)
        scenario.expect(
            f"任务在枢纽有记录，国家桥的回执已验证 / logged at sc.hub, {NATIONAL_BRIDGE}'s receipts verified",
            any(hop.receipt.startswith(f"receipt {NATIONAL_BRIDGE}#") for hop in trace.hops)
            and all(hop.receipt.endswith("✔") for hop in trace.hops if hop.node == "sc.hub"),
        )

        _heading("汇总 / summary per node", out)
        sent = {NATIONAL_BRIDGE: scenario.bridge.dispatched, "cq.hub": len(scenario.chongqing.sent)}
        late: dict[str, int] = {}
        for node, _, _ in overdue:
            late[node] = late.get(node, 0) + 1
        rows = await summarise(network, sent=sent, overdue=late)
        print_summary(rows, out)
        scenario.expect("所有投递已完成 / every delivery completed", all(not r.queued for r in rows))

        _heading("日志校验 / log verification (jgx log verify)", out)
        scenario.expect("每个网关的日志均完好 / every gateway's log verifies", await audit_logs(network, out))

        _heading("枢纽最新签名检查点 / the hub's latest signed checkpoint", out)
        print(await hub_checkpoint(network), file=out, end="")
        hub_dir = network.gateways["sc.hub"].directory
        print(f"\n  jgx log verify --dir {hub_dir}", file=out)
        print(f"  jgx trace {TASK} --correlation --across --dir {hub_dir}", file=out)
        console = await _start_console(network, out) if keep_running else None

        if keep_running:
            _heading("运行中 / running", out)
            for node, gateway in network.gateways.items():
                url = gateway.metrics_endpoint.url if gateway.metrics_endpoint else "-"
                print(f"  {node:<12} gRPC {gateway.address}  metrics {url}", file=out)
            await _wait_for_interrupt(out)
    finally:
        if console is not None:
            await console.cleanup()
        if scenario is not None:
            await scenario.close()
        with contextlib.suppress(Exception):
            await network.stop()
        database.drop()
    failed = (
        [what for what, held in scenario.checks if not held] if scenario else ["the network did not start"]
    )
    seconds = time.perf_counter() - started
    if failed:
        print(
            f"\n✘ 演示未通过 / demo FAILED ({len(failed)} of {len(scenario.checks) if scenario else 0} "
            f"expectations, {seconds:.1f} s):",
            file=out,
        )
        for what in failed:
            print(f"  - {what}", file=out)
        return 1
    print(
        f"\n✔ 演示通过 / demo passed: {len(scenario.checks) if scenario else 0} expectations held "
        f"in {seconds:.1f} s; files in {directory}",
        file=out,
    )
    return 0
