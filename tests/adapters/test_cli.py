"""The adapter and lifecycle verbs of the jgx CLI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from datetime import timedelta
from pathlib import Path

import grpc
from click.testing import CliRunner

from adapters.lifecycle import dispatch
from adapters.sdk import AdapterStore
from gateway.cli import main
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.testing import Federation
from tests.adapters.conftest import NOW
from tests.adapters.hubstub import StandInHub, serve_hub


def test_import_reports_refused_rows_and_exits_1() -> None:
    """`jgx adapter import` counts the mapped records, lists each refused row, and exits 1."""
    result = CliRunner().invoke(main, ["adapter", "import", "--department", "sjs", "--json"])
    report = json.loads(result.output)
    assert (1, {"SC-09": 8}, [4, 5, 5]) == (
        result.exit_code,
        report["records"],
        [p["line"] for p in report["problems"]],
    )


def test_import_of_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    """A missing exports folder exits 2 with a bilingual message."""
    result = CliRunner().invoke(
        main, ["adapter", "import", "--department", "amr", "--exports", str(tmp_path / "x")]
    )
    assert (2, True) == (result.exit_code, "does not exist" in result.output)


def test_overdue_lists_the_unclaimed_task(tmp_path: Path) -> None:
    """`jgx lifecycle overdue` lists a never-claimed task after its deadline and exits 1."""
    store = AdapterStore(tmp_path / "a.sqlite")
    item = dispatch("LHJG-1", "SC-14", on=NOW.date())
    store.save_item(item.correlation_id, item.to_json(), now=NOW)
    store.close()
    later = (NOW + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = CliRunner().invoke(
        main, ["lifecycle", "overdue", "--store", str(tmp_path / "a.sqlite"), "--at", later]
    )
    assert (1, "LHJG-1\tSC-14\tdispatched\t截止 / due 2026-12-02\t超期 7 个工作日") == (
        result.exit_code,
        result.output.split(" / working")[0],
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_serves_and_submits_the_records(tmp_path: Path) -> None:
    """`jgx adapter run` serves Describe, submits the mapped records to the hub, and stops on SIGTERM."""
    fed = Federation.create(NOW)
    (tmp_path / "keys").mkdir()
    (tmp_path / "trust.json").write_bytes(fed.signed_trust)
    (tmp_path / "keys" / "node.key").write_bytes(fed.keys["sc.sjs"].to_pem())
    hub = StandInHub(fed, None)
    port = free_port()
    async with serve_hub(hub) as hub_port:
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "jgx"),
            "adapter",
            "run",
            "--department",
            "sjs",
            "--dir",
            str(tmp_path),
            "--hub",
            f"127.0.0.1:{hub_port}",
            "--listen",
            f"127.0.0.1:{port}",
            "--insecure",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        banner = b""
        while b"listening" not in banner:
            banner = await asyncio.wait_for(process.stdout.readline(), timeout=30)
            assert banner, "the adapter exited before listening"
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            describe = channel.unary_unary(
                "/jgx.adapter.v1.Adapter/Describe",
                request_serializer=adapter_pb2.DescribeRequest.SerializeToString,
                response_deserializer=adapter_pb2.Manifest.FromString,
            )
            manifest = await describe(adapter_pb2.DescribeRequest(), timeout=10)
        for _ in range(300):
            if len(hub.accepted) >= 8:
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    assert ("sc.sjs", 8, 0) == (manifest.node_id, len(hub.accepted), code)
