"""A 国密 node end to end: the sm3 log hash profile over real gRPC, on SQLite and on PostgreSQL.

`jgx serve` runs as a child process on a node whose jgx.toml says ``[log] hash = "sm3"``; envelopes are
submitted over mTLS; receipts carry an SM3 envelope digest that verifies; the checkpoint's origin
declares sm3; `jgx log verify` passes, and fails once a stored row is edited; a sha256 verifier and a
node configured sha256 both refuse the sm3 log, each saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import grpc
import pytest

from gateway.checkpoint import CheckpointError
from gateway.config import CONFIG_FILE, load_config, render_config
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import Algorithm
from gateway.logbook import log_verifier, parse_leaf, verify_log_checkpoint
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import issue_receipt, verify_receipt
from gateway.testing import Federation
from gateway.treehash import SHA256, SM3, TreeHash
from tests.gateway.nodes import ServeProcess, client_credentials, jgx, write_node
from tests.gateway.storage.pgschema import SERVER, drop_schema, new_schema_url

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
SERVE = ("--listen", "127.0.0.1:0", "--console", "off",
         "--checkpoint-interval", "0.2", "--checkpoint-every", "3")  # fmt: skip


@contextlib.contextmanager
def _storage(kind: str, node: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{node / 'jgx.db'}"
        return
    url, schema = new_schema_url("sm3")
    try:
        yield url
    finally:
        asyncio.run(drop_schema(schema))


def _configure(node: Path, storage_url: str, hasher: TreeHash) -> None:
    config = replace(load_config(node / CONFIG_FILE), storage_url=storage_url, log_hash=hasher)
    (node / CONFIG_FILE).write_text(render_config(config), encoding="utf-8")


async def _submit(node: Path, port: int, envelopes: list[bytes]) -> list[exchange_pb2.SubmitResponse]:
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", client_credentials(node, "sc.amr")) as channel:
        call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
        return [await call(data) for data in envelopes]


def _edit_payload(kind: str, storage_url: str, node: Path) -> None:
    """Change one stored payload byte, as an operator with database access could."""
    if kind == "sqlite":
        with contextlib.closing(sqlite3.connect(node / "jgx.db")) as conn:
            conn.execute("UPDATE messages SET payload = payload || x'20' WHERE log_index = 1")
            conn.commit()
        return
    schema = storage_url.rsplit("schema=", 1)[1]

    async def edit() -> None:
        conn = await asyncpg.connect(SERVER, server_settings={"search_path": schema})
        try:
            await conn.execute("UPDATE messages SET payload = payload || '\\x20'::bytea WHERE log_index = 1")
        finally:
            await conn.close()

    asyncio.run(edit())


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_an_sm3_node_logs_receipts_checkpoints_and_verifies_end_to_end(kind: str, tmp_path: Path) -> None:
    """The whole sm3 profile over real gRPC; tampering, a sha256 verifier and a sha256 config refused."""
    fed = Federation.create(datetime.now(UTC), algorithm=Algorithm.SM2_SM3)
    node = write_node(tmp_path / "node", fed)
    with _storage(kind, node) as storage_url:
        _configure(node, storage_url, SM3)
        serve = ServeProcess(node, *SERVE)
        envelopes = [
            fed.envelope(fed.message("sc.amr", "cn.national", message_id=f"sm3-{n}")) for n in range(5)
        ]
        responses = asyncio.run(_submit(node, serve.port, envelopes))
        asyncio.run(asyncio.sleep(0.6))  # the checkpointer signs every 3 leaves or 0.2 s
        assert 0 == serve.terminate()

        # (1) every receipt carries SM3 of the exact envelope bytes, covered by the hub's SM2 signature
        for data, response in zip(envelopes, responses, strict=True):
            now = datetime.now(UTC)
            receipt = verify_receipt(response.receipt, fed.trust, issuer="sc.hub", now=now, sent=data)
            assert exchange_pb2.OUTCOME_ACCEPTED == receipt.outcome
            assert SM3.digest(data) == receipt.envelope_sm3
        with pytest.raises(VerificationError, match="another envelope"):
            verify_receipt(responses[0].receipt, fed.trust, issuer="sc.hub", now=now, sent=envelopes[1])

        # (2) the checkpoint declares sm3 in its origin; a sha256 verifier refuses it by name
        printed = jgx("log", "checkpoint", "--dir", str(node))
        assert 0 == printed.returncode, printed.stderr
        note = printed.stdout
        assert note.startswith("jgx.exchange-log-sm3/sc.hub\n")
        key = fed.trust.node("sc.hub").keys[0].public_key
        assert verify_log_checkpoint(note, "sc.hub", SM3, [log_verifier("sc.hub", key, SM3)]).size == 5
        with pytest.raises(CheckpointError) as refused:
            verify_log_checkpoint(note, "sc.hub", SHA256, [log_verifier("sc.hub", key, SHA256)])
        assert "hash_profile_mismatch" == refused.value.kind
        assert "sm3" in str(refused.value)
        assert "校验方使用 sha256" in str(refused.value)

        # (3) the leaves commit to SM3 digests only; `jgx log verify` recomputes the SM3 tree
        proof = jgx("log", "proof", "sm3-2", "--sender", "sc.amr", "--dir", str(node))
        assert 0 == proof.returncode, proof.stderr
        verified = jgx("log", "verify", "--dir", str(node))
        assert 0 == verified.returncode, verified.stderr
        assert "5 leaves, hash sm3" in verified.stdout
        exported = jgx("log", "export", "--dir", str(node), "--out", str(tmp_path / "log.jsonl"))
        assert 0 == exported.returncode, exported.stderr
        offline = jgx("log", "verify", "--dir", str(node), "--export", str(tmp_path / "log.jsonl"))
        assert 0 == offline.returncode, offline.stderr
        assert "5 leaves, hash sm3" in offline.stdout

        # (4) the node starts again on its sm3 log (the start check re-hashes the recent leaves and rows)
        assert 0 == ServeProcess(node, *SERVE).terminate()

        # (4) a node configured sha256 refuses the sm3 log: serve and verify both exit 2, saying why
        _configure(node, storage_url, SHA256)
        for args in (("log", "verify", "--dir", str(node)), ("serve", "--dir", str(node), *SERVE)):
            wrong = jgx(*args)
            assert 2 == wrong.returncode, wrong.stdout + wrong.stderr
            assert "日志哈希方案不符" in wrong.stderr
            assert "the log was created with sm3, jgx.toml [log] hash says sha256" in wrong.stderr
        _configure(node, storage_url, SM3)

        # (5) an edited row no longer matches the SM3 digest its leaf commits to
        _edit_payload(kind, storage_url, node)
        tampered = jgx("log", "verify", "--dir", str(node))
        assert 1 == tampered.returncode, tampered.stdout
        assert "leaf 1: messages.payload differs from the leaf" in tampered.stderr


def test_a_receipt_whose_sm3_digest_is_of_other_bytes_is_refused() -> None:
    """verify_receipt checks every digest the receipt carries: a wrong envelope_sm3 alone refuses it."""
    fed = Federation.create(datetime.now(UTC), algorithm=Algorithm.SM2_SM3)
    data = fed.envelope(fed.message("sc.amr", "cn.national"))
    now = datetime.now(UTC)

    def receipt(sm3: bytes | None) -> exchange_pb2.Envelope:
        return issue_receipt(
            issuer="sc.hub", key=fed.keys["sc.hub"], envelope_sha256=hashlib.sha256(data).digest(),
            envelope_sm3=sm3, message_id="m", sender="sc.amr", recipient="cn.national",
            outcome=exchange_pb2.OUTCOME_ACCEPTED, reason_codes=(), findings=(), log_index=0, now=now,
        )  # fmt: skip

    assert SM3.digest(data) == verify_receipt(receipt(SM3.digest(data)), fed.trust, issuer="sc.hub",
                                              now=now, sent=data).envelope_sm3  # fmt: skip
    plain = verify_receipt(receipt(None), fed.trust, issuer="sc.hub", now=now, sent=data)
    assert not plain.HasField("envelope_sm3")
    with pytest.raises(VerificationError, match=r"another envelope \(SM3\)") as refused:
        verify_receipt(receipt(SM3.digest(data + b" ")), fed.trust, issuer="sc.hub", now=now, sent=data)
    assert ReasonCode.RECEIPT_INVALID is refused.value.reason


def test_under_the_sm3_profile_the_leaf_carries_sm3_digests_only(tmp_path: Path) -> None:
    """A stored leaf of an sm3 node: envelope_sm3 beside envelope_sha256, payload_sm3, no payload_sha256."""
    fed = Federation.create(datetime.now(UTC), algorithm=Algorithm.SM2_SM3)
    node = write_node(tmp_path / "node", fed)
    _configure(node, f"sqlite:///{node / 'jgx.db'}", SM3)
    serve = ServeProcess(node, *SERVE)
    data = fed.envelope(fed.message("sc.amr", "cn.national", message_id="one"))
    asyncio.run(_submit(node, serve.port, [data]))
    assert 0 == serve.terminate()
    with contextlib.closing(sqlite3.connect(node / "jgx.db")) as conn:
        leaf_bytes, leaf_hash, payload = conn.execute(
            "SELECT l.leaf, l.leaf_hash, m.payload FROM leaves l JOIN messages m ON m.log_index = l.idx"
        ).fetchone()
        profile = conn.execute("SELECT hash FROM log_profile").fetchone()[0]
    leaf = parse_leaf(leaf_bytes)
    assert "sm3" == profile
    assert SM3.leaf(leaf_bytes) == leaf_hash
    assert SM3.digest(data) == leaf.envelope_sm3
    assert len(leaf.envelope_sha256) == 32
    assert SM3.digest(payload) == leaf.payload_sm3
    assert not leaf.HasField("payload_sha256")


def test_the_console_proves_and_checks_an_sm3_log(tmp_path: Path) -> None:
    """The console's inclusion proof and checkpoint history verify an sm3 log with the store's profile."""
    from gateway.console.auth import Principal, Role
    from gateway.console.overview import checkpoint_history
    from gateway.console.records import LogKeys, prove_inclusion
    from gateway.storage.sqlite import SqliteStore

    fed = Federation.create(datetime.now(UTC), algorithm=Algorithm.SM2_SM3)
    node = write_node(tmp_path / "node", fed)
    _configure(node, f"sqlite:///{node / 'jgx.db'}", SM3)
    serve = ServeProcess(node, *SERVE)
    for n in range(4):  # one at a time: each later checkpoint is proven consistent with the one before
        data = fed.envelope(fed.message("sc.amr", "cn.national", message_id=f"c{n}"))
        asyncio.run(_submit(node, serve.port, [data]))
        asyncio.run(asyncio.sleep(0.4))
    assert 0 == serve.terminate()

    async def console() -> tuple[dict[str, object] | None, list[dict[str, object]]]:
        store = SqliteStore(node / "jgx.db", hasher=None)
        await store.open()
        try:
            keys = LogKeys("sc.hub", fed.trust, store.hasher)
            proven = await prove_inclusion(store, 1, Principal("a", Role.AUDITOR), keys)
            return proven, await checkpoint_history(store, keys)
        finally:
            await store.close()

    proven, history = asyncio.run(console())
    assert proven is not None
    assert proven["verified"] is True, proven
    assert len(history) >= 2
    assert all(row["signature_valid"] for row in history), history
    assert [row for row in history if row["consistent_with_previous"] is False] == []
    assert any(row["consistent_with_previous"] is True for row in history), history  # SM3 proofs checked
