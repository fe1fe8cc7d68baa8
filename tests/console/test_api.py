"""The console's JSON API and pages over real HTTP: search, detail, proofs, lifecycle, replay, roles."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import timedelta
from importlib import resources
from typing import Any

from aiohttp.test_utils import TestClient

from tests.console.conftest import HOSTILE, OLD_TASK, PASSWORD, TASK, Exchange, login

Client = TestClient[Any, Any]
Pair = tuple[Client, Exchange]


async def get_json(client: Client, path: str, status: int = 200, **params: str) -> Any:
    """GET a JSON API path, asserting the status."""
    response = await client.get(path, params=params)
    assert (path, status) == (path, response.status)
    return await response.json()


async def test_search_finds_the_task_national_pushed(console: Pair) -> None:
    """A search by correlation id returns the task's dispatch, claim, feedback and the claim's delivery."""
    client, exchange = console
    await login(client, "audit")
    found = await get_json(client, "/api/v1/messages", correlation_id=TASK)
    expected = [exchange.delivery, *(exchange.index[n] for n in ("feedback", "claim", "task"))]
    assert expected == [row["log_index"] for row in found["results"]]
    assert ["claim", "feedback", "claim", "dispatch"] == [row["action"] for row in found["results"]]


async def test_search_pages_with_a_cursor(console: Pair) -> None:
    """Pages of two rows chained by next_after list every entry once."""
    client, exchange = console
    await login(client, "ops")
    seen, params = [], {"limit": "2"}
    while True:
        page = await get_json(client, "/api/v1/messages", **params)
        seen += [row["log_index"] for row in page["results"]]
        if page["next_after"] is None:
            break
        params = {"limit": "2", "after": page["next_after"]}
    assert sorted([*exchange.index.values(), exchange.delivery], reverse=True) == seen


async def test_rejections_are_found_by_outcome_and_reason(console: Pair) -> None:
    """The ACL-denied submission is the only rejected one and is found by its reason code."""
    client, exchange = console
    await login(client, "ops")
    found = await get_json(client, "/api/v1/messages", outcome="rejected", reason="ACL_DENIED")
    assert [exchange.index["denied"]] == [row["log_index"] for row in found["results"]]


async def test_malformed_filters_answer_400_in_both_languages(console: Pair) -> None:
    """A bad outcome, limit or time is refused with a bilingual error, not a server error."""
    client, _ = console
    await login(client, "ops")
    for params in ({"outcome": "maybe"}, {"limit": "0"}, {"since": "yesterday"}, {"after": "x"}):
        body = await get_json(client, "/api/v1/messages", 400, **params)
        assert ("bad_request", True) == (body["error"], bool(body["message_zh"] and body["message_en"]))


async def test_detail_shows_receipt_deliveries_and_masked_payload(console: Pair) -> None:
    """An operator sees the verified receipt and the dead delivery, with personal data masked."""
    client, exchange = console
    await login(client, "ops")
    detail = await get_json(client, f"/api/v1/messages/{exchange.index['task']}")
    assert (True, "accepted") == (detail["receipt"]["signature_valid"], detail["receipt"]["outcome"])
    assert [("sc.amr", "dead")] == [(d["recipient"], d["state"]) for d in detail["deliveries"]]
    shown = json.loads(detail["payload"])
    assert ("138****5678", "510104********1234") == (shown["contactPhone"], shown["partyIdCode"])
    assert detail["payload_masked"] is True


async def test_auditor_sees_the_payload_unmasked(console: Pair) -> None:
    """An auditor sees the personal data the operator does not."""
    client, exchange = console
    await login(client, "audit")
    detail = await get_json(client, f"/api/v1/messages/{exchange.index['task']}")
    assert ("13812345678", False) == (json.loads(detail["payload"])["contactPhone"], detail["payload_masked"])


async def test_inclusion_proof_verifies_against_the_signed_checkpoint(console: Pair) -> None:
    """The proof of the national task verifies against the latest checkpoint with the hub's key."""
    client, exchange = console
    await login(client, "amr")
    proof = await get_json(client, f"/api/v1/messages/{exchange.index['task']}/proof")
    leaves = len(exchange.index) + 1  # the submissions and the claim's delivery
    assert (True, "", leaves) == (proof["verified"], proof["problem"], proof["tree_size"])
    assert 3 == len(proof["proof"])  # a tree of 7 leaves: a path of ceil(log2 7) hashes for leaf 1


