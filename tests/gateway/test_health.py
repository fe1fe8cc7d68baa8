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
    r"schema|disk|database|jgx\.db|Errno|Error\b|connect",
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


class Outage:
    """A TCP relay between the store and PostgreSQL that the test can cut (the database is gone) and
    restore: real sockets, a real server, a real outage as the store sees one."""

    def __init__(self) -> None:
        self.cut = False
        self.port = 0
        self._pipes: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if self.cut:
                writer.close()
                return
            up_reader, up_writer = await asyncio.open_connection(host, port)
            self._pipes |= {writer, up_writer}

            async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                try:
                    while data := await src.read(65536):
                        dst.write(data)
                        await dst.drain()
                except OSError:
                    pass
                finally:
                    dst.close()

            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        self._server = await asyncio.start_server(relay, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def go_away(self) -> None:
        self.cut = True
        for writer in self._pipes:
            writer.close()
        self._pipes.clear()

    async def close(self) -> None:
        self.go_away()
        if self._server is not None:
            self._server.close()


@pytest.mark.postgres
async def test_on_postgresql_health_follows_the_database(tmp_path: Path) -> None:
    """With the database gone, Submit and Trace are UNAVAILABLE without the driver's words, health is
    NOT_SERVING and accepted_total stays; with it back, SERVING and accepting again."""
    from urllib.parse import urlsplit

    from gateway.health import HealthWatch
    from gateway.hub import Hub
    from gateway.metrics import Metrics
    from gateway.server import Server
    from gateway.storage.postgres import PostgresStore
    from tests.gateway.storage.pgschema import fresh_schema

    fed = Federation.create(datetime.now(UTC))
    async with fresh_schema() as url:
        where = urlsplit(url)
        outage = Outage()
        await outage.start(where.hostname or "127.0.0.1", where.port or 5432)
        store = PostgresStore(url.replace(f":{where.port}/", f":{outage.port}/"))
        await store.open()
        hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store)
        metrics = Metrics("sc.hub")
        metrics.attach(hub)
        await hub.start()
        server = Server(hub)
        port = server.add_port("127.0.0.1:0")
        await server.start()
        watch = HealthWatch(store, fed.trust, server.set_serving, clock=hub.clock, interval=0.1)
        hub.observers.append(watch.observe)
        watch.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                answer = exchange_pb2.SubmitResponse.FromString
                call = channel.unary_unary(SUBMIT, response_deserializer=answer)
                trace = channel.unary_unary("/jgx.exchange.v1.Exchange/Trace")
                health = health_pb2_grpc.HealthStub(channel)
                await call(fed.envelope(fed.message("sc.amr", "sc.hub")))
                accepted = metrics.accepted.labels("SC-06", "sc.amr")._value.get()
                outage.go_away()
                refusals = []
                for rpc, data in (
                    (call, fed.envelope(fed.message("sc.amr", "sc.hub"))),
                    (trace, exchange_pb2.TraceRequest(message_id="x").SerializeToString()),
                ):
                    with pytest.raises(grpc.aio.AioRpcError) as refused:
                        await rpc(data, timeout=30)
                    refusals.append(refused.value)
                not_serving = await _status(health, health_pb2.HealthCheckResponse.NOT_SERVING)
                accepted_while_gone = metrics.accepted.labels("SC-06", "sc.amr")._value.get()
                outage.cut = False
                serving = await _status(health, health_pb2.HealthCheckResponse.SERVING)
                after = await call(fed.envelope(fed.message("sc.amr", "sc.hub")))
        finally:
            await watch.close()
            await server.stop(grace=1)
            await store.close()
            await outage.close()
    assert [grpc.StatusCode.UNAVAILABLE] * 2 == [r.code() for r in refusals]
    assert [] == [r.details() for r in refusals if STORE_WORDS.search(r.details() or "")]
    assert health_pb2.HealthCheckResponse.NOT_SERVING == not_serving
    assert accepted == accepted_while_gone
    assert health_pb2.HealthCheckResponse.SERVING == serving
    assert exchange_pb2.OUTCOME_ACCEPTED == exchange_pb2.Receipt.FromString(after.receipt.body).outcome
