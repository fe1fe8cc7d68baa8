"""``jgx users`` and ``jgx log search|show|tail`` against a real SQLite file built through the hub."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.console.auth import check_password
from gateway.storage.sqlite import SqliteStore
from tests.console.conftest import TASK, Exchange, build_exchange

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
    path, _ = node_db
    added = jgx("users", "add", "amr.zhang", "--role", "department", "--node", "sc.amr", "--password-stdin",
                "--db", str(path), stdin=PASSWORD + "\n")  # fmt: skip
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
    assert (0, [exchange.index[n] for n in ("feedback", "claim", "task")]) == (
        code, [int(line.split("\t")[0]) for line in out.splitlines()])  # fmt: skip
    _, first, err = jgx("log", "search", "--limit", "4", "--json", "--db", str(path))
    cursor = err.split("--after ", 1)[1].strip()
    _, rest, _ = jgx("log", "search", "--limit", "4", "--after", cursor, "--json", "--db", str(path))
    indexes = [json.loads(line)["log_index"] for line in (first + rest).splitlines()]
    assert sorted(exchange.index.values(), reverse=True) == indexes


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
    assert [exchange.index["denied"], exchange.index["hostile"]] == [
        int(x.split("\t")[0]) for x in tail.splitlines()
    ]