async def test_inclusion_proof_fails_for_an_edited_leaf(console: Pair, tmp_path: Any) -> None:
    """Editing a stored leaf makes its proof fail instead of verifying."""
    client, exchange = console
    index = exchange.index["denied"]
    with sqlite3.connect(tmp_path / "jgx.db") as conn:
        [(leaf,)] = conn.execute("SELECT leaf FROM leaves WHERE idx = ?", (index,)).fetchall()
        conn.execute("UPDATE leaves SET leaf = ? WHERE idx = ?", (bytes(leaf) + b"\x00", index))
    await login(client, "audit")
    proof = await get_json(client, f"/api/v1/messages/{index}/proof")
    assert (False, True) == (proof["verified"], "root" in proof["problem"].lower())


async def test_lifecycle_follows_the_task_across_nodes(console: Pair) -> None:
    """The task's timeline shows dispatch, claim, feedback and the claim's delivery to national."""
    client, _ = console
    await login(client, "amr")
    view = await get_json(client, "/api/v1/lifecycle", correlation_id=TASK)
    steps = [(e["kind"], e["action"]) for e in view["events"]]
    assert [("submission", "dispatch"), ("submission", "claim"), ("submission", "feedback"),
            ("delivery", "claim")] == steps  # fmt: skip
    assert (["cn.national", "sc.amr"], "fed_back") == (view["nodes"], view["item"]["state"])


async def test_dashboard_counts_traffic_queue_and_overdue(console: Pair) -> None:
    """The dashboard counts the last day's submissions, the dead letter and the never-claimed task."""
    client, _ = console
    await login(client, "ops")
    board = await get_json(client, "/api/v1/dashboard")
    total = sum(h["accepted"] + h["rejected"] for h in board["throughput"])
    assert (5, 1) == (total, board["queue"]["dead"])
    assert [OLD_TASK] == [item["correlation_id"] for item in board["overdue"]]
    assert 7 == board["checkpoint"]["size"]


async def test_replay_puts_the_dead_letter_back_and_is_audited(console: Pair) -> None:
    """An operator's replay makes the row pending again and writes who did it to the audit log."""
    client, exchange = console
    token = await login(client, "ops")
    response = await client.post(
        f"/api/v1/dead-letters/{exchange.dead_letter}/replay", headers={"X-CSRF-Token": token}
    )
    assert 200 == response.status
    assert [] == (await get_json(client, "/api/v1/dead-letters"))["dead_letters"]
    audit = await get_json(client, "/api/v1/audit")
    assert ("console:ops", "outbox.replay") == (audit["entries"][0]["actor"], audit["entries"][0]["action"])


async def test_checkpoint_history_verifies_signatures_and_consistency(console: Pair) -> None:
    """Each checkpoint's signature verifies and each is consistent with the one before it."""
    client, _ = console
    await login(client, "audit")
    history = (await get_json(client, "/api/v1/checkpoints"))["checkpoints"]
    assert [7, 6, 5] == [c["size"] for c in history]
    checks = [(c["signature_valid"], c["consistent_with_previous"]) for c in history]
    assert [(True, True), (True, True), (True, None)] == checks


async def test_sessions_expire(console: Pair) -> None:
    """A session stops working once its lifetime has passed."""
    client, exchange = console
    await login(client, "ops")
    exchange.clock.now += timedelta(hours=8, seconds=1)
    await get_json(client, "/api/v1/me", 401)


