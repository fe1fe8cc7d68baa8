"""``jgx users`` and ``jgx log search|show|tail`` against a real SQLite file built through the hub."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from gateway.cli import main
from gateway.console import make_console_app
from gateway.console.auth import check_password, hash_password
from gateway.storage import User
from gateway.storage.sqlite import SqliteStore
from tests.console.conftest import NOW, OLD_TASK, TASK, Exchange, build_exchange
from tests.gateway.nodes import write_node

PASSWORD = "a long enough passphrase"


@pytest.fixture
def node_db(tmp_path: Path) -> tuple[Path, Exchange]:
    """A database holding the console scenario, without accounts."""
    path = tmp_path / "jgx.db"

    async def build() -> Exchange:
        store = SqliteStore(path)
        await store.open()
        try:
            return await build_exchange(store, users=False)
        finally:
            await store.close()

    return path, asyncio.run(build())


def jgx(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run ``jgx`` in-process; return exit code, stdout and stderr."""
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def stored_hash(path: Path, username: str) -> str:
    """The password hash stored for ``username``."""

    async def read() -> str:
        store = SqliteStore(path)
        await store.open()
        try:
            user = await store.user(username)
            return user.password_hash if user else ""
        finally:
            await store.close()

    return asyncio.run(read())


def test_users_add_list_passwd_remove(node_db: tuple[Path, Exchange]) -> None:
    """An account is added with a scrypt hash, listed, re-keyed and removed, each exiting 0."""
    path, exchange = node_db
    trust = path.parent / "trust.json"
    trust.write_bytes(exchange.fed.signed_trust)
    added = jgx("users", "add", "amr.zhang", "--role", "department", "--node", "sc.amr", "--password-stdin",
                "--trust", str(trust), "--db", str(path), stdin=PASSWORD + "\n")  # fmt: skip
    listed = jgx("users", "list", "--db", str(path))
    assert (0, "amr.zhang\tdepartment\tsc.amr") == (added[0], listed[1].split("\t2")[0])
    assert check_password(PASSWORD, stored_hash(path, "amr.zhang"))
    changed = jgx(
        "users", "passwd", "amr.zhang", "--password-stdin", "--db", str(path), stdin="x" * 12 + "\n"
    )
    assert (0, True) == (changed[0], check_password("x" * 12, stored_hash(path, "amr.zhang")))
    removed = jgx("users", "remove", "amr.zhang", "--db", str(path))
    assert (0, "") == (removed[0], jgx("users", "list", "--db", str(path))[1])


def test_users_refusals_have_their_exit_codes(node_db: tuple[Path, Exchange]) -> None:
    """A short password or missing node is a usage error (2); a taken name is a refusal (1)."""
    path, _ = node_db
    db = ("--db", str(path))
    short = jgx("users", "add", "li", "--role", "operator", "--password-stdin", *db, stdin="short\n")
    no_node = jgx(
        "users", "add", "li", "--role", "department", "--password-stdin", *db, stdin=PASSWORD + "\n"
    )
    jgx("users", "add", "li", "--role", "operator", "--password-stdin", *db, stdin=PASSWORD + "\n")
    taken = jgx("users", "add", "li", "--role", "auditor", "--password-stdin", *db, stdin=PASSWORD + "\n")
    missing = jgx("users", "remove", "nobody", *db)
    assert [2, 2, 1, 1] == [short[0], no_node[0], taken[0], missing[0]]


def test_log_search_finds_the_task_and_pages(node_db: tuple[Path, Exchange]) -> None:
    """``log search`` prints the task's entries newest first and a cursor that continues the list."""
    path, exchange = node_db
    code, out, _ = jgx("log", "search", "--correlation-id", TASK, "--db", str(path))
    assert (0, [exchange.delivery, *(exchange.index[n] for n in ("feedback", "claim", "task"))]) == (
        code, [int(line.split("\t")[0]) for line in out.splitlines()])  # fmt: skip
    _, first, err = jgx("log", "search", "--limit", "4", "--json", "--db", str(path))
    cursor = err.split("--after ", 1)[1].strip()
    _, rest, _ = jgx("log", "search", "--limit", "4", "--after", cursor, "--json", "--db", str(path))
    indexes = [json.loads(line)["log_index"] for line in (first + rest).splitlines()]
    assert sorted([*exchange.index.values(), exchange.delivery], reverse=True) == indexes


def test_log_search_refuses_a_bad_time(node_db: tuple[Path, Exchange]) -> None:
    """A malformed --since is a usage error with a bilingual message."""
    path, _ = node_db
    code, _, err = jgx("log", "search", "--since", "yesterday", "--db", str(path))
    assert (2, True) == (code, "错误" in err and "error" in err)


