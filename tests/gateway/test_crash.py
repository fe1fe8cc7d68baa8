"""Crash safety: ``jgx serve`` killed with SIGKILL in the middle of a stream loses nothing it receipted."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from gateway.testing import Federation
from tests.gateway.nodes import ServeProcess, client_credentials, jgx, write_node

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
SUBMIT_STREAM = "/jgx.exchange.v1.Exchange/SubmitStream"
SERVE = ("--listen", "127.0.0.1:0", "--checkpoint-interval", "0.2", "--checkpoint-every", "50")


def _channel(node: Path, port: int) -> grpc.aio.Channel:
    """An mTLS channel to the hub as sc.amr."""
    return grpc.aio.secure_channel(f"127.0.0.1:{port}", client_credentials(node, "sc.amr"))


async def _stream_until_killed(
    node: Path, envelopes: list[bytes], serve: ServeProcess, kill_after: int
) -> list[exchange_pb2.Envelope]:
    """Stream ``envelopes``; SIGKILL the server after ``kill_after`` receipts; return the receipts."""
    receipts: list[exchange_pb2.Envelope] = []
    async with _channel(node, serve.port) as channel:
        call = channel.stream_stream(
            SUBMIT_STREAM, response_deserializer=exchange_pb2.SubmitResponse.FromString
        )
        stream = call(iter(envelopes))
        try:
            async for response in stream:
                receipts.append(response.receipt)
                if len(receipts) == kill_after:
                    serve.kill()
        except grpc.aio.AioRpcError:
            pass  # the server died under us, as intended
    return receipts


async def _resubmit(node: Path, port: int, data: bytes) -> exchange_pb2.Envelope:
    async with _channel(node, port) as channel:
        call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
        response = await call(data)
        return response.receipt


@pytest.mark.slow
def test_sigkill_mid_stream_keeps_every_receipted_envelope(tmp_path: Path) -> None:
    """Over mTLS: after SIGKILL and a restart every receipted envelope is logged and queued; log verifies."""
    fed = Federation.create(datetime.now(UTC))
    node = write_node(tmp_path / "node", fed)
    envelopes = [
        fed.envelope(fed.message("sc.amr", "cn.national", message_id=f"crash-{n}")) for n in range(400)
    ]
    serve = ServeProcess(node, *SERVE)
    receipts = asyncio.run(_stream_until_killed(node, envelopes, serve, kill_after=120))
    assert serve.process.returncode == -9
    verified = [verify_receipt(r, fed.trust, issuer="sc.hub", now=datetime.now(UTC)) for r in receipts]

    restarted = ServeProcess(node, *SERVE)
    try:
        # Each receipted envelope, sent again, is a duplicate answered with its original receipt.
        again = [
            asyncio.run(_resubmit(node, restarted.port, envelopes[n])) for n in range(0, len(receipts), 7)
        ]
    finally:
        assert 0 == restarted.terminate()

    assert [r.SerializeToString() for r in receipts[::7]] == [r.SerializeToString() for r in again]
    with sqlite3.connect(node / "jgx.db") as db:
        logged = dict(db.execute("SELECT log_index, message_id FROM messages WHERE duplicate_of IS NULL"))
        queued = {
            row[0] for row in db.execute("SELECT log_index FROM outbox WHERE recipient = 'cn.national'")
        }
        leaves = db.execute("SELECT COUNT(*) FROM leaves").fetchone()[0]
        rows = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    assert [r.message_id for r in verified] == [logged[r.log_index] for r in verified]
    assert {r.log_index for r in verified} <= queued
    assert leaves == rows  # nothing half-written: every leaf has its side row and no row lacks its leaf
    result = jgx("log", "verify", "--dir", str(node))
    assert 0 == result.returncode, result.stderr
