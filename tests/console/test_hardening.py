"""The console tried as a hostile user would: receipts, headers, cookies, throttling, time zone, overdue."""

from __future__ import annotations

import asyncio
import sqlite3
import ssl
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway.cli.console import start_console
from gateway.config import parse_config, render_config
from gateway.console import make_console_app
from gateway.console.app import CONSOLE, SECURITY_HEADERS
from gateway.console.throttle import LoginThrottle
from gateway.console_settings import ConsoleSettings
from gateway.errors import JgxError
from gateway.hops import local_hops
from gateway.pki import create_ca, issue_node_certificate
from gateway.receipts import issue_receipt
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from tests.console.conftest import NOW, PASSWORD, ConsoleTestServer, Exchange, login

Client = TestClient[Any, Any]
Pair = tuple[Client, Exchange]


async def client_for(
    exchange_store: tuple[SqliteStore, Exchange], settings: ConsoleSettings, fed: Federation | None = None
) -> Client:
    """A started test client of a console with ``settings`` (and ``fed``'s trust, if given)."""
    store, exchange = exchange_store
    trust = (fed or exchange.fed).trust
    app = make_console_app(store, trust, node_id="sc.hub", clock=exchange.clock, settings=settings)
    client: Client = TestClient(ConsoleTestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


def forge_delivery_receipt(path: Path, exchange: Exchange) -> None:
    """Replace the stored receipt of the claim's delivery with one sc.sjs signed, naming itself issuer."""
    with sqlite3.connect(path) as conn:
        [(digest,)] = conn.execute(
            "SELECT envelope_sha256 FROM messages WHERE log_index = ?", (exchange.delivery,)
        ).fetchall()
        forged = issue_receipt(
            issuer="sc.sjs", key=exchange.fed.keys["sc.sjs"], envelope_sha256=bytes(digest), message_id="m",
            sender="sc.amr", recipient="cn.national", outcome=1, reason_codes=(), findings=(), log_index=0,
            now=NOW,
        )  # fmt: skip
        conn.execute(
            "UPDATE messages SET receipt = ? WHERE log_index = ?",
            (forged.SerializeToString(), exchange.delivery),
        )


# -- 9. receipts are verified with the key of the node that issued them ---------------------------
async def test_a_delivery_receipt_verifies_with_the_recipients_key(console: Pair) -> None:
    """The claim's delivery row and the delivery entry itself show national's receipt as valid."""
    client, exchange = console
    await login(client, "audit")
    claim = await (await client.get(f"/api/v1/messages/{exchange.index['claim']}")).json()
    entry = await (await client.get(f"/api/v1/messages/{exchange.delivery}")).json()
    [delivery] = claim["deliveries"]
    shown = [
        (r["issuer"], r["signature_valid"], r["problem"]) for r in (delivery["receipt"], entry["receipt"])
    ]
    assert [("cn.national", True, ""), ("cn.national", True, "")] == shown


async def test_a_receipt_claiming_another_issuer_is_shown_forged(
    console: Pair, tmp_path: Path, exchange_store: tuple[SqliteStore, Exchange]
) -> None:
    """A delivery receipt signed by another trusted node, naming itself, fails in the console and in trace."""
    client, exchange = console
    forge_delivery_receipt(tmp_path / "jgx.db", exchange)
    await login(client, "audit")
    entry = await (await client.get(f"/api/v1/messages/{exchange.delivery}")).json()
    store, _ = exchange_store
    record = await store.message(exchange.delivery)
    assert record is not None
    [hop] = local_hops("sc.hub", [record], exchange.fed.trust, now=NOW)
    assert (False, "not signed by cn.national") == (entry["receipt"]["signature_valid"],
                                                    entry["receipt"]["problem"].split(": ")[-1])  # fmt: skip
    assert "receipt ✘ RECEIPT_INVALID" == hop.receipt


# -- 10. security headers on every answer -----------------------------------------------------------
def _missing_headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    return {k: v for k, v in SECURITY_HEADERS.items() if response.headers.get(k) != v}


async def _raw(client: Client, data: bytes) -> tuple[int, dict[str, str]]:
    """Send raw bytes to the console; the status and headers of its answer."""
    assert client.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(data)
    await writer.drain()
    head = (await reader.read(65536)).decode("latin-1").split("\r\n\r\n", 1)[0].split("\r\n")
    writer.close()
    headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    return int(head[0].split()[1]), headers


async def test_every_route_and_error_carries_the_security_headers(console: Pair, tmp_path: Path) -> None:
    """Each route (anonymous and logged in), the CSV download, redirects and every error kind."""
    client, exchange = console
    database = tmp_path / "jgx.db"
    paths = {}
    for route in client.server.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter", "").replace("{index}", str(exchange.index["task"]))
        paths[(route.method, path.replace("{item_id}", str(exchange.dead_letter)))] = True
    logouts = [key for key in paths if key[1].endswith("/logout")]  # last: they end the session
    missing: dict[str, dict[str, str]] = {}
    for token in ("", await login(client, "ops")):
        for method, path in [*(k for k in paths if k not in logouts), *logouts]:
            response = await client.request(
                method, path, allow_redirects=False, headers={"X-CSRF-Token": token}
            )
            missing.update(
                {f"{method} {path} {response.status}": m for m in [_missing_headers(response)] if m}
            )
    token = await login(client, "ops")
    errors = {
        "404": await client.get("/no/such/page"),
        "404 api": await client.get("/api/v1/nothing"),
        "405": await client.put("/messages", headers={"X-CSRF-Token": token}),
        "413": await client.post("/login", data={"x": "y" * 100_000}),
        "too long": await client.get("/messages?q=" + "x" * 9000),  # aiohttp's parser: 400
        "csv": await client.get("/messages.csv"),
    }
    missing.update({k: m for k, r in errors.items() if (m := _missing_headers(r))})
    status, headers = await _raw(client, b"GARBAGE / HTTP/1.1\r\n\r\n")
    raw_missing = {k: v for k, v in SECURITY_HEADERS.items() if headers.get(k) != v}
    missing.update({f"raw {status}": raw_missing} if raw_missing else {})
    with sqlite3.connect(database) as conn:  # a fault that is not the store's: 500
        conn.execute("ALTER TABLE messages RENAME TO messages_gone")
    failures = [await client.get("/messages"), await client.get("/api/v1/messages")]
    await client.server.app[CONSOLE].store.close()  # the store itself fails: 503
    failures += [await client.get("/messages"), await client.get("/api/v1/messages")]
    missing.update({f"{r.status} {r.url.path}": m for r in failures if (m := _missing_headers(r))})
    assert {} == missing
    assert [404, 404, 405, 413, 400, 200] == [r.status for r in errors.values()]
    assert [500, 500, 503, 503] == [r.status for r in failures]
    page = await failures[0].text()
    assert ("内部错误，已记录" in page, "messages_gone" in page, "Traceback" in page) == (True, False, False)


async def test_unknown_pages_answer_the_bilingual_error_page_with_a_way_back(console: Pair) -> None:
    """A 404 for a logged-in user is the console's page linking back to the dashboard."""
    client, _ = console
    await login(client, "ops")
    page = await (await client.get("/no/such/page")).text()
    assert ('id="back" href="/"' in page, "未找到" in page) == (True, True)


# -- 11. Secure cookies behind TLS ------------------------------------------------------------------
async def test_cookies_are_secure_only_behind_a_trusted_tls_proxy(
    exchange_store: tuple[SqliteStore, Exchange],
) -> None:
    """X-Forwarded-Proto: https from a configured proxy makes cookies Secure; from others it is ignored."""
    seen = []
    for proxies in (("127.0.0.1",), ()):
        client = await client_for(exchange_store, ConsoleSettings(trusted_proxies=proxies))
        try:
            for proto in ("https", "http"):
                response = await client.post("/api/v1/login", json={"username": "ops", "password": PASSWORD},
                                             headers={"X-Forwarded-Proto": proto})  # fmt: skip
                seen.append(bool(response.cookies["jgx_session"]["secure"]))
        finally:
            await client.close()
    assert [True, False, False, False] == seen


@pytest.fixture
async def tls_console(
    tmp_path: Path, exchange_store: tuple[SqliteStore, Exchange]
) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    """The console serving TLS itself from [console] tls_cert/tls_key; its URL and a client context."""
    ca_cert, ca_key = create_ca("console test CA", NOW - timedelta(days=1))
    from datetime import UTC, datetime

    cert, key = issue_node_certificate(ca_cert, ca_key, "sc.hub", now=datetime.now(UTC))
    (tmp_path / "console.crt").write_bytes(cert)
    (tmp_path / "console.key").write_bytes(key)
    store, exchange = exchange_store
    settings = ConsoleSettings(tls_cert=tmp_path / "console.crt", tls_key=tmp_path / "console.key")
    runner = await start_console(store, exchange.fed.trust, node_id="sc.hub", address="127.0.0.1:0",
                                 settings=settings)  # fmt: skip
    assert runner is not None
    context = ssl.create_default_context(cadata=ca_cert.decode())
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}", context
    finally:
        await runner.cleanup()


