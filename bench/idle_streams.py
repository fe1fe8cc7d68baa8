"""Memory of ``jgx serve`` holding idle SubmitStreams of one peer, with and without [connections] limits.

Starts ``jgx serve --insecure-dev`` on loopback in a child process, opens N SubmitStreams that send
nothing over one channel, and prints the server's resident memory before and after, with the default
``[connections]`` and with limits large enough to be none. Numbers go into bench/README.md.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.config import Connections, load_config, render_config
from gateway.testing import Federation
from tests.gateway.nodes import write_node

STREAMS = 10_000
UNLIMITED = Connections(max_concurrent_streams=1 << 30, max_calls_per_peer=1 << 30)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _hold(port: int) -> int:
    """Open STREAMS idle SubmitStreams; the number the server refused at once."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        calls = [channel.stream_stream(
                "/jgx.exchange.v1.Exchange/SubmitStream", request_serializer=None, response_deserializer=None
            )(None) for _ in range(STREAMS)]
        await asyncio.sleep(5)
        refused = sum(1 for call in calls if call.done())
        rss = _rss_mb(PID[0])
        for call in calls:
            call.cancel()
        RSS.append(rss)
        return refused


PID: list[int] = []
RSS: list[float] = []


def run(label: str, connections: Connections) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        node = write_node(Path(tmp) / "node", Federation.create(datetime.now(UTC)))
        config = replace(load_config(node / "jgx.toml"), connections=connections)
        (node / "jgx.toml").write_text(render_config(config), encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-c", "from gateway.cli import main; main()", "serve", "--dir", str(node),
             "--listen", "127.0.0.1:0", "--insecure-dev", "--console", "off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert process.stderr is not None
        port = 0
        for line in process.stderr:
            if "listening on" in line:
                port = int(line.split("listening on ", 1)[1].split()[0].rsplit(":", 1)[1])
                break
        PID[:] = [process.pid]
        RSS.clear()
        before = _rss_mb(process.pid)
        refused = asyncio.run(_hold(port))
        process.terminate()
        process.wait(timeout=60)
        print(f"| {label} | {STREAMS} | {before:.0f} | {RSS[0]:.0f} | {refused} |")


if __name__ == "__main__":
    print("| [connections] | idle streams opened | RSS before (MB) | RSS holding them (MB) | refused |")
    print("|---|---:|---:|---:|---:|")
    run("defaults (100 per connection, 200 per peer)", Connections())
    run("no limits", UNLIMITED)
