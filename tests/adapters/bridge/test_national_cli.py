"""``jgx bridge national init|serve`` as an operator runs them: a child process, a configuration file, the
real hub delivering to it over mTLS, the national tables on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.bridge.national import NationalTables
from adapters.demo import samples
from adapters.demo.national import NationalDatabase, NationalSide, national_desk, national_link
from adapters.demo.network import LoopbackNetwork, default_validator
from adapters.departments import MarketRegulation
from gateway.config import Paths
from gateway.testing import NATIONAL_BRIDGE
from tests.adapters.bridge.test_national import _config, national_db, until
from tests.gateway.nodes import ROOT

__all__ = ["national_db"]  # the fixture, shared with test_national


def _node_dir(network: LoopbackNetwork, directory: Path) -> Path:
    """The bridge node's directory as `jgx init` lays it out: trust, signing key, mTLS certificate."""
    paths, tls = Paths.under(directory), network.tls[NATIONAL_BRIDGE]
    for path, data in (
        (paths.trust, network.federation.signed_trust),
        (paths.node_key, network.key(NATIONAL_BRIDGE).to_pem()),
        (paths.tls_cert, tls.cert), (paths.tls_key, tls.key), (paths.tls_ca, tls.ca),
    ):  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return directory


@pytest.fixture
async def network(tmp_path: Path, national_db: NationalDatabase) -> AsyncIterator[LoopbackNetwork]:
    """sc.hub and market regulation running; the bridge's node is in the trust configuration (its port
    reserved) but not started here: the child process serves it."""
    link = national_link(tmp_path, national_db)
    network = LoopbackNetwork.create(
        tmp_path / "net",
        {
            "sc.amr": MarketRegulation(auto_claim=False),
            NATIONAL_BRIDGE: lambda t: national_desk(link, national_db, t),
        },
        now=datetime.now(UTC),
        validate=default_validator(),
    )  # fmt: skip
    bridge = network.departments.pop(NATIONAL_BRIDGE)
    await network.start()
    yield network
    await network.stop()
    bridge.close()


async def test_serve_dispatches_the_down_table_and_writes_the_claim_into_the_up_table_until_stopped(
    network: LoopbackNetwork, national_db: NationalDatabase, tmp_path: Path
) -> None:
    """`init` creates the tables; `serve` (mTLS, the node directory's key) dispatches a task row to sc.amr,
    answers the hub's delivery of the claim, flushes it into t_task_feedback, and exits 0 on SIGTERM."""
    config = _config(tmp_path, national_db)
    text = config.read_text("utf-8").replace('dir = "nodes/national-bridge"', 'dir = "node"')
    text = text.replace('hub = "127.0.0.1:7443"', f'hub = "{network.gateways["sc.hub"].address}"')
    text = text.replace("poll_seconds = 30 ", "poll_seconds = 0.2 ")
    config.write_text(text, encoding="utf-8")
    _node_dir(network, tmp_path / "node")
    jgx = (sys.executable, "-c", "from gateway.cli import main; main()", "bridge", "national")
    init = await asyncio.create_subprocess_exec(
        *jgx, "init", str(config), cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await init.communicate()
    assert (0, True) == (init.returncode, "t_supervise_data_read" in out.decode())
    tables = NationalTables(national_db.engine, national_db.schema)
    side, amr = NationalSide(tables), network.departments["sc.amr"]
    side.publish_task(
        "LHJG-CLI", samples.national_task(amr.servicer.clock(), "LHJG-CLI"), datetime.now(), "2026120100001"
    )
    port = network.trust.nodes[NATIONAL_BRIDGE].endpoint.rpartition(":")[2]
    serve = await asyncio.create_subprocess_exec(
        *jgx, "serve", str(config), "--listen", f"127.0.0.1:{port}", cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert await until(
            lambda: (w := amr.servicer.worklist.get("LHJG-CLI")) is not None and w.state.value == "dispatched"
        )
        amr.servicer.send([amr.department.claim("LHJG-CLI", amr.servicer.clock())])  # type: ignore[attr-defined]
        assert await until(lambda: [r["status"] for r in side.up_rows("t_task_feedback")] == ["认领"])
        assert "read" == side.read_back()["LHJG-CLI"]["status"]
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = await serve.communicate()
    assert 0 == serve.returncode, err.decode()
    assert "写入 / written 1" in out.decode()