async def test_the_console_serves_tls_itself_with_secure_cookies(
    tls_console: tuple[str, ssl.SSLContext],
) -> None:
    """Over the console's own TLS the login answers with a Secure session cookie."""
    url, context = tls_console
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{url}/api/v1/login", json={"username": "ops", "password": PASSWORD},
                                      ssl=context)  # fmt: skip
        assert (200, True) == (response.status, bool(response.cookies["jgx_session"]["secure"]))


# -- 12. login throttling -----------------------------------------------------------------------------
async def _try(client: Client, username: str, password: str, address: str = "") -> aiohttp.ClientResponse:
    headers = {"X-Forwarded-For": address} if address else {}
    return await client.post(
        "/api/v1/login", json={"username": username, "password": password}, headers=headers
    )


async def _audit_actions(client: Client) -> list[str]:
    await login(client, "audit")
    entries = (await (await client.get("/api/v1/audit")).json())["entries"]
    return [e["action"] for e in entries]


async def test_failures_slow_down_then_lock_the_pair_but_not_a_fresh_address(
    exchange_store: tuple[SqliteStore, Exchange],
) -> None:
    """After 2 free failures waits start (429 + Retry-After); at 5 the pair locks for 15 minutes, audited.

    The right password from the same address is refused while locked; from another address (through
    the configured proxy) it works at once; after the lock the first address may log in again.
    """
    client = await client_for(exchange_store, ConsoleSettings(trusted_proxies=("127.0.0.1",)))
    clock = exchange_store[1].clock
    attacker = "203.0.113.9"
    try:
        statuses = [(await _try(client, "ops", "guess-1", attacker)).status for _ in range(2)]
        statuses.append((await _try(client, "ops", "guess-3", attacker)).status)  # third failure: wait 2 s
        slowed = await _try(client, "ops", PASSWORD, attacker)
        statuses.append(slowed.status)
        for _ in range(2):  # failures 4 and 5, each after its wait
            clock.now += timedelta(seconds=10)
            statuses.append((await _try(client, "ops", "guess-n", attacker)).status)
        clock.now += timedelta(seconds=60)
        locked = await _try(client, "ops", PASSWORD, attacker)
        fresh = await _try(client, "ops", PASSWORD, "198.51.100.4")
        clock.now += timedelta(minutes=15)
        later = await _try(client, "ops", PASSWORD, attacker)
        actions = await _audit_actions(client)
    finally:
        await client.close()
    assert [401, 401, 401, 429, 401, 401] == statuses
    assert ("2", 429, 200, 200) == (slowed.headers["Retry-After"], locked.status, fresh.status, later.status)
    assert 1 == actions.count("console.login_locked")