async def test_wrong_password_is_refused_and_audited(console: Pair) -> None:
    """A wrong password answers 401 and leaves a login_failed audit entry."""
    client, _ = console
    response = await client.post("/api/v1/login", json={"username": "ops", "password": PASSWORD + "x"})
    assert 401 == response.status
    await login(client, "audit")
    audit = await get_json(client, "/api/v1/audit")
    assert "console.login_failed" in [e["action"] for e in audit["entries"]]


async def test_csv_export_lists_rows_and_defuses_formulas(console: Pair) -> None:
    """The CSV has a header and one row per match; no cell starts a spreadsheet formula."""
    client, _ = console
    await login(client, "ops")
    response = await client.get("/messages.csv", params={"correlation_id": TASK})
    text = (await response.text()).lstrip("\ufeff")
    lines = text.strip().splitlines()
    assert (200, 5) == (response.status, len(lines))
    assert lines[0].startswith("log_index,time,sender")


async def test_openapi_describes_every_api_route(console: Pair) -> None:
    """Every /api/v1 route of the application is a path of openapi.json, and no more."""
    client, _ = console
    document = json.loads(resources.files("gateway.console").joinpath("openapi.json").read_text())
    routes = {
        re.sub(r"\{(\w+):[^}]*\}", r"{\1}", route.resource.canonical)
        for route in client.server.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/")
    }
    assert routes == set(document["paths"])


async def test_pages_render_in_chinese_and_switch_to_english(console: Pair) -> None:
    """Pages are labelled in Chinese by default and in English after ?lang=en (kept in a cookie)."""
    client, _ = console
    await login(client, "ops")
    chinese = await (await client.get("/messages")).text()
    english = await (await client.get("/messages", params={"lang": "en"})).text()
    later = await (await client.get("/")).text()
    expected = (True, True, True)
    assert expected == ("交换日志检索" in chinese, "Exchange log search" in english, "Dashboard" in later)


async def test_hostile_fields_are_escaped(console: Pair) -> None:
    """Script in payload and correlation id is shown as text on every page that displays it."""
    client, exchange = console
    await login(client, "audit")
    index = exchange.index["hostile"]
    pages = [f"/messages/{index}", f"/messages/{index}/proof", "/messages"]
    pages.append("/lifecycle?correlation_id=" + HOSTILE)
    for path in pages:
        response = await client.get(path)
        html = await response.text()
        assert (path, 200, False) == (path, response.status, "<script>" in html or "<img src=x" in html)
    detail = await (await client.get(f"/messages/{index}")).text()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in detail


async def test_every_page_renders_for_each_role(console: Pair) -> None:
    """Each page answers 200 for the roles allowed to open it (the audit log is not a department's)."""
    client, exchange = console
    index = exchange.index["task"]
    pages = ["/", "/messages", f"/messages/{index}", f"/messages/{index}/proof", "/lifecycle",
             f"/lifecycle?correlation_id={TASK}", "/dead-letters", "/checkpoints", "/audit"]  # fmt: skip
    for user in ("ops", "audit", "amr"):
        await login(client, user)
        statuses = [(await client.get(page)).status for page in pages]
        expected = [200] * 8 + [403 if user == "amr" else 200]
        assert (user, expected) == (user, statuses)


async def test_a_failing_store_answers_a_reason_without_its_words(console: Pair, tmp_path: Any) -> None:
    """With the messages table gone, the API answers 500 {"error": "internal"} in both languages and
    nothing of SQLite's message (table name, SQL) reaches the client."""
    client, _ = console
    await login(client, "ops")
    with sqlite3.connect(tmp_path / "jgx.db") as conn:
        conn.execute("ALTER TABLE messages RENAME TO messages_gone")
    response = await client.get("/api/v1/messages")
    body = await response.text()
    assert (500, "internal") == (response.status, json.loads(body)["error"])
    assert [] == [word for word in ("messages_gone", "no such", "sqlite", "SELECT") if word in body]
