"""``jgx log verify`` catches an edit of any stored column of every exchange table, on SQLite and PostgreSQL.

One row per table × kind of edit (change, NULL, delete, insert): a hostile operator edits the database
behind the node's back (on PostgreSQL with foreign keys switched off, as a superuser can), and verify
must exit 1 and name the leaf or table of the edited row. The log holds every kind of leaf: accepted
submissions (one delivered to a real peer gateway over gRPC, one still pending), a duplicate, a
rejection with reason codes, and the delivery leaf with the peer's receipt.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from click.testing import CliRunner

from gateway import merkle
from gateway.cli import main
from gateway.config import CONFIG_FILE, load_config, render_config
from gateway.delivery import DeliveryPolicy, DeliveryWorker
from gateway.hub import Hub
from gateway.logaudit import audit_store
from gateway.logbook import log_verifier, parse_leaf
from gateway.loghead import LogHead
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.server import ExchangeService
from gateway.storage import Store, store_for
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from gateway.treehash import SHA256, SM3, TreeHash
from tests.gateway.nodes import write_node
from tests.gateway.storage.pgschema import SERVER, drop_schema, new_schema_url

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
FED = Federation.create(NOW)


@dataclass(frozen=True)
class Log:
    """A node directory and the log indexes of each kind of leaf in it."""

    directory: Path
    url: str
    index: dict[str, int]
    outbox: dict[str, int]  # outbox row id of "delivered" and "pending"


async def _fill(url: str, directory: Path, hasher: TreeHash = SHA256) -> Log:
    store: Store = store_for(url, base=directory, hasher=hasher)
    await store.open()
    peer_store = SqliteStore(directory / "peer.db")
    await peer_store.open()
    head = LogHead(directory)  # the directory's record, as jgx serve keeps it
    head.open()
    hub = Hub(
        node_id="sc.hub", key=FED.keys["sc.hub"], trust=FED.trust, store=store, clock=lambda: NOW, head=head
    )
    peer = Hub(node_id="cn.national", key=FED.keys["cn.national"], trust=FED.trust, store=peer_store,
               clock=lambda: NOW)  # fmt: skip
    await hub.start()
    await peer.start()
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([ExchangeService(peer).handler()])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    worker = DeliveryWorker(
        store=store, trust=FED.trust, node_id="sc.hub", policy=DeliveryPolicy(timeout=5.0),
        peers={"cn.national": f"127.0.0.1:{port}"}, clock=lambda: NOW, rand=lambda: 0.5,
    )  # fmt: skip
    delivered = FED.envelope(FED.message("sc.amr", "cn.national", message_id="m-1", action="claim"))
    await hub.submit(delivered)
    await hub.submit(delivered)  # the same bytes again: a duplicate
    await hub.submit(
        FED.envelope(FED.message("sc.amr", "sc.hub", message_id="m-bad"), key=FED.keys["sc.sjs"])
    )
    while await worker.run_once():
        pass
    await hub.submit(FED.envelope(FED.message("sc.amr", "cn.national", message_id="m-2")))  # stays pending
    await hub.checkpointer.checkpoint_now()
    await worker.close()
    await server.stop(0)
    await peer.close()
    await hub.close()
    head.close()
    size = await store.size()
    index: dict[str, int] = {}
    for record in await store.leaves(0, size):
        leaf = parse_leaf(record.leaf)
        kind = {
            exchange_pb2.OUTCOME_DUPLICATE: "duplicate",
            exchange_pb2.OUTCOME_REJECTED: "rejected",
        }.get(leaf.outcome, leaf.message_id)
        index["delivery" if leaf.kind == "delivery" else kind] = record.log_index
    rows = await store.outbox(limit=10)
    outbox = {"delivered" if row.delivery_index is not None else "pending": row.id for row in rows}
    await peer_store.close()
    await store.close()
    assert {"m-1", "m-2", "duplicate", "rejected", "delivery"} == set(index), index
    assert {"delivered", "pending"} == set(outbox)
    return Log(directory, url, index, outbox)


# (name, SQL with {0}, {1}… placeholders, parameters naming leaves as "@kind", the clue verify must print)
EDITS: list[tuple[str, str, tuple[Any, ...], str]] = [
    # messages: every column kind
    (
        "payload changed",
        "UPDATE messages SET payload = {0} WHERE log_index = {1}",
        (b'{"x":1}', "@m-1"),
        "leaf @m-1: messages.payload",
    ),
    (
        "payload NULLed",
        "UPDATE messages SET payload = NULL WHERE log_index = {0}",
        ("@m-1",),
        "leaf @m-1: messages.payload",
    ),
    (
        "envelope NULLed",
        "UPDATE messages SET envelope = NULL WHERE log_index = {0}",
        ("@m-2",),
        "leaf @m-2: messages.envelope",
    ),
    (
        "envelope changed",
        "UPDATE messages SET envelope = {0} WHERE log_index = {1}",
        (b"x", "@m-2"),
        "leaf @m-2: messages.envelope",
    ),
    (
        "action changed",
        "UPDATE messages SET action = 'close' WHERE log_index = {0}",
        ("@m-1",),
        "leaf @m-1: messages.action",
    ),
    (
        "time changed",
        "UPDATE messages SET time_us = time_us + 1 WHERE log_index = {0}",
        ("@m-1",),
        "leaf @m-1: messages.time_us",
    ),
    (
        "correlation id changed",
        "UPDATE messages SET correlation_id = 'X' WHERE log_index = {0}",
        ("@m-2",),
        "leaf @m-2: messages.correlation_id",
    ),
    (
        "reason codes NULLed to none",
        "UPDATE messages SET reason_codes = '' WHERE log_index = {0}",
        ("@rejected",),
        "leaf @rejected: messages.reason_codes",
    ),
    (
        "signed receipt changed",
        "UPDATE messages SET receipt = {0} WHERE log_index = {1}",
        (b"\x0a\x00", "@m-1"),
        "leaf @m-1: messages.receipt",
    ),
    (
        "signed receipt NULLed",
        "UPDATE messages SET receipt = NULL WHERE log_index = {0}",
        ("@rejected",),
        "leaf @rejected: messages.receipt",
    ),
    (
        "another leaf's receipt",
        "UPDATE messages SET receipt = (SELECT receipt FROM messages WHERE log_index = {0})"
        " WHERE log_index = {1}",
        ("@m-1", "@m-2"),
        "leaf @m-2: messages.receipt",
    ),
    (
        "duplicate's receipt changed",
        "UPDATE messages SET receipt = {0} WHERE log_index = {1}",
        (b"x", "@duplicate"),
        "leaf @duplicate: messages.receipt",
    ),
    (
        "duplicate_of changed",
        "UPDATE messages SET duplicate_of = {0} WHERE log_index = {1}",
        ("@m-2", "@duplicate"),
        "leaf @duplicate: messages.duplicate_of",
    ),
    (
        "duplicate_of NULLed",
        "UPDATE messages SET duplicate_of = NULL WHERE log_index = {0}",
        ("@duplicate",),
        "leaf @duplicate: messages.duplicate_of",
    ),
    (
        "peer's receipt changed",
        "UPDATE messages SET receipt = {0} WHERE log_index = {1}",
        (b"x", "@delivery"),
        "leaf @delivery: messages.receipt",
    ),
    (
        "messages row deleted",
        "DELETE FROM messages WHERE log_index = {0}",
        ("@m-2",),
        "leaf @m-2: its messages row is missing",
    ),
    (
        "messages row inserted",
        "INSERT INTO messages SELECT {0}, kind, time_us, sender, recipient, message_id, standard, "
        "standard_version, correlation_id, action, outcome, reason_codes, envelope_sha256, envelope, "
        "payload, receipt, duplicate_of FROM messages WHERE log_index = {1}",
        (900, "@m-1"),
        "messages: 1 rows name no leaf",
    ),
    # outbox
    (
        "outbox row deleted",
        "DELETE FROM outbox WHERE id = {0}",
        ("#pending",),
        "leaf @m-2: outbox rows differ",
    ),
    (
        "outbox row inserted",
        "INSERT INTO outbox (log_index, recipient, next_attempt_us) VALUES ({0}, 'sc.sjs', 0)",
        ("@m-1",),
        "leaf @m-1: outbox rows differ",
    ),
    (
        "outbox row for no leaf",
        "INSERT INTO outbox (log_index, recipient, next_attempt_us) VALUES (900, 'x', 0)",
        (),
        "outbox: 1 rows name no leaf",
    ),
    (
        "outbox recipient changed",
        "UPDATE outbox SET recipient = 'sc.sjs' WHERE id = {0}",
        ("#pending",),
        "leaf @m-2: outbox rows differ",
    ),
    (
        "outbox row moved",
        "UPDATE outbox SET log_index = {0} WHERE id = {1}",
        ("@rejected", "#pending"),
        "leaf @m-2: outbox rows differ",
    ),
    (
        "pending row marked delivered",
        "UPDATE outbox SET state = 'delivered' WHERE id = {0}",
        ("#pending",),
        "delivery_index does not fit its state",
    ),
    (
        "pending row settled by another leaf",
        "UPDATE outbox SET state = 'delivered', delivery_index = {0} WHERE id = {1}",
        ("@delivery", "#pending"),
        "names no delivery leaf of this row",
    ),
    (
        "delivery_index NULLed",
        "UPDATE outbox SET delivery_index = NULL WHERE id = {0}",
        ("#delivered",),
        "delivery_index does not fit its state",
    ),
    (
        "state set to garbage",
        "UPDATE outbox SET state = 'gone' WHERE id = {0}",
        ("#pending",),
        "state is unknown",
    ),
    (
        "outbox ids swapped out of log order",
        "UPDATE outbox SET id = 1000 WHERE id = {0}",
        ("#delivered",),
        "is out of log order",
    ),
    # seen
    ("seen row deleted", "DELETE FROM seen WHERE log_index = {0}", ("@m-1",), "leaf @m-1: seen row"),
    (
        "seen window changed",
        "UPDATE seen SET until_us = until_us + 1 WHERE log_index = {0}",
        ("@m-2",),
        "leaf @m-2: seen row",
    ),
    (
        "seen digest changed",
        "UPDATE seen SET envelope_sha256 = {0} WHERE log_index = {1}",
        (bytes(32), "@m-2"),
        "leaf @m-2: seen row",
    ),
    (
        "seen row inserted",
        "INSERT INTO seen VALUES ('sc.amr', 'm-9', {0}, {1}, 0)",
        ("@rejected", bytes(32)),
        "leaf @rejected: seen row",
    ),
    (
        "seen row for no leaf",
        "INSERT INTO seen VALUES ('sc.amr', 'm-9', 900, {0}, 0)",
        (bytes(32),),
        "seen: 1 rows name no leaf",
    ),
    # message_reasons (the console's reason index)
    (
        "reason row deleted",
        "DELETE FROM message_reasons WHERE log_index = {0}",
        ("@rejected",),
        "leaf @rejected: message_reasons",
    ),
    (
        "reason row inserted",
        "INSERT INTO message_reasons VALUES ('ACL_DENIED', 0, {0})",
        ("@m-1",),
        "leaf @m-1: message_reasons",
    ),
    (
        "reason row changed",
        "UPDATE message_reasons SET reason = 'EXPIRED' WHERE log_index = {0}",
        ("@rejected",),
        "leaf @rejected: message_reasons",
    ),
    (
        "reason row for no leaf",
        "INSERT INTO message_reasons VALUES ('EXPIRED', 0, 900)",
        (),
        "message_reasons: 1 rows name no leaf",
    ),
    # checkpoints
    (
        "latest checkpoint deleted",
        "DELETE FROM checkpoints WHERE size = (SELECT MAX(size) FROM checkpoints)",
        (),
        "the database lacks checkpoint",
    ),
    (
        "checkpoint root changed",
        "UPDATE checkpoints SET root_hash = {0}",
        (bytes(32),),
        "row differs from note",
    ),
    (
        "checkpoint note changed",
        "UPDATE checkpoints SET note = replace(note, 'jgx', 'xjg')",
        (),
        "checkpoint 5: [no_known_signature]",
    ),
    # nodes and leaves
    (
        "node row inserted",
        "INSERT INTO nodes VALUES (0, 900, {0})",
        (bytes(32),),
        "nodes: 1 rows name no leaf",
    ),
    (
        "node row deleted",
        "DELETE FROM nodes WHERE level = 0 AND idx = {0}",
        ("@m-2",),
        "stored node (0, @m-2)",
    ),
    (
        "leaf changed",
        "UPDATE leaves SET leaf_hash = {0} WHERE idx = {1}",
        (bytes(32), "@delivery"),
        "leaf @delivery: stored hash",
    ),
]


def _sql(template: str, params: tuple[Any, ...], log: Log, mark: str) -> tuple[str, list[Any]]:
    values = [
        log.index[p[1:]] if isinstance(p, str) and p.startswith("@")
        else log.outbox[p[1:]] if isinstance(p, str) and p.startswith("#") else p
        for p in params
    ]  # fmt: skip
    marks = [mark.format(n + 1) for n in range(len(values))]
    return template.format(*marks), values


def _clue(clue: str, log: Log) -> str:
    for name, index in log.index.items():
        clue = clue.replace(f"@{name}", str(index))
    return clue


async def _edit_postgres(log: Log, sql: str, values: list[Any]) -> None:
    conn = await asyncpg.connect(SERVER)
    try:
        schema = log.url.rsplit("schema=", 1)[1]
        await conn.execute(f"SET search_path = {schema}")
        await conn.execute("SET session_replication_role = replica")  # a superuser switches off foreign keys
        await conn.execute(sql, *values)
    finally:
        await conn.close()


def _edit(log: Log, template: str, params: tuple[Any, ...]) -> None:
    if log.url.startswith("sqlite"):
        sql, values = _sql(template, params, log, "?")
        with sqlite3.connect(log.directory / "jgx.db") as db:  # foreign keys are off unless a session asks
            db.execute(sql, values)
    else:
        sql, values = _sql(template, params, log, "${0}")
        asyncio.run(_edit_postgres(log, sql, values))


def _verify(log: Log) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["log", "verify", "--dir", str(log.directory)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture(params=["sqlite", "postgresql", "sqlite-sm3", "postgresql-sm3"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    """A node directory whose log (on each backend, with each hash profile) holds every kind of leaf.

    Under sm3 the hub's log is SM3 while the peer it delivers to keeps sha256 (a mixed federation).
    """
    directory = write_node(tmp_path / "node", FED)
    backend, _, profile = request.param.partition("-")
    hasher = SM3 if profile == "sm3" else SHA256
    url, schema = ("sqlite:///jgx.db", None) if backend == "sqlite" else new_schema_url("audit")
    config = replace(load_config(directory / CONFIG_FILE), storage_url=url, log_hash=hasher)
    (directory / CONFIG_FILE).write_text(render_config(config))
    try:
        yield asyncio.run(_fill(url, directory, hasher))
    finally:
        if schema is not None:
            asyncio.run(drop_schema(schema))


def test_an_untouched_log_with_every_kind_of_leaf_verifies(log: Log) -> None:
    """The untouched log verifies on both backends, with no unbound (version-1) leaf."""
    code, output = _verify(log)
    assert 0 == code, output
    assert "version-1" not in output


@pytest.mark.parametrize(("name", "template", "params", "clue"), EDITS, ids=[e[0] for e in EDITS])
def test_every_edit_of_a_stored_row_is_caught(
    log: Log, name: str, template: str, params: tuple[Any, ...], clue: str
) -> None:
    """An edit of a stored column, a NULL, a deleted or an inserted row: verify exits 1 and names it."""
    _edit(log, template, params)
    code, output = _verify(log)
    assert 1 == code, f"{name}: {output}"
    assert _clue(clue, log) in output, output


def test_a_moved_log_head_is_caught_on_postgresql(tmp_path: Path) -> None:
    """PostgreSQL's log_head row holds the size: moving it back or forth is caught."""
    directory = write_node(tmp_path / "node", FED)
    url, schema = new_schema_url("audit")
    config = replace(load_config(directory / CONFIG_FILE), storage_url=url)
    (directory / CONFIG_FILE).write_text(render_config(config))
    try:
        log = asyncio.run(_fill(url, directory))
        _edit(log, "UPDATE log_head SET size = size - 1", ())
        back = _verify(log)
        _edit(log, "UPDATE log_head SET size = size + 2", ())
        forth = _verify(log)
    finally:
        asyncio.run(drop_schema(schema))
    assert (1, 1) == (back[0], forth[0])
    assert "leaves: 1 rows name no leaf" in back[1]
    assert "the log's head says" in forth[1]


