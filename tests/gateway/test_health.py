"""Health and metrics tell the truth: NOT_SERVING while the store cannot write, SERVING again when it
can; jgx_envelopes_accepted_total counts committed leaves only; no client sees the store's words."""

from __future__ import annotations

import asyncio
import re
import resource
import socket
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.config import Listen, load_config, render_config
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.testing import Federation
from tests.gateway.nodes import ServeProcess, client_credentials, write_node

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
# Words of SQLite, PostgreSQL and jgx's schema that must never reach a client.
STORE_WORDS = re.compile(
    r"sqlite|postgres|asyncpg|SQL|INSERT|UPDATE|SELECT|relation|table|leaves|messages|outbox|seen|"
    r"schema|disk|database|jgx\.db|Errno|Error\b",
    re.IGNORECASE,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepted_total(port: int) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("jgx_envelopes_accepted_total{"))  # fmt: skip


async def _status(health: health_pb2_grpc.HealthStub, wanted: int) -> int:
    """The health status once it is ``wanted`` (polled for up to 60 s), else the last one seen."""
    status = -1
    for _ in range(600):
        status = (await health.Check(health_pb2.HealthCheckRequest(), timeout=10)).status
        if status == wanted:
            break
        await asyncio.sleep(0.1)
    return status


async def _scenario(node: Path, serve: ServeProcess, fed: Federation, metrics: int) -> dict[str, object]:
    seen: dict[str, object] = {}
    async with grpc.aio.secure_channel(f"127.0.0.1:{serve.port}", client_credentials(node, "sc.amr")) as ch:
        call = ch.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
        health = health_pb2_grpc.HealthStub(ch)
        for _ in range(3):
            await call(fed.envelope(fed.message("sc.amr", "sc.hub")))
        seen["serving"] = await _status(health, health_pb2.HealthCheckResponse.SERVING)
        seen["accepted_before"] = _accepted_total(metrics)
        # The file system refuses every write of the node beyond its first byte, as a full disk does.
        _, hard = resource.prlimit(serve.process.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(serve.process.pid, resource.RLIMIT_FSIZE, (1, hard))
        refusals = []
        for _ in range(3):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call(fed.envelope(fed.message("sc.amr", "sc.hub")))
            refusals.append(refused.value)
        seen["refused"] = {r.code() for r in refusals}
        seen["leaked"] = [r.details() for r in refusals if STORE_WORDS.search(r.details() or "")]
        seen["not_serving"] = await _status(health, health_pb2.HealthCheckResponse.NOT_SERVING)
        seen["accepted_while_full"] = _accepted_total(metrics)
        resource.prlimit(serve.process.pid, resource.RLIMIT_FSIZE, (hard, hard))
        seen["serving_again"] = await _status(health, health_pb2.HealthCheckResponse.SERVING)
        response = await call(fed.envelope(fed.message("sc.amr", "sc.hub")))
        seen["receipt_after"] = exchange_pb2.Receipt.FromString(response.receipt.body).outcome
        seen["accepted_after"] = _accepted_total(metrics)
    return seen


@pytest.mark.slow
def test_health_follows_whether_the_store_can_write(tmp_path: Path) -> None:
    """jgx serve on SQLite: when writes fail, Submit is UNAVAILABLE without the store's words, health
    is NOT_SERVING and accepted_total stays; when writes work again, SERVING and accepting."""
    fed = Federation.create(datetime.now(UTC))
    node = write_node(tmp_path / "node", fed)
    metrics = _free_port()
    config = load_config(node / "jgx.toml")
    config = type(config)(**{**{f: getattr(config, f) for f in config.__slots__},
                             "listen": Listen(grpc_port=0, metrics_port=metrics)})  # fmt: skip
    (node / "jgx.toml").write_text(render_config(config), encoding="utf-8")
    serve = ServeProcess(node, "--listen", "127.0.0.1:0", "--console", "off")
    try:
        seen = asyncio.run(_scenario(node, serve, fed, metrics))
    finally:
        serve.terminate()
    assert health_pb2.HealthCheckResponse.SERVING == seen["serving"]
    assert {grpc.StatusCode.UNAVAILABLE} == seen["refused"]
    assert [] == seen["leaked"]
    assert health_pb2.HealthCheckResponse.NOT_SERVING == seen["not_serving"]
    assert seen["accepted_before"] == seen["accepted_while_full"]
    assert health_pb2.HealthCheckResponse.SERVING == seen["serving_again"]
    assert exchange_pb2.OUTCOME_ACCEPTED == seen["receipt_after"]
    assert seen["accepted_before"] + 1 == seen["accepted_after"]
