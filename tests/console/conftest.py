"""An exchange for the console tests: real signed envelopes through a real hub into a real SQLite file.

`exchange` builds the log the console shows: the national system pushes a supervision task to market
regulation, which claims it and feeds back; an old task was never claimed (overdue); the 12315
platform sends what the ACL forbids (rejected); the spot-check system sends a record whose fields carry
HTML; a delivery to market regulation is given up on (a dead letter); the claim is delivered to the
national system's own gateway (real gRPC on loopback), whose signed receipt the hub keeps with the
delivery entry. Users of each role are added through the store, as `jgx users add` does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.sync_api import Browser, sync_playwright

from gateway.console import make_console_app
from gateway.console.app import ConsoleRunner
from gateway.console.auth import hash_password
from gateway.delivery import DeliveryWorker
from gateway.hub import Hub
from gateway.server import ExchangeService
from gateway.storage import OutboxState, Store, User
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
TASK = "TASK-2026-0001"
OLD_TASK = "TASK-2026-0000"
HOSTILE = "<script>alert('x')</script>"
USERS = {
    "ops": ("operator", ""),
    "audit": ("auditor", ""),
    "amr": ("department", "sc.amr"),
    "sjs": ("department", "sc.sjs"),
}
_SALT = b"console-tests-16"  # a fixed salt keeps the fixture fast to rebuild; real hashes are random


@dataclass
class Clock:
    """A clock the tests move by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Exchange:
    """What the scenario logged: log indexes by name, the dead letter's outbox id, the federation."""

    fed: Federation
    clock: Clock
    index: dict[str, int] = field(default_factory=dict)
    dead_letter: int = 0
    delivery: int = 0  # the log index of the claim's delivery to cn.national


async def build_exchange(store: Store, *, users: bool = True) -> Exchange:
    """Submit the scenario's envelopes through a hub, sign a checkpoint, dead-letter one delivery."""
    fed = Federation.create(NOW - timedelta(days=30))
    clock = Clock(NOW - timedelta(days=10))
    hub = Hub(
        node_id="sc.hub",
        key=fed.keys["sc.hub"],
        trust=fed.trust,
        store=store,
        clock=clock,
        checkpoint_interval=3600,
    )
    await hub.start()
    exchange = Exchange(fed, clock)

    async def send(name: str, sender: str, recipient: str, ago: timedelta, **fields: Any) -> None:
        clock.now = NOW - ago
        message = fed.message(sender, recipient, issued_at=clock.now, **fields)
        handled = await hub.submit(fed.envelope(message))
        assert handled.log_index is not None
        exchange.index[name] = handled.log_index

    task = {
        "taskName": "食品安全专项检查",
        "contactPhone": "13812345678",
        "partyName": "张三丰",
        "partyIdType": "111",
        "partyIdCode": "510104199001011234",
    }
    await send(
        "old_task",
        "cn.national",
        "sc.amr",
        timedelta(days=10),
        standard="SC-14",
        correlation_id=OLD_TASK,
        action="dispatch",
        payload={"taskName": "旧任务"},
    )
    await send(
        "task",
        "cn.national",
        "sc.amr",
        timedelta(hours=3),
        standard="SC-14",
        correlation_id=TASK,
        action="dispatch",
        message_id="national-task-0001",
        payload=task,
    )
    await send(
        "claim",
        "sc.amr",
        "cn.national",
        timedelta(hours=2),
        standard="SC-14",
        correlation_id=TASK,
        action="claim",
        payload={"claimedBy": "四川省市场监督管理局"},
        lifetime=timedelta(days=1),  # still fresh when national's gateway takes it
    )
    await send(
        "feedback",
        "sc.amr",
        "cn.national",
        timedelta(hours=1),
        standard="SC-14",
        correlation_id=TASK,
        action="feedback",
        payload={"result": "已检查 3 家"},
    )
    await send("denied", "sc.12315", "sc.sjs", timedelta(minutes=40), standard="SC-06")
    await hub.checkpointer.checkpoint_now()  # a first checkpoint of 5 leaves, so there is history
    await send(
        "hostile",
        "sc.sjs",
        "sc.hub",
        timedelta(minutes=30),
        standard="SC-09",
        correlation_id=HOSTILE,
        payload={"note": HOSTILE, "=cmd": "=1+1"},
    )
    clock.now = NOW - timedelta(minutes=20)
    await hub.checkpointer.checkpoint_now()
    pending = await store.outbox(state=OutboxState.PENDING)
    [dead] = [item for item in pending if item.log_index == exchange.index["task"]]
    await store.dead_letter(dead.id, error="UNAVAILABLE: 适配器无法连接 / adapter unreachable", now=clock.now)
    exchange.dead_letter = dead.id
    clock.now = NOW - timedelta(minutes=10)
    exchange.delivery = await deliver_to_national(store, fed, clock, exchange.index["claim"])
    await hub.close()
    clock.now = NOW
    if users:
        for name, (role, node) in USERS.items():
            user = User(name, role, node, hash_password(PASSWORD, salt=_SALT), NOW)
            await store.add_user(user, now=NOW, actor="test")
    return exchange


