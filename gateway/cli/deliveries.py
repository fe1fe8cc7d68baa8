"""``jgx deliveries list|replay``: the outbox of a node (投递队列), and replaying dead letters.

Reads the node's store named by ``jgx.toml`` (``--dir``; SQLite or PostgreSQL) or a SQLite file given
directly (``--db``). A replay
puts the row back to pending, due now; the store records who asked in its audit table, and the CLI
logs the action. The running node's delivery worker picks the row up at its next pass.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click
import structlog

from gateway.cli._common import io_error, io_failure
from gateway.cli._node import load_node, node_store
from gateway.storage import OutboxItem, OutboxState, StorageError, Store
from gateway.storage.sqlite import SqliteStore

__all__ = ["deliveries"]

T = TypeVar("T")
_log = structlog.get_logger("jgx.deliveries")
_STATES = (OutboxState.PENDING, OutboxState.DEAD, OutboxState.DELIVERED)


def _store(directory: Path, db: Path | None) -> Store:
    """The node's store (SQLite or PostgreSQL, from jgx.toml) or the SQLite file ``db``; never created."""
    if db is None:
        return node_store(load_node(directory), must_exist=True)
    if not db.exists():
        io_error(f"数据库不存在: {db}", f"no database at {db}")
    return SqliteStore(db, hasher=None)  # no jgx.toml: the log's recorded hash profile


def _with_store(store: Store, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _row(item: OutboxItem, sender: str, message_id: str) -> dict[str, object]:
    return {
        "id": item.id,
        "log_index": item.log_index,
        "sender": sender,
        "recipient": item.recipient,
        "message_id": message_id,
        "state": item.state,
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at.isoformat().replace("+00:00", "Z"),
        "last_error": item.last_error,
        "delivery_index": item.delivery_index,
    }


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return "operator"


_DIR = click.option(
    "--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
    help="The node directory holding jgx.toml.",
)  # fmt: skip
_DB = click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The node's SQLite file (instead of reading jgx.toml).",
)  # fmt: skip


@click.group()
def deliveries() -> None:
    """The outbox (投递队列): what is pending, delivered or dead-lettered, and replays.

    \b
    Examples:
      jgx deliveries list --dir node/                 # every row, oldest first
      jgx deliveries list --state dead --json --dir node/
      jgx deliveries replay 17 --dir node/            # deliver dead row 17 again (audited)
    """


@deliveries.command("list")
@_DIR
@_DB
@click.option("--state", type=click.Choice(_STATES), default=None, help="Only rows in this state.")
@click.option("--limit", default=100, show_default=True, help="At most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
def list_rows(directory: Path, db: Path | None, state: str | None, limit: int, as_json: bool) -> None:
    """List outbox rows: recipient, message, state, attempts, next attempt and the last error.

    \b
    Example:
      jgx deliveries list --state pending --dir node/
    """

    async def read(store: Store) -> list[dict[str, object]]:
        rows = []
        for item in await store.outbox(state=state, limit=limit):
            record = await store.message(item.log_index)
            sender, message_id = (record.sender, record.message_id) if record is not None else ("", "")
            rows.append(_row(item, sender, message_id))
        return rows

    rows = _with_store(_store(directory, db), read)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        click.echo("（无）/ (no rows)")
        return
    click.echo(
        f"{'id':>6} {'state':<9} {'att':>3} {'sender':<12} {'recipient':<12} {'message_id':<34} last_error"
    )
    for row in rows:
        click.echo(
            f"{row['id']:>6} {row['state']:<9} {row['attempts']:>3} {row['sender']!s:<12} "
            f"{row['recipient']!s:<12} {row['message_id']!s:<34} {str(row['last_error'])[:60]}"
        )


@deliveries.command()
@_DIR
@_DB
@click.argument("row_id", metavar="ID", type=int)
@click.option(
    "--actor", default=None, help="Who replays (recorded in the audit table); default: the OS user."
)
def replay(directory: Path, db: Path | None, row_id: int, actor: str | None) -> None:
    """Put outbox row ID back to pending, due now; the replay is audited.

    \b
    Example:
      jgx deliveries replay 17 --dir node/ --actor operator.li
    """
    who = actor or _os_user()
    now = datetime.now(UTC)

    async def run(store: Store) -> None:
        await store.replay(row_id, now=now, actor=who)

    try:
        _with_store(_store(directory, db), run)
    except StorageError as exc:
        io_failure(f"无法重新投递第 {row_id} 行", f"cannot replay outbox row {row_id}", exc)
    _log.info("outbox.replay", outbox_id=row_id, actor=who)
    click.echo(f"已重新排队 / queued again: outbox row {row_id} (actor {who})")
