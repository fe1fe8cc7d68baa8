"""``jgx bridge run|check`` as a script runs them: a child process, a mapping file, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import sqlalchemy as sa

from adapters.bridge.inbound import InboundTable
from gateway import tls
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pki import issue_node_certificate
from tests.adapters.bridge.front import Front, FrontDb, RunningHub, inspection, mapping_text
from tests.adapters.bridge.test_bridge import _has_results
from tests.adapters.bridge.test_downward import dispatch
from tests.gateway.nodes import ROOT

T0 = datetime(2026, 11, 27, 9, 0, 0)


async def jgx(*args: str) -> tuple[int, str, str]:
    """Run the jgx CLI in a child process without blocking the hub serving in this event loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from gateway.cli import main; main()", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def write_mapping(front: Front, hub: RunningHub, tmp_path: Path) -> Path:
    text = mapping_text(front.url, front.state, f"localhost:{hub.port}", front.schema)
    text = text.replace('dir = "nodes/amr"', f'dir = "{hub.node_dir(tmp_path / "amr")}"')
    path = tmp_path / "mapping.toml"
    path.write_text(text, "utf-8")
    return path


async def test_run_once_prints_the_batch_and_exits_1_when_a_row_is_refused(
    front: Front, db: FrontDb, hub: RunningHub, tmp_path: Path
) -> None:
    """`jgx bridge run --once` sends over mTLS with the node directory's certificate, prints the batch's
    account, exits 1 because one row was refused, and 0 on the next pass with nothing new to send."""
    db.insert([inspection(1, T0), inspection(2, T0 + timedelta(seconds=1), jcrq="2026-11-20")])
    mapping = write_mapping(front, hub, tmp_path)
    first = await jgx("bridge", "run", str(mapping), "--once")
    second = await jgx("bridge", "run", str(mapping), "--once")
    assert (1, 0) == (first[0], second[0]), first[2]
    summary = first[1].splitlines()[-1]
    assert [True, True, True] == [
        part in summary for part in ("读取 / read 2", "接收 / accepted 1", "本地拒收 / refused locally 1")
    ]
    assert ["accepted", "refused_local"] == [r["status"] for r in db.results()]


async def test_check_reports_untranslated_codes_and_refused_rows_without_sending(
    front: Front, db: FrontDb, hub: RunningHub, tmp_path: Path
) -> None:
    """`jgx bridge check` names the codes with no translation and the rows that would be refused, exits 1,
    and sends nothing (the hub's log stays empty, no result table is written)."""
    db.insert([
        inspection(1, T0), inspection(2, T0, jcxs="飞行检查"), inspection(3, T0, jcxs="飞行检查"),
        inspection(4, T0, qhdm="999999"),
    ])  # fmt: skip
    mapping = write_mapping(front, hub, tmp_path)
    code, out, err = await jgx("bridge", "check", str(mapping), "--json")
    report = json.loads(out)
    columns = {c["column"]: c for c in report["columns"] if c["field"] == "checkForm"}
    assert (1, 4, 3) == (code, report["rows"], report["wouldRefuse"]), err
    assert {"飞行检查": 2} == columns["jcxs"]["untranslated"]
    assert {"BRIDGE.M001": 2} == {k: v for k, v in report["byRule"].items() if k.startswith("BRIDGE")}
    assert any(rule.startswith("SC-") for rule in report["byRule"])  # the region code, judged by SC-05
    assert ([], []) == (report["unmappedRequired"], await hub.leaves())
    assert not sa.inspect(db.engine).has_table("jgx_result", schema=front.schema)  # nothing written back
    assert 0 == columns["jcxs"]["empty"]


async def test_a_mapping_naming_an_unknown_field_exits_2_with_the_reason(tmp_path: Path) -> None:
    """A mapping file that names a field the standard does not have is refused before any connection."""
    path = tmp_path / "mapping.toml"
    path.write_text(
        '[bridge]\nnode = "sc.amr"\nstandard = "SC-05"\n[database]\nurl = "sqlite://"\n'
        '[source]\ntable = "t"\n[fields]\ncheckDat = "jcrq"\n', "utf-8"
    )  # fmt: skip
    code, _, err = await jgx("bridge", "check", str(path))
    assert (2, True) == (code, "checkDat" in err and "标准中没有字段" in err)


async def test_a_database_that_cannot_be_reached_exits_3(hub: RunningHub, tmp_path: Path) -> None:
    """When the front database stays unavailable through every retry, `run --once` exits 3 and says so."""
    front = Front(f"sqlite:///{tmp_path / 'missing' / 'front.db'}", None, tmp_path / "state.sqlite")
    mapping = write_mapping(front, hub, tmp_path)
    mapping.write_text(mapping.read_text("utf-8").replace("retries = 8", "retries = 1"), "utf-8")
    code, _, err = await jgx("bridge", "run", str(mapping), "--once")
    assert (3, True) == (code, "前置库不可用" in err)


async def test_serve_takes_deliveries_into_the_inbound_table_and_polls_the_source_table(
    front: Front, db: FrontDb, hub: RunningHub, tmp_path: Path
) -> None:
    """`jgx bridge serve` receipts a task the hub delivers over mTLS, writes it into the inbound table,
    sends the source table's rows, and stops cleanly (exit 0) on SIGTERM."""
    db.insert([inspection(1, T0)])
    mapping = write_mapping(front, hub, tmp_path)
    mapping.write_text(
        mapping.read_text("utf-8") + '\n[inbound]\ntable = "jgx_inbound"\nstandards = ["SC-14"]\n', "utf-8"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from gateway.cli import main; main()", "bridge", "serve", str(mapping),
        "--listen", f"127.0.0.1:{port}", cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        while b"listening" not in (line := await asyncio.wait_for(process.stderr.readline(), 60)):
            assert line, "jgx bridge serve ended before listening"
        hub_cert, hub_key = issue_node_certificate(*hub.ca, "sc.hub", now=datetime.now(UTC))
        async with grpc.aio.secure_channel(
            f"localhost:{port}", tls.channel_credentials(hub_cert, hub_key, hub.ca[0])
        ) as channel:
            deliver = channel.unary_unary(
                "/jgx.adapter.v1.Adapter/Deliver", request_serializer=lambda b: b,
                response_deserializer=adapter_pb2.DeliverResponse.FromString,
            )  # fmt: skip
            response = await deliver(dispatch(hub))
        receipt = exchange_pb2.Receipt.FromString(response.receipt.body)
        for _ in range(600):  # up to a minute for the first pass on a loaded machine
            if _has_results(db):
                break
            await asyncio.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)
    inbound = InboundTable(db.engine, "jgx_inbound", front.schema)
    assert (exchange_pb2.OUTCOME_ACCEPTED, ["nat-task-1"]) == (
        receipt.outcome,
        [r["message_id"] for r in inbound.rows()],
    )
    assert (["accepted"], 0) == ([r["status"] for r in db.results()], process.returncode)