async def test_an_address_guessing_many_accounts_is_locked(
    exchange_store: tuple[SqliteStore, Exchange],
) -> None:
    """Thirty failures from one address, over any accounts, lock the address, even for a right password."""
    client = await client_for(exchange_store, ConsoleSettings())
    clock = exchange_store[1].clock
    try:
        statuses = []
        for n in range(30):
            clock.now += timedelta(seconds=61)  # longer than any wait, shorter than the window
            statuses.append((await _try(client, f"user{n}", "guess")).status)
        refused = await _try(client, "ops", PASSWORD)
        actions = await _audit_actions_after(client, clock)
    finally:
        await client.close()
    assert ([401] * 30, 429) == (statuses, refused.status)
    assert "console.address_locked" in actions


async def _audit_actions_after(client: Client, clock: Any) -> list[str]:
    clock.now += timedelta(minutes=16)  # the address lock has ended
    return await _audit_actions(client)


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(
    exchange_store: tuple[SqliteStore, Exchange],
) -> None:
    """Without a configured proxy, a made-up X-Forwarded-For does not escape the pair's lock."""
    client = await client_for(exchange_store, ConsoleSettings())
    clock = exchange_store[1].clock
    try:
        for _ in range(5):
            clock.now += timedelta(seconds=20)
            await _try(client, "ops", "guess")
        spoofed = await _try(client, "ops", PASSWORD, "198.51.100.77")
    finally:
        await client.close()
    assert 429 == spoofed.status


# -- 13. one time zone ------------------------------------------------------------------------------
async def test_filters_are_read_in_the_configured_time_zone(
    exchange_store: tuple[SqliteStore, Exchange],
) -> None:
    """With time_zone America/New_York, rows show New York time and a local 'since' is read in it."""
    client = await client_for(exchange_store, ConsoleSettings(time_zone="America/New_York"))
    try:
        await login(client, "audit")
        found = await (await client.get("/api/v1/messages", params={"since": "2026-11-19T21:30"})).json()
        page = await (await client.get("/messages", params={"correlation_id": "TASK-2026-0001"})).text()
    finally:
        await client.close()
    times = sorted(row["time"] for row in found["results"])
    assert "2026-11-20T02:30:00Z" <= times[0]  # 21:30 in New York is 02:30 UTC
    assert ("America/New_York (UTC-05:00)" in page, "2026-11-19 19:00:00" in page) == (True, True)