def test_log_show_and_tail(node_db: tuple[Path, Exchange]) -> None:
    """``log show`` prints one entry with its deliveries; ``log tail -n 2`` the last two, oldest first."""
    path, exchange = node_db
    code, out, _ = jgx("log", "show", str(exchange.index["task"]), "--db", str(path))
    shown = json.loads(out)
    assert (0, "national-task-0001", ["dead"]) == (
        code, shown["message"]["message_id"], [d["state"] for d in shown["deliveries"]])  # fmt: skip
    assert 1 == jgx("log", "show", "999", "--db", str(path))[0]
    _, tail, _ = jgx("log", "tail", "-n", "2", "--db", str(path))
    assert [exchange.index["hostile"], exchange.delivery] == [
        int(x.split("\t")[0]) for x in tail.splitlines()
    ]


@pytest.fixture
def node_dir(tmp_path: Path) -> tuple[Path, Exchange]:
    """sc.hub's node directory (jgx.toml, signed trust) whose database holds the console scenario."""
    exchange = asyncio.run(_build(tmp_path / "jgx.db"))
    write_node(tmp_path, exchange.fed)
    return tmp_path, exchange


async def _build(path: Path) -> Exchange:
    store = SqliteStore(path)
    await store.open()
    try:
        return await build_exchange(store, users=False)
    finally:
        await store.close()


def test_users_add_refuses_a_department_node_the_trust_configuration_does_not_know(
    node_dir: tuple[Path, Exchange],
) -> None:
    """``--node`` must name a node of the trust configuration; without one to check against it is refused."""
    directory, _ = node_dir
    add = ("users", "add", "x.user", "--role", "department", "--password-stdin")
    unknown = jgx(*add, "--node", "sc.nope", "--dir", str(directory), stdin=PASSWORD + "\n")
    known = jgx(*add, "--node", "sc.sjs", "--dir", str(directory), stdin=PASSWORD + "\n")
    unchecked = jgx(*add, "--node", "sc.sjs", "--db", str(directory / "jgx.db"), stdin=PASSWORD + "\n")
    assert (2, 0, 2) == (unknown[0], known[0], unchecked[0])
    assert "sc.nope" in unknown[2]
    assert "x.user\tdepartment\tsc.sjs" in jgx("users", "list", "--dir", str(directory))[1]


def test_log_show_verifies_each_receipt_with_its_issuers_key(node_dir: tuple[Path, Exchange]) -> None:
    """With --dir the hub's receipt and national's delivery receipt verify; with --db they are unverified."""
    directory, exchange = node_dir
    claim = json.loads(jgx("log", "show", str(exchange.index["claim"]), "--dir", str(directory))[1])
    entry = json.loads(jgx("log", "show", str(exchange.delivery), "--dir", str(directory))[1])
    bare = json.loads(jgx("log", "show", str(exchange.delivery), "--db", str(directory / "jgx.db"))[1])
    receipts = [claim["receipt"], claim["deliveries"][0]["receipt"], entry["receipt"]]
    assert [("sc.hub", True), ("cn.national", True), ("cn.national", True)] == [
        (r["issuer"], r["signature_valid"]) for r in receipts
    ]
    assert bare["receipt"]["signature_valid"] is None


def test_lifecycle_overdue_of_a_node_is_the_dashboards_list(node_dir: tuple[Path, Exchange]) -> None:
    """``jgx lifecycle overdue --dir`` lists what the dashboard shows for the same clock: the old task."""
    directory, exchange = node_dir
    code, out, _ = jgx("lifecycle", "overdue", "--dir", str(directory), "--at", "2026-11-20T03:00:00Z")
    board = asyncio.run(_dashboard_overdue(directory / "jgx.db", exchange))
    listed = [line.split("\t")[0] for line in out.splitlines()]
    assert (1, [OLD_TASK]) == (code, listed)
    assert listed == board


def test_policy_deadlines_move_the_dashboard_and_the_cli_alike(node_dir: tuple[Path, Exchange]) -> None:
    """A trust policy giving SC-14 claims 200 working days leaves nothing overdue in either view."""
    directory, exchange = node_dir
    fed = exchange.fed
    fed.resign(fed.trust.with_policies(deadlines={"SC-14": {"dispatched": 200}}))
    write_node(directory, fed)
    code, _, _ = jgx("lifecycle", "overdue", "--dir", str(directory), "--at", "2026-11-20T03:00:00Z")
    board = asyncio.run(_dashboard_overdue(directory / "jgx.db", exchange))
    assert (0, []) == (code, board)


async def _dashboard_overdue(path: Path, exchange: Exchange) -> list[str]:
    """The correlation ids the console's dashboard lists as overdue, through its JSON API."""
    store = SqliteStore(path)
    await store.open()
    app = make_console_app(store, exchange.fed.trust, node_id="sc.hub", clock=lambda: NOW)
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        await store.add_user(User("ops", "operator", "", hash_password(PASSWORD), NOW), now=NOW, actor="test")
        await client.post("/api/v1/login", json={"username": "ops", "password": PASSWORD})
        board = await (await client.get("/api/v1/dashboard")).json()
        return [item["correlation_id"] for item in board["overdue"]]
    finally:
        await client.close()
        await store.close()
