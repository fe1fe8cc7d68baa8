"""SIGTERM always stops the node: no wait in the packages swallows a cancellation, and ``jgx serve``
shuts down in a fixed order within its grace period, under load, at any moment."""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from gateway._aio import stop_task, wait_event
from gateway.config import load_config, render_config
from gateway.delivery import DeliveryWorker
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from tests.gateway.nodes import ServeProcess, client_credentials, jgx, write_node

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
GRACE = 2.0


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
async def test_a_cancellation_arriving_with_the_event_is_never_lost(turns: int) -> None:
    """wait_event raises CancelledError when cancelled in the same loop turns as its event is set."""
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_event(event, 30))
    await asyncio.sleep(0)  # the waiter is waiting
    event.set()
    for _ in range(turns):
        await asyncio.sleep(0)
    if waiter.cancel():  # still waiting when cancelled: the cancellation must win
        with pytest.raises(asyncio.CancelledError):
            await waiter
    else:  # it had returned already, with the event set
        assert await waiter


async def test_stop_task_passes_the_callers_cancellation_on() -> None:
    """A caller cancelled while it waits for a task to stop is cancelled itself."""
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():  # ignores its cancellation until released
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    stopper = asyncio.create_task(stop_task(task))
    await asyncio.sleep(0.01)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    release.set()
    await asyncio.wait({task})


async def test_the_delivery_worker_stops_while_woken_at_every_turn(tmp_path: Path) -> None:
    """close() returns although the worker is woken on every loop turn (as under load) when cancelled."""
    fed = Federation.create(datetime.now(UTC))
    store = SqliteStore(tmp_path / "jgx.db")
    await store.open()
    try:
        for _ in range(20):
            worker = DeliveryWorker(store=store, trust=fed.trust, node_id="sc.hub")
            worker.start()
            calm = asyncio.Event()

            async def storm(worker: DeliveryWorker = worker, calm: asyncio.Event = calm) -> None:
                while not calm.is_set():
                    worker.wake()
                    await asyncio.sleep(0)

            waker = asyncio.create_task(storm())
            await asyncio.sleep(0.01)
            closing = asyncio.create_task(worker.close())
            done, _ = await asyncio.wait({closing}, timeout=10)
            calm.set()
            await waker
            assert {closing} == done, "the worker lost its cancellation and kept running"
    finally:
        await store.close()


async def _load(node: Path, port: int, fed: Federation, receipts: list[exchange_pb2.Envelope]) -> None:
    """Eight senders submitting envelopes for cn.national (each wakes the delivery worker) until refused."""
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", client_credentials(node, "sc.amr")) as channel:
        call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)

        async def sender() -> None:
            while True:
                try:
                    response = await call(fed.envelope(fed.message("sc.amr", "cn.national")), timeout=10)
                except grpc.aio.AioRpcError:
                    return  # the node stopped accepting
                receipts.append(response.receipt)

        await asyncio.gather(*(sender() for _ in range(8)))


async def _trial(node: Path, fed: Federation, rng: random.Random) -> tuple[float, int, int]:
    serve = await asyncio.to_thread(
        ServeProcess, node, "--listen", "127.0.0.1:0", "--console", "off", "--grace", str(GRACE),
        "--checkpoint-interval", "0.05",
    )  # fmt: skip
    receipts: list[exchange_pb2.Envelope] = []
    load = asyncio.create_task(_load(node, serve.port, fed, receipts))
    await asyncio.sleep(rng.uniform(0.05, 1.5))
    signalled = time.monotonic()
    serve.process.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.to_thread(serve.process.wait, GRACE + 20)
    except subprocess.TimeoutExpired:  # still serving: end it so that the test can report it
        serve.process.kill()
        code = await asyncio.to_thread(serve.process.wait, 60)
    took = time.monotonic() - signalled
    await load
    for receipt in receipts:
        verify_receipt(receipt, fed.trust, issuer="sc.hub", now=datetime.now(UTC))
    with sqlite3.connect(node / "jgx.db") as db:
        logged = {row[0] for row in db.execute("SELECT log_index FROM messages")}
    missing = [r for r in receipts if exchange_pb2.Receipt.FromString(r.body).log_index not in logged]
    return took, code, len(missing)


@pytest.mark.slow
def test_sigterm_at_random_moments_under_load_stops_the_node_within_its_grace(tmp_path: Path) -> None:
    """Over mTLS, with deliveries failing and retrying: every SIGTERM ends jgx serve within grace + 1 s,
    and every receipt handed out before it is in the log, which verifies."""
    fed = Federation.create(datetime.now(UTC))
    node = write_node(tmp_path / "node", fed)
    config = load_config(node / "jgx.toml").with_peer("cn.national", "127.0.0.1:1")  # refuses: retries
    (node / "jgx.toml").write_text(render_config(config), encoding="utf-8")
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    results = [asyncio.run(_trial(node, fed, rng)) for _ in range(12)]
    late = [(round(took, 2), code) for took, code, _ in results if took > GRACE + 1]
    assert [] == late, f"seed {seed}: exits after SIGTERM took {late} s (grace {GRACE} s)"
    assert [0] * len(results) == [code for _, code, _ in results], f"seed {seed}: {results}"
    assert [0] * len(results) == [missing for _, _, missing in results], f"seed {seed}: receipted, not logged"
    verified = jgx("log", "verify", "--dir", str(node))
    assert 0 == verified.returncode, verified.stderr