async def test_the_client_behind_a_trusted_proxy_is_the_rightmost_untrusted_address(
    exchange_store: tuple[SqliteStore, Exchange],
) -> None:
    """A made-up leftmost X-Forwarded-For entry is not believed; the audit log names the real client."""
    client = await client_for(exchange_store, ConsoleSettings(trusted_proxies=("127.0.0.0/8",)))
    try:
        await _try(client, "ops", "guess", "192.0.2.1, 198.51.100.20, 127.0.0.5")
        await login(client, "audit")
        entries = (await (await client.get("/api/v1/audit")).json())["entries"]
    finally:
        await client.close()
    [failed] = [e for e in entries if e["action"] == "console.login_failed"]
    assert "address=198.51.100.20" == failed["detail"]


# -- the throttle's policy as a table ----------------------------------------------------------------
def test_the_throttle_waits_and_locks_as_documented() -> None:
    """Pair waits 0, 0, 2, 4 s then locks; address waits double to 60 s; account failures only alert."""
    throttle, now = LoginThrottle(), NOW
    pair_waits = []
    for _ in range(4):
        throttle.failed("ops", "a1", now)
        pair_waits.append(throttle.check("ops", "a1", now).retry_after.seconds)
    events = throttle.failed("ops", "a1", now)
    locked = throttle.check("ops", "a1", now)
    other = LoginThrottle()
    address_waits = []
    for n in range(29):
        other.failed(f"user{n}", "a2", now)
        address_waits.append(other.check(f"new{n}", "a2", now).retry_after.seconds)
    assert [0, 0, 2, 4] == pair_waits
    assert (["pair_locked"], "pair_locked", 900) == (events, locked.reason, locked.retry_after.seconds)
    assert [0] * 10 + [1, 2, 4, 8, 16, 32] + [60] * 13 == address_waits


def test_many_addresses_alert_but_never_lock_an_account_and_success_clears_only_the_pair() -> None:
    """Twenty failures from twenty addresses raise one alert; a fresh address may still try at once."""
    throttle, now = LoginThrottle(), NOW
    events = [e for n in range(20) for e in throttle.failed("ops", f"10.0.0.{n}", now)]
    fresh = throttle.check("ops", "10.0.1.1", now)
    for _ in range(3):
        throttle.failed("li", "10.0.2.2", now)
    throttle.succeeded("li", "10.0.2.2")
    assert (["under_attack"], True, 3) == (events, fresh.allowed, throttle.addresses["10.0.2.2"].failures)
    assert ("li", "10.0.2.2") not in throttle.pairs


# -- [console] in jgx.toml ----------------------------------------------------------------------------
def test_console_table_is_read_and_written_back(tmp_path: Path) -> None:
    """Every [console] key is read (paths relative to the file) and render_config writes it back."""
    table = (
        'time_zone = "Europe/Berlin"\ntls_cert = "c.pem"\ntls_key = "k.pem"\n'
        'trusted_proxies = ["10.0.0.0/24"]\nsecure_cookies = true'
    )
    config = parse_config(f'node_id = "sc.hub"\n[console]\n{table}\n', directory=tmp_path)
    default = parse_config('node_id = "sc.hub"\n', directory=tmp_path)
    expected = ConsoleSettings(
        "Europe/Berlin", tmp_path / "c.pem", tmp_path / "k.pem", ("10.0.0.0/24",), True
    )
    assert (expected, ConsoleSettings()) == (config.console, default.console)
    assert config == parse_config(render_config(config), directory=tmp_path)


REFUSED_TABLES = [
    # (name, table text, the key the error names)
    ("unknown zone", 'time_zone = "Mars/Olympus"', "console.time_zone"),
    ("cert without key", 'tls_cert = "c.pem"', "console.tls_cert"),
    ("bad proxy", 'trusted_proxies = ["not-an-address"]', "console.trusted_proxies"),
    ("flag as text", 'secure_cookies = "yes"', "console.secure_cookies"),
    ("unknown key", "colour = 1", "console.colour"),
]


@pytest.mark.parametrize(("name", "table", "key"), REFUSED_TABLES)
def test_a_bad_console_table_is_refused_naming_its_key(
    name: str, table: str, key: str, tmp_path: Path
) -> None:
    """A bad [console] value is a typed error that names the key."""
    with pytest.raises(JgxError) as refused:
        parse_config(f'node_id = "sc.hub"\n[console]\n{table}\n', directory=tmp_path)
    assert f"[{key}]" in str(refused.value)
