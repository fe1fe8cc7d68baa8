"""``jgx deliveries list|replay`` on a real SQLite store written by a hub."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main
from gateway.hub import Hub
from gateway.storage import OutboxState
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def _dead_letter(path: Path) -> int:
    """A hub database with one accepted envelope for cn.national whose outbox row is dead."""
    fed = Federation.create(NOW)
    store = SqliteStore(path)
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: NOW)
    await hub.start()
    await hub.submit(fed.envelope(fed.message("sc.amr", "cn.national", message_id="m-dead")))
    await hub.close()
    [row] = await store.outbox()
    await store.dead_letter(row.id, error="UNAVAILABLE: peer down", now=NOW)
    await store.close()
    return row.id


async def _state_and_audit(path: Path) -> tuple[str, str, str]:
    store = SqliteStore(path)
    await store.open()
    try:
        [row] = await store.outbox()
        [audit] = await store.audit_entries()
        return row.state, audit.actor, audit.action
    finally:
        await store.close()


def test_dead_letters_are_listed_and_a_replay_is_audited(tmp_path: Path) -> None:
    """`list --state dead --json` shows the row with its sender; `replay` makes it pending and audits it."""
    db = tmp_path / "hub.db"
    row_id = asyncio.run(_dead_letter(db))
    runner = CliRunner()
    listed = runner.invoke(main, ["deliveries", "list", "--db", str(db), "--state", "dead", "--json"])
    replayed = runner.invoke(
        main, ["deliveries", "replay", str(row_id), "--db", str(db), "--actor", "operator.li"]
    )
    [row] = [json.loads(line) for line in listed.output.splitlines()]
    assert (0, 0) == (listed.exit_code, replayed.exit_code)
    assert (row_id, "sc.amr", "cn.national", "m-dead", "dead") == (
        row["id"], row["sender"], row["recipient"], row["message_id"], row["state"]
    )  # fmt: skip
    assert (OutboxState.PENDING, "operator.li", "outbox.replay") == asyncio.run(_state_and_audit(db))


def test_the_table_lists_every_state(tmp_path: Path) -> None:
    """Without --state the table shows the row, its state and its last error."""
    db = tmp_path / "hub.db"
    asyncio.run(_dead_letter(db))
    result = CliRunner().invoke(main, ["deliveries", "list", "--db", str(db)])
    assert 0 == result.exit_code
    assert "m-dead" in result.output
    assert "UNAVAILABLE: peer down" in result.output


def test_replaying_an_unknown_row_or_database_is_a_usage_error(tmp_path: Path) -> None:
    """An outbox id that does not exist, or a missing database, exits 2 with a bilingual message."""
    db = tmp_path / "hub.db"
    asyncio.run(_dead_letter(db))
    runner = CliRunner()
    unknown = runner.invoke(main, ["deliveries", "replay", "999", "--db", str(db)])
    missing = runner.invoke(main, ["deliveries", "list", "--db", str(tmp_path / "nope.db")])
    assert (2, 2) == (unknown.exit_code, missing.exit_code)
    assert "outbox row 999" in unknown.output
    assert "no database" in missing.output
