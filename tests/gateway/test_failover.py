"""Failover: two ``jgx serve`` replicas on one PostgreSQL schema, one SIGKILLed under client load.

The client sends every envelope to one replica and, when that fails, the same bytes to the other.
Afterwards every receipted message is in the log exactly once, every delivery to the recipient's
gateway completes (rows the dead replica had claimed are taken over when their lease ends), and
``jgx log verify`` passes on the shared database.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from gateway.config import CONFIG_FILE, Limits, load_config, render_config
from gateway.hub import Hub
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from gateway.server import Server, insecure_peer
from gateway.storage import OutboxState
from gateway.storage.postgres import PostgresStore
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from tests.gateway.nodes import ServeProcess, jgx, write_node
from tests.gateway.storage.pgschema import drop_schema, new_schema_url

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
MESSAGES = 240
KILL_AFTER = 80
CLIENTS = 6


def configure(node: Path, storage_url: str, national: int) -> None:
    """Point the node at the shared schema and at the national gateway; lift the per-sender rate limit."""
    config = load_config(node / CONFIG_FILE)
    config = dataclasses.replace(
        config,
        storage_url=storage_url,
        limits=Limits(rate_limit_per_sender=100_000.0, rate_burst=100_000),
        listen=dataclasses.replace(config.listen, metrics_port=0),
        peers={"cn.national": f"127.0.0.1:{national}"},
    )
    (node / CONFIG_FILE).write_text(render_config(config), encoding="utf-8")


class Client:
    """Submits with retry across replicas: on any failure the same bytes go to the next replica."""

    def __init__(self, ports: Sequence[int]) -> None:
        self.channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for port in ports]
        self.receipts: dict[str, exchange_pb2.Envelope] = {}
        self.failovers = 0

    async def submit(self, message_id: str, data: bytes, first: int) -> None:
        for attempt in range(40):
            channel = self.channels[(first + attempt) % len(self.channels)]
            call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
            try:
                response = await call(data, timeout=10)
            except grpc.aio.AioRpcError:
                self.failovers += 1
                await asyncio.sleep(0.05)
                continue
            self.receipts[message_id] = response.receipt
            return
        raise AssertionError(f"{message_id} got no receipt from any replica")

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


async def load(client: Client, envelopes: dict[str, bytes], victim: ServeProcess) -> None:
    """Send every envelope from CLIENTS concurrent tasks; SIGKILL ``victim`` after KILL_AFTER receipts."""
    queue: asyncio.Queue[tuple[int, str, bytes]] = asyncio.Queue()
    for n, (message_id, data) in enumerate(envelopes.items()):
        queue.put_nowait((n, message_id, data))
    killed = asyncio.Event()

    async def worker() -> None:
        while not queue.empty():
            n, message_id, data = queue.get_nowait()
            await client.submit(message_id, data, first=n % 2)
            if len(client.receipts) >= KILL_AFTER and not killed.is_set():
                killed.set()
                await asyncio.to_thread(victim.kill)

    await asyncio.gather(*(worker() for _ in range(CLIENTS)))


async def wait_for_deliveries(store: PostgresStore, expected: int) -> None:
    """Poll until ``expected`` outbox rows are delivered, within a generous bound (leases last 40 s)."""
    for _ in range(240):
        rows = await store.outbox(limit=expected + 100)
        if len(rows) == expected and all(row.state == OutboxState.DELIVERED for row in rows):
            return
        await asyncio.sleep(0.5)


async def scenario(tmp_path: Path, fed: Federation, url: str) -> None:
    national_store = SqliteStore(tmp_path / "national.db")
    await national_store.open()
    national = Hub(node_id="cn.national", key=fed.keys["cn.national"], trust=fed.trust, store=national_store)
    await national.start()
    server = Server(national, peer_node=insecure_peer)
    national_port = server.add_port("127.0.0.1:0", None)
    await server.start()

    node = write_node(tmp_path / "hub", fed)
    configure(node, url, national_port)
    args = ("--listen", "127.0.0.1:0", "--insecure-dev", "--checkpoint-interval", "0.2")
    first, second = await asyncio.gather(
        asyncio.to_thread(ServeProcess, node, *args), asyncio.to_thread(ServeProcess, node, *args)
    )
    envelopes = {
        f"failover-{n}": fed.envelope(fed.message("sc.amr", "cn.national", message_id=f"failover-{n}"))
        for n in range(MESSAGES)
    }
    client = Client([first.port, second.port])
    store = PostgresStore(url)
    try:
        await load(client, envelopes, first)
        await store.open()
        await wait_for_deliveries(store, MESSAGES)
        verify = await asyncio.to_thread(jgx, "log", "verify", "--dir", str(node))
        hub_rows = {m: await store.find_messages(message_id=m, sender="sc.amr") for m in envelopes}
        outbox = await store.outbox(limit=MESSAGES + 100)
        national_rows = {m: await national_store.find_messages(message_id=m) for m in envelopes}
    finally:
        await client.close()
        await store.close()
        assert 0 == await asyncio.to_thread(second.terminate)
        await server.stop(None)
        await national.close()
        await national_store.close()

    assert -9 == first.process.returncode
    assert client.failovers > 0  # the kill was felt by the client
    assert sorted(envelopes) == sorted(client.receipts)
    now = datetime.now(UTC)
    for message_id, envelope in client.receipts.items():
        receipt = verify_receipt(envelope, fed.trust, issuer="sc.hub", now=now)
        kinds = [(row.kind, row.duplicate_of is None) for row in hub_rows[message_id]]
        originals = [
            row.log_index
            for row in hub_rows[message_id]
            if (row.kind, row.duplicate_of) == ("submission", None)
        ]
        assert ([receipt.log_index], exchange_pb2.OUTCOME_ACCEPTED) == (originals, receipt.outcome), (
            message_id
        )
        assert 1 == kinds.count(("delivery", True)), message_id  # the national gateway's receipt, logged once
        received = [row for row in national_rows[message_id] if row.duplicate_of is None]
        assert 1 == len(received), message_id
    assert MESSAGES == len(outbox)
    assert {OutboxState.DELIVERED} == {row.state for row in outbox}
    assert 0 == verify.returncode, verify.stderr


def test_sigkill_of_one_replica_loses_no_receipted_message(tmp_path: Path) -> None:
    """Two replicas under load, one SIGKILLed: each receipted message logged once and delivered once."""
    fed = Federation.create(datetime.now(UTC))
    url, schema = new_schema_url("failover")
    try:
        asyncio.run(scenario(tmp_path, fed, url))
    finally:
        asyncio.run(drop_schema(schema))
