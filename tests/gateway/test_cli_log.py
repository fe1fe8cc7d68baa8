"""``jgx log`` and ``jgx trace`` on a node directory with a real SQLite log."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway import merkle
from gateway.cli import main
from gateway.hub import Hub
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from tests.gateway.nodes import ServeProcess, write_node

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def _fill(node: Path, fed: Federation, count: int) -> None:
    store = SqliteStore(node / "jgx.db")
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: NOW)
    await hub.start()
    for n in range(count):
        message = fed.message("sc.amr", "cn.national", message_id=f"m-{n}", correlation_id="TASK-7")
        await hub.submit(fed.envelope(message))
        if n == count // 2:
            await hub.checkpointer.checkpoint_now()
    await hub.submit(fed.envelope(fed.message("sc.amr", "sc.hub"), key=fed.keys["sc.sjs"]))  # a rejection
    await hub.close()
    await store.close()


@pytest.fixture
def node(tmp_path: Path) -> Path:
    """A node directory whose log holds 12 submissions and two checkpoints."""
    fed = Federation.create(NOW)
    directory = write_node(tmp_path / "node", fed)
    asyncio.run(_fill(directory, fed, 11))
    return directory


def run(*args: str) -> tuple[int, str]:
    """Run ``jgx`` in-process; exit code and combined output."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_verify_passes_on_an_untouched_log(node: Path) -> None:
    """An untouched log verifies: every leaf, stored node and both checkpoints."""
    code, output = run("log", "verify", "--dir", str(node))
    assert 0 == code, output
    assert "12 leaves" in output
    assert "2 checkpoints verified" in output


@pytest.mark.parametrize(
    ("sql", "clue"),
    [
        ("UPDATE leaves SET leaf = CAST('forged' AS BLOB) WHERE idx = 3", "leaf 3: stored hash"),
        ("UPDATE messages SET outcome = 2 WHERE log_index = 4", "leaf 4: messages.outcome differs"),
        (
            "UPDATE messages SET envelope = CAST('x' AS BLOB) WHERE log_index = 5",
            "leaf 5: messages.envelope does not hash",
        ),
        ("UPDATE nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 0", "stored node (1, 0)"),
        ("DELETE FROM leaves WHERE idx = 11", "beyond the log's 11 leaves"),
        ("UPDATE checkpoints SET note = replace(note, 'jgx', 'xjg')", "checkpoint"),
    ],
)
def test_verify_catches_an_edited_row(node: Path, sql: str, clue: str) -> None:
    """Editing, deleting or forging a row makes verify fail with exit 1 and say what is wrong."""
    with sqlite3.connect(node / "jgx.db") as db:  # an intruder edits the file behind the node's back
        db.execute(sql)
    code, output = run("log", "verify", "--dir", str(node))
    assert 1 == code
    assert "FAILED" in output
    assert clue in output


def test_an_export_verifies_offline_and_edits_to_it_are_caught(node: Path, tmp_path: Path) -> None:
    """An export verifies on its own; swapping two leaves in it makes verify fail."""
    out = tmp_path / "log.jsonl"
    assert 0 == run("log", "export", "--dir", str(node), "--out", str(out))[0]
    assert 0 == run("log", "verify", "--dir", str(node), "--export", str(out))[0]
    lines = out.read_text().splitlines()
    first, second = json.loads(lines[2]), json.loads(lines[3])
    first["index"], second["index"] = second["index"], first["index"]
    lines[2], lines[3] = json.dumps(second), json.dumps(first)
    out.write_text("\n".join(lines) + "\n")
    code, output = run("log", "verify", "--dir", str(node), "--export", str(out))
    assert 1 == code
    assert "root differs" in output


def test_proof_prints_an_inclusion_proof_that_verifies(node: Path) -> None:
    """log proof prints the audit path of a message against the latest checkpoint."""
    code, output = run("log", "proof", "m-3", "--sender", "sc.amr", "--dir", str(node))
    proof = json.loads(output)
    size = proof["tree_size"]
    checkpoint_root = run("log", "checkpoint", "--dir", str(node))[1].splitlines()[2]
    import base64

    root = base64.b64decode(checkpoint_root)
    hashes = [bytes.fromhex(h) for h in proof["hashes"]]
    merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), proof["log_index"], size, hashes, root)
    assert (0, 3, 12) == (code, proof["log_index"], size)


def test_trace_lists_a_correlation_ids_messages(node: Path) -> None:
    """jgx trace --correlation lists every logged message of the task in log order."""
    code, output = run("trace", "TASK-7", "--correlation", "--dir", str(node))
    assert 0 == code
    assert 11 == len(output.splitlines())


def test_a_bare_serve_initialises_an_empty_directory(tmp_path: Path) -> None:
    """jgx serve in an empty directory creates the node, says so, serves, and stops cleanly on SIGTERM."""
    serve = ServeProcess(tmp_path, "--listen", "127.0.0.1:0")
    code = serve.terminate()
    created = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert 0 == code
    assert {"jgx.toml", "trust.json", "keys/node.key", "keys/admin.key", "tls/node.crt"} <= created
    assert any("initialised node sc.hub" in line for line in serve.banner)
    assert 0 == run("log", "verify", "--dir", str(tmp_path))[0]
