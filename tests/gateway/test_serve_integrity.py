"""``jgx serve`` refuses to start (exit 2, both languages) on a damaged log, as a real child process.

The directories are damaged the way a disk, an operator or an intruder would: the database deleted, the
WAL truncated after SIGKILL, a row edited, the latest checkpoint row deleted. The node must never
append at a log index that a signed checkpoint or receipt already named.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from gateway.config import CONFIG_FILE, load_config, render_config
from gateway.hub import Hub
from gateway.loghead import LogHead
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.startcheck import RECENT
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from tests.gateway.nodes import ROOT, ServeProcess, client_credentials, write_node
from tests.gateway.storage.pgschema import drop_schema, new_schema_url

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
SERVE = (
    "--listen",
    "127.0.0.1:0",
    "--console",
    "off",
    "--checkpoint-interval",
    "0.2",
    "--checkpoint-every",
    "5",
)


def _refused(node: Path, *extra: str) -> tuple[int | None, str]:
    """Run ``jgx serve`` on ``node``: (exit code, stderr), or (None, stderr) when it started serving."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from gateway.cli import main; main()", "serve", "--dir", str(node),
         *SERVE, *extra],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if "listening on" in line:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
            return None, "".join(lines)
    return process.wait(timeout=60), "".join(lines)


async def _submit(node: Path, port: int, envelopes: list[bytes]) -> None:
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", client_credentials(node, "sc.amr")) as channel:
        call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
        for data in envelopes:
            await call(data)


def _served(
    tmp_path: Path, count: int, *, kill: bool, extra: tuple[str, ...] = ()
) -> tuple[Path, Federation]:
    """A node directory after a real ``jgx serve`` logged ``count`` envelopes (then SIGTERM or SIGKILL)."""
    fed = Federation.create(datetime.now(UTC))
    node = write_node(tmp_path / "node", fed)
    serve = ServeProcess(node, *SERVE, *extra)
    envelopes = [
        fed.envelope(fed.message("sc.amr", "cn.national", message_id=f"m-{n}")) for n in range(count)
    ]
    asyncio.run(_submit(node, serve.port, envelopes))
    if kill:
        asyncio.run(asyncio.sleep(1.0))  # let the checkpointer sign (every 5 leaves or 0.2 s)
        serve.kill()
    else:
        assert 0 == serve.terminate()
    return node, fed


def test_a_sound_directory_starts_again(tmp_path: Path) -> None:
    """After a clean stop the node starts again: the quick check passes on a sound log."""
    node, _ = _served(tmp_path, 12, kill=False)
    assert (node / "log" / "checkpoint.note").exists()
    code, output = _refused(node)
    assert code is None, output


def test_a_missing_database_is_not_recreated(tmp_path: Path) -> None:
    """The database is gone but log/ shows there was one: exit 2, and no new empty database."""
    node, _ = _served(tmp_path, 12, kill=False)
    for name in ("jgx.db", "jgx.db-wal", "jgx.db-shm"):
        (node / name).unlink(missing_ok=True)
    code, output = _refused(node)
    assert 2 == code, output
    assert "the database is missing but this directory recorded a log" in output
    assert "数据库不存在" in output
    assert not (node / "jgx.db").exists()


@pytest.mark.parametrize(
    ("extra", "clue"),
    [
        ((), "log/checkpoint.note records at least"),  # checkpoints every 5 leaves
        (("--checkpoint-every", "100000", "--checkpoint-interval", "3600"), "log/receipted records at least"),
    ],
    ids=["signed checkpoint beyond the tree", "released receipts beyond the tree"],
)
def test_a_truncated_wal_after_sigkill_is_refused(tmp_path: Path, extra: tuple[str, ...], clue: str) -> None:
    """SIGKILL, then the WAL is lost: the tree is shorter than what was signed, so serve refuses."""
    node, _ = _served(tmp_path, 20, kill=True, extra=extra)
    wal = node / "jgx.db-wal"
    assert wal.stat().st_size > 0  # the commits live in the WAL after SIGKILL
    with wal.open("r+b") as handle:
        handle.truncate(0)
    code, output = _refused(node)
    assert 2 == code, output
    assert clue in output
    assert "refusing to start rather than reuse log indexes already signed" in output


@pytest.mark.parametrize(
    ("sql", "clue"),
    [
        ("UPDATE messages SET payload = NULL WHERE log_index = 11", "leaf 11: messages.payload"),
        ("DELETE FROM seen WHERE log_index = 3", "leaf 3: seen row"),
        ("UPDATE leaves SET leaf_hash = zeroblob(32) WHERE idx = 10", "leaf 10: stored hash"),
        (
            "DELETE FROM checkpoints WHERE size = (SELECT MAX(size) FROM checkpoints)",
            "the database lacks checkpoint",
        ),
        ("UPDATE checkpoints SET note = replace(note, 'jgx', 'xjg')", "the database's latest checkpoint"),
    ],
)
def test_a_log_that_verify_rejects_is_refused(tmp_path: Path, sql: str, clue: str) -> None:
    """An edited row among the recent leaves or the checkpoints: exit 2, naming the problem."""
    node, _ = _served(tmp_path, 12, kill=False)
    with sqlite3.connect(node / "jgx.db") as db:
        db.execute(sql)
    code, output = _refused(node)
    assert 2 == code, output
    assert clue in output
    assert "the node refuses to start" in output


async def _fill(node: Path, fed: Federation, count: int) -> None:
    """Log ``count`` envelopes through the hub code `jgx serve` runs, with the directory's log head."""
    store = SqliteStore(node / "jgx.db")
    await store.open()
    head = LogHead(node)
    head.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, head=head)
    await hub.start()
    await asyncio.gather(
        *(
            hub.submit(fed.envelope(fed.message("sc.amr", "cn.national", message_id=f"m-{n}")))
            for n in range(count)
        )
    )
    await hub.close()
    await store.close()
    head.close()


def test_an_old_edit_needs_the_full_audit_on_start(tmp_path: Path) -> None:
    """An edit older than the recent leaves passes the quick check; --audit-on-start refuses it."""
    fed = Federation.create(datetime.now(UTC))
    node = write_node(tmp_path / "node", fed)
    asyncio.run(_fill(node, fed, 2 * RECENT + 50))  # the quick check reads the last 1024–2047
    with sqlite3.connect(node / "jgx.db") as db:
        db.execute("UPDATE messages SET payload = NULL WHERE log_index = 5")
    quick, _ = _refused(node)
    full, output = _refused(node, "--audit-on-start")
    assert (None, 2) == (quick, full), output
    assert "leaf 5: messages.payload" in output


def test_a_dropped_postgresql_schema_is_refused(tmp_path: Path) -> None:
    """PostgreSQL: the schema is dropped and recreated empty on open; the directory's record refuses it."""
    fed = Federation.create(datetime.now(UTC))
    node = write_node(tmp_path / "node", fed)
    url, schema = new_schema_url("serve")
    config = replace(load_config(node / CONFIG_FILE), storage_url=url)
    (node / CONFIG_FILE).write_text(render_config(config))
    try:
        serve = ServeProcess(node, *SERVE)
        envelopes = [
            fed.envelope(fed.message("sc.amr", "cn.national", message_id=f"m-{n}")) for n in range(8)
        ]
        asyncio.run(_submit(node, serve.port, envelopes))
        assert 0 == serve.terminate()
        asyncio.run(drop_schema(schema))
        code, output = _refused(node)
    finally:
        asyncio.run(drop_schema(schema))
    assert 2 == code, output
    assert "records at least 8 leaves but the database holds 0" in output