async def deliver_to_national(store: Store, fed: Federation, clock: Clock, log_index: int) -> int:
    """Deliver the outbox row of ``log_index`` to cn.national's gateway; the delivery entry's log index."""
    folder = tempfile.TemporaryDirectory(prefix="jgx-national-")
    national = SqliteStore(Path(folder.name) / "national.db")
    await national.open()
    key = fed.keys["cn.national"]
    peer = Hub(node_id="cn.national", key=key, trust=fed.trust, store=national, clock=clock)
    await peer.start()
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([ExchangeService(peer).handler()])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    worker = DeliveryWorker(
        store=store, trust=fed.trust, node_id="sc.hub", clock=clock,
        peers={"cn.national": f"127.0.0.1:{port}"},
    )  # fmt: skip
    try:
        [item] = [i for i in await store.outbox(state=OutboxState.PENDING) if i.log_index == log_index]
        record = await store.message(log_index)
        assert record is not None
        attempt = await worker.deliver(dataclasses.replace(item, envelope=record.envelope))
        assert "delivered" == attempt.result, attempt
        [settled] = await store.outbox_of(log_index)
        assert settled.delivery_index is not None
        return settled.delivery_index
    finally:
        await worker.close()
        await server.stop(0)
        await peer.close()
        await national.close()
        folder.cleanup()


class ConsoleTestServer(TestServer):
    """aiohttp's test server, run by the console's own runner (security headers on every answer)."""

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        return ConsoleRunner(self.app, **kwargs)


@pytest.fixture
async def exchange_store(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, Exchange]]:
    """An open store holding the scenario."""
    store = SqliteStore(tmp_path / "jgx.db")
    await store.open()
    try:
        yield store, await build_exchange(store)
    finally:
        await store.close()


@pytest.fixture
async def console(
    exchange_store: tuple[SqliteStore, Exchange],
) -> AsyncIterator[tuple[TestClient[Any, Any], Exchange]]:
    """A test client of the console over the scenario (real HTTP on an ephemeral port)."""
    store, exchange = exchange_store
    app: web.Application = make_console_app(store, exchange.fed.trust, node_id="sc.hub", clock=exchange.clock)
    client: TestClient[Any, Any] = TestClient(ConsoleTestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client, exchange
    finally:
        await client.close()


async def login(client: TestClient[Any, Any], username: str) -> str:
    """Log in through the JSON API; return the session's CSRF token."""
    response = await client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert 200 == response.status
    token: str = (await response.json())["csrf_token"]
    return token


@dataclass
class Scenario:
    """The scenario's database file, built once, and what it logged."""

    path: Path
    exchange: Exchange

    def copy_to(self, path: Path) -> Exchange:
        """Copy the closed database to ``path``; the exchange with a clock of its own."""
        shutil.copyfile(self.path, path)
        done = self.exchange
        return Exchange(done.fed, Clock(done.clock.now), dict(done.index), done.dead_letter, done.delivery)


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The scenario built once, on this thread, before any browser starts.

    The browser tests serve the console from a thread of their own; the scenario's gRPC delivery must
    not run on that thread's event loop, because grpc.aio keeps process-wide state that a second
    thread's loop upsets (later gRPC tests of the same run then hang).
    """
    path = tmp_path_factory.mktemp("scenario") / "jgx.db"

    async def build() -> Exchange:
        store = SqliteStore(path)
        await store.open()
        try:
            return await build_exchange(store)
        finally:
            await store.close()

    return Scenario(path, asyncio.run(build()))


@pytest.fixture(scope="module")
def browser(scenario: Scenario) -> Iterator[Browser]:
    """Debian's chromium, headless, launched through Playwright's bundled driver (never its own build).

    Module-scoped: Playwright's synchronous API keeps an event loop running on this thread, which the
    asynchronous tests of the other modules must not find. It needs the scenario first (see there).
    """
    from tests.console.browsing import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()
