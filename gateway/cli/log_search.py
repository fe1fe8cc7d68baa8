"""``jgx log search|show|tail``: the console's exchange-log search for operators without a browser.

The verbs join the ``jgx log`` group (verify, export, proof, checkpoint) when it is installed, and
form it on their own otherwise.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from gateway.cli._common import EXIT_VERDICT, io_error
from gateway.cli._node import load_node, node_trust
from gateway.cli._store import database, db_options, with_store
from gateway.config import CONFIG_FILE
from gateway.console.auth import Principal, Role
from gateway.console.records import (
    LogKeys,
    QueryError,
    encode_cursor,
    message_detail,
    outbox_json,
    parse_query,
    summary,
    summary_of,
)
from gateway.storage import Store

__all__ = ["log"]

_AUDITOR = Principal("cli", Role.AUDITOR)
_COLUMNS = ("log_index", "time", "sender", "recipient", "message_id", "standard", "action", "outcome")


def _log_group() -> click.Group:
    try:
        group = importlib.import_module("gateway.cli.log").log
    except (ImportError, AttributeError):
        group = None
    if isinstance(group, click.Group):
        return group

    @click.group()
    def log() -> None:
        """The exchange log (交换日志): search, show, tail."""

    return log


log = _log_group()


def _echo_row(row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False))
    else:
        reasons = " ".join(row["reason_codes"])
        click.echo("\t".join(str(row[c]) for c in _COLUMNS) + (f"\t{reasons}" if reasons else ""))


@log.command("search")
@click.option("--message-id", default="", help="Exact message id.")
@click.option("--correlation-id", default="", help="Task or clue id (关联标识).")
@click.option("--sender", default="", help="Sender node id.")
@click.option("--recipient", default="", help="Recipient node id.")
@click.option("--standard", default="", help="Standard id, e.g. SC-14.")
@click.option("--outcome", default="", type=click.Choice(["", "accepted", "rejected", "duplicate"]))
@click.option("--reason", default="", help="One reason code, e.g. ACL_DENIED.")
@click.option("--since", default="", help="From (inclusive), RFC 3339, e.g. 2026-11-28T00:00:00Z.")
@click.option("--until", default="", help="Until (exclusive), RFC 3339.")
@click.option("--after", default="", help="Continue after this cursor (printed by the previous page).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500), help="Rows per page.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of tab-separated.")
@db_options
def search(as_json: bool, db: Path | None, directory: Path, **filters: Any) -> None:
    """Search the exchange log, newest first; prints the next page's cursor on stderr.

    \b
    Examples:
      jgx log search --correlation-id RW-2026-0001 --dir node/
      jgx log search --outcome rejected --reason ACL_DENIED --since 2026-11-28T00:00:00Z --json
    """
    params = {k: str(v) for k, v in filters.items()}
    try:
        query = parse_query(params, _AUDITOR)
    except QueryError as exc:
        io_error(f"{exc.field}: {exc.message_zh}", f"{exc.field}: {exc.message_en}")
    rows = with_store(
        database(db, directory),
        lambda s: s.search_messages(dataclasses.replace(query, limit=query.limit + 1)),
    )
    for row in rows[: query.limit]:
        _echo_row(summary(row), as_json)
    if len(rows) > query.limit:
        click.echo(f"next: --after {encode_cursor(rows[query.limit - 1].cursor)}", err=True)


def _log_keys(db: Path | None, directory: Path) -> LogKeys | None:
    """The node's id and trust configuration when the command runs on a node directory (not --db)."""
    if db is not None or not (directory / CONFIG_FILE).is_file():
        return None
    config = load_node(directory)
    return LogKeys(config.node_id, node_trust(config, datetime.now(UTC)), config.log_hash)


_UNVERIFIED = {
    "signature_valid": None,
    "problem": "未验证：需要节点目录 --dir（jgx.toml 与信任配置）"
    " / not verified: run with --dir NODE (its jgx.toml and trust configuration)",
}


@log.command("show")
@click.argument("index", type=click.IntRange(0))
@db_options
def show(index: int, db: Path | None, directory: Path) -> None:
    """Show one entry as JSON: header, its receipt verified, delivery attempts and the payload.

    \b
    With --dir the receipts are verified as the console does: each with the key of the node that
    issued it (this node for a submission, the receiving node for a delivery), from the trust
    configuration. With --db alone there is no trust configuration, and they are marked unverified.
    Example:
      jgx log show 42 --dir node/
    """
    keys = _log_keys(db, directory)

    async def work(store: Store) -> dict[str, Any] | None:
        if keys is not None:
            return await message_detail(store, index, _AUDITOR, keys, datetime.now(UTC))
        record = await store.message(index)
        if record is None:
            return None
        head = summary_of(record)
        payload = (record.payload or b"").decode("utf-8", "replace")
        deliveries = [outbox_json(item) | {"receipt": _UNVERIFIED} for item in await store.outbox_of(index)]
        receipt = _UNVERIFIED if record.receipt is not None else None
        return {"message": summary(head), "receipt": receipt, "deliveries": deliveries, "payload": payload}

    found = with_store(database(db, directory), work)
    if found is None:
        click.echo(f"没有日志条目 / no log entry {index}", err=True)
        sys.exit(EXIT_VERDICT)
    click.echo(json.dumps(found, ensure_ascii=False, indent=2))


@log.command("tail")
@click.option(
    "-n", "count", default=10, show_default=True, type=click.IntRange(0), help="Entries to show first."
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new entries as they are logged.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls with --follow.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@db_options
def tail(count: int, follow: bool, interval: float, as_json: bool, db: Path | None, directory: Path) -> None:
    """Print the last entries of the log, oldest first; with --follow, keep printing new ones.

    \b
    Example:
      jgx log tail -n 20 --follow --dir node/
    """
    store = database(db, directory)

    async def run() -> None:
        await store.open()
        try:
            next_index = max(0, await store.size() - count)
            while True:
                size = await store.size()
                for index in range(next_index, size):
                    record = await store.message(index)
                    if record is not None:
                        _echo_row(summary(summary_of(record)), as_json)
                next_index = size
                if not follow:
                    return
                await asyncio.sleep(interval)
        finally:
            await store.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        return
