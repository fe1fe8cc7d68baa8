"""Backup, restore and verification against published checkpoints, as docs/operations.md describes."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main
from gateway.hub import Hub
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from tests.gateway.nodes import write_node


async def serve_and_back_up(fed: Federation, node: Path, backup: Path) -> str:
    """Log 6 envelopes, back the file up online, log 4 more and publish a checkpoint; its note."""
    store = SqliteStore(node / "jgx.db")
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store)
    await hub.start()
    try:
        for n in range(10):
            await hub.submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"r-{n}")))
            if n == 5:
                await hub.checkpointer.checkpoint_now()
                with sqlite3.connect(node / "jgx.db") as source, sqlite3.connect(backup) as target:
                    source.backup(target)  # what `sqlite3 jgx.db ".backup …"` does, while serving
        published = await hub.checkpointer.checkpoint_now()
    finally:
        await hub.close()
        await store.close()
    assert published is not None
    return published.note


def test_a_restore_older_than_a_published_checkpoint_is_refused(tmp_path: Path) -> None:
    """After restoring a backup taken before the published checkpoint, verify exits 1 naming the gap."""
    fed = Federation.create(datetime.now(UTC))
    node = write_node(tmp_path / "node", fed)
    note = asyncio.run(serve_and_back_up(fed, node, tmp_path / "backup.db"))
    (tmp_path / "published.note").write_text(note, encoding="utf-8")
    verify = ["log", "verify", "--dir", str(node), "--published", str(tmp_path / "published.note")]
    before = CliRunner().invoke(main, verify)
    (node / "jgx.db").write_bytes((tmp_path / "backup.db").read_bytes())
    restored_alone = CliRunner().invoke(main, ["log", "verify", "--dir", str(node)])
    restored = CliRunner().invoke(main, verify)
    assert (0, 0, 1) == (before.exit_code, restored_alone.exit_code, restored.exit_code), before.output
    assert "leaves 6–9 are missing" in restored.output
