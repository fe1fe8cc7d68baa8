"""Security of the console: CSRF on every state change, department confinement, no anonymous access."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.console.conftest import PASSWORD, TASK, Exchange, login

Client = TestClient[Any, Any]
Pair = tuple[Client, Exchange]


async def test_anonymous_requests_are_sent_to_login(console: Pair) -> None:
    """Without a session, pages redirect to /login and API paths answer 401."""
    client, exchange = console
    page = await client.get(f"/messages/{exchange.index['task']}", allow_redirects=False)
    api = await client.get(f"/api/v1/messages/{exchange.index['task']}")
    assert (303, "/login", 401) == (page.status, page.headers["Location"], api.status)


async def test_posts_without_the_csrf_token_are_refused(console: Pair) -> None:
    """Replay and logout without (or with a wrong) CSRF token answer 403 and change nothing."""
    client, exchange = console
    await login(client, "ops")
    replay = f"/api/v1/dead-letters/{exchange.dead_letter}/replay"
    statuses = [
        (await client.post(replay)).status,
        (await client.post(replay, headers={"X-CSRF-Token": "guess"})).status,
        (await client.post(f"/dead-letters/{exchange.dead_letter}/replay", data={"x": "1"})).status,
        (await client.post("/logout", data={})).status,
    ]
    dead = (await (await client.get("/api/v1/dead-letters")).json())["dead_letters"]
    assert ([403, 403, 403, 403], [exchange.dead_letter]) == (statuses, [d["id"] for d in dead])


async def test_login_form_needs_its_csrf_token(console: Pair) -> None:
    """A login form post without the double-submit token is refused even with the right password."""
    client, _ = console
    response = await client.post("/login", data={"username": "ops", "password": PASSWORD})
    assert 403 == response.status


async def test_login_form_with_its_token_starts_a_session(console: Pair) -> None:
    """The login page's token and cookie, posted back with the password, lead to the dashboard."""
    client, _ = console
    page = await (await client.get("/login")).text()
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = await client.post(
        "/login", data={"csrf_token": token, "username": "ops", "password": PASSWORD}, allow_redirects=False
    )
    me = await client.get("/api/v1/me")
    assert (303, 200) == (response.status, me.status)


async def test_api_login_needs_json(console: Pair) -> None:
    """A form-encoded post to the API login (what a cross-site form could send) is refused."""
    client, _ = console
    response = await client.post("/api/v1/login", data={"username": "ops", "password": PASSWORD})
    assert 415 == response.status


@pytest.mark.parametrize("name", ["denied", "hostile"])
async def test_department_cannot_read_other_departments_messages(console: Pair, name: str) -> None:
    """Market regulation gets 404 for others' entries on every page and API path, as if absent."""
    client, exchange = console
    await login(client, "amr")
    index = exchange.index[name]
    paths = [f"/api/v1/messages/{index}", f"/api/v1/messages/{index}/proof", f"/messages/{index}",
             f"/messages/{index}/proof"]  # fmt: skip
    statuses = [(await client.get(path)).status for path in paths]
    assert [404, 404, 404, 404] == statuses
    missing = (await client.get("/api/v1/messages/999999")).status
    assert 404 == missing


async def test_department_search_and_lifecycle_are_confined(console: Pair) -> None:
    """Search, CSV, lifecycle and dashboard show a department only what its node sent or received."""
    client, exchange = console
    await login(client, "sjs")
    found = await (await client.get("/api/v1/messages", params={"limit": "100"})).json()
    by_sender = await (await client.get("/api/v1/messages", params={"sender": "cn.national"})).json()
    lifecycle = await client.get("/api/v1/lifecycle", params={"correlation_id": TASK})
    csv_text = await (await client.get("/api/v1/messages.csv")).text()
    expected = sorted([exchange.index["hostile"], exchange.index["denied"]], reverse=True)
    assert expected == [row["log_index"] for row in found["results"]]
    assert ([], 404) == (by_sender["results"], lifecycle.status)
    assert 3 == len(csv_text.strip().splitlines())


async def test_department_cannot_replay_or_read_the_audit_log(console: Pair) -> None:
    """A department user may see its own dead letter but not replay it, nor read the audit log."""
    client, exchange = console
    token = await login(client, "amr")
    replay = await client.post(
        f"/api/v1/dead-letters/{exchange.dead_letter}/replay", headers={"X-CSRF-Token": token}
    )
    audit = await client.get("/api/v1/audit")
    assert (403, 403) == (replay.status, audit.status)


async def test_other_departments_dead_letters_are_invisible(console: Pair) -> None:
    """The spot-check system's user sees no dead letters and gets 404 replaying market regulation's."""
    client, exchange = console
    token = await login(client, "sjs")
    listed = await (await client.get("/api/v1/dead-letters")).json()
    replay = await client.post(
        f"/api/v1/dead-letters/{exchange.dead_letter}/replay", headers={"X-CSRF-Token": token}
    )
    assert ([], 404) == (listed["dead_letters"], replay.status)


async def test_responses_carry_security_headers(console: Pair) -> None:
    """Every answer forbids framing, sniffing and caching and sets a script-free CSP."""
    client, _ = console
    response = await client.get("/login")
    names = ("X-Frame-Options", "X-Content-Type-Options", "Cache-Control")
    expected = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    assert expected == {k: response.headers.get(k, "") for k in names}
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


async def test_session_cookie_is_httponly_and_samesite_strict(console: Pair) -> None:
    """The session cookie cannot be read by scripts or sent cross-site."""
    client, _ = console
    response = await client.post("/api/v1/login", json={"username": "ops", "password": PASSWORD})
    cookie = response.cookies["jgx_session"]
    assert (True, "Strict") == (bool(cookie["httponly"]), cookie["samesite"])


async def test_logout_ends_the_session(console: Pair) -> None:
    """After logout the old cookie no longer opens the API."""
    client, _ = console
    token = await login(client, "ops")
    response = await client.post("/api/v1/logout", headers={"X-CSRF-Token": token})
    me = await client.get("/api/v1/me")
    assert (200, 401) == (response.status, me.status)