async def _submit_reordered(path: Path) -> tuple[bytes, bytes | None, list[str]]:
    store = SqliteStore(path)
    await store.open()
    hub = Hub(node_id="sc.hub", key=FED.keys["sc.hub"], trust=FED.trust, store=store, clock=lambda: NOW)
    await hub.start()
    envelope = exchange_pb2.Envelope.FromString(FED.envelope(FED.message("sc.amr", "cn.national")))
    # The same Envelope with its fields in reverse order: valid protobuf, other bytes than a re-encoding.
    data = b"".join(
        part.SerializeToString()
        for part in (
            exchange_pb2.Envelope(signatures=envelope.signatures),
            exchange_pb2.Envelope(payload_type=envelope.payload_type),
            exchange_pb2.Envelope(body=envelope.body),
        )
    )
    assert data != exchange_pb2.Envelope.FromString(data).SerializeToString()
    handled = await hub.submit(data)
    await hub.close()
    assert handled.log_index is not None
    record = await store.message(handled.log_index)
    report = await audit_store(
        store, "jgx.exchange-log/sc.hub", [log_verifier("sc.hub", FED.keys["sc.hub"].public_key)]
    )
    await store.close()
    return data, None if record is None else record.envelope, report.problems


def test_an_envelope_is_stored_exactly_as_received(tmp_path: Path) -> None:
    """An envelope encoded in another field order is stored byte for byte, so it hashes to its leaf."""
    data, stored, problems = asyncio.run(_submit_reordered(tmp_path / "jgx.db"))
    assert data == stored
    assert [] == problems


def test_an_appended_leaf_row_is_caught(log: Log) -> None:
    """A forged leaf row after the last one (with a matching leaf hash): verify exits 1 and names it."""
    forged, size = b"forged", max(log.index.values()) + 1
    _edit(log, "INSERT INTO leaves VALUES ({0}, {1}, {2})", (size, forged, merkle.leaf_hash(forged)))
    code, output = _verify(log)
    # SQLite's size is its last leaf: the forged leaf joins the tree and lacks its node and messages row.
    # PostgreSQL's size is the log_head row: the forged leaf lies beyond it.
    clue = f"stored node (0, {size})" if log.url.startswith("sqlite") else "leaves: 1 rows name no leaf"
    assert 1 == code, output
    assert clue in output, output
