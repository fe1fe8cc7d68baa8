"""The node's signing key at start and while it runs: one rule for a key file and a token key (a key that
is not the node's in the trust configuration stops `jgx serve` with exit 2), and a token that stops
signing under a running hub (its PKCS#11 session closed) is answered UNAVAILABLE over real gRPC with a
logged reason, never a raw exception, and nothing half-kept in the exchange log."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from structlog.testing import capture_logs

from gateway import hsm
from gateway.error_details import error_info
from gateway.hub import SIGNER_FAILED
from gateway.keys import generate_key
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from gateway.testing import Federation
from gateway.trust import key_record
from tests.adapters.bridge.front import running_hub
from tests.gateway.nodes import ROOT, write_node
from tests.gateway.softhsm import Hsm

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"


def _serve_refused(node: Path) -> tuple[int | None, str]:
    """`jgx serve` in a child process: its exit code and stderr, or (None, …) if it kept running."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from gateway.cli import main; main()", "serve", "--dir", str(node),
             "--listen", "127.0.0.1:0", "--console", "off"],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=60,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    except subprocess.TimeoutExpired as running:
        return None, str(running.stderr or "")
    return done.returncode, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("change", ["not-listed", "revoked"])
def test_a_node_whose_key_file_is_not_its_key_in_the_trust_configuration_refuses_to_start(
    tmp_path: Path, change: str
) -> None:
    """keys/node.key holding a key the trust configuration does not list for the node (or lists revoked)
    stops jgx serve before it listens, exit 2, as a token key that is not the node's does: receipts
    signed by it would verify for no one."""
    fed = Federation.create(datetime.now(UTC))
    node = write_node(tmp_path / "node", fed)
    if change == "not-listed":
        (node / "keys" / "node.key").write_bytes(generate_key().to_pem())
    else:
        fed.resign(fed.trust.with_key_revoked(fed.keys["sc.hub"].key_id))
        (node / "trust.json").write_bytes(fed.signed_trust)
    code, err = _serve_refused(node)
    assert 2 == code, err
    assert "listening" not in err
    for clue in ("[key_id]", "KEY_UNKNOWN", "keys/node.key", "不是信任配置中节点 sc.hub 的密钥"):
        assert clue in err


async def test_a_token_that_stops_signing_under_a_running_hub_is_answered_unavailable(
    softhsm: Hsm, tmp_path: Path
) -> None:
    """The hub signs with its token key; the key's PKCS#11 session is closed under it. The next envelope
    is answered with the status UNAVAILABLE (jgx ErrorInfo, the signing-key detail, no exception text),
    the reason is logged (envelope.signing_failed naming the PKCS#11 error, and the envelope event with
    UNAVAILABLE), the log holds nothing of it, and its message id stays unconsumed."""
    key = hsm.open_token_key(softhsm.settings("jgx-edge", "hub"))
    fed = Federation.create(datetime.now(UTC))
    fed.resign(fed.trust.with_node(replace(fed.trust.node("sc.hub"), keys=(key_record(key.public_key),))))
    fed.keys["sc.hub"] = key
    first, second = (fed.envelope(fed.message("sc.amr", "sc.hub")) for _ in range(2))
    async with running_hub(fed, tmp_path / "hub.sqlite") as hub:
        async with grpc.aio.secure_channel(f"localhost:{hub.port}", hub.client_credentials) as channel:
            call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
            accepted = (await call(first)).receipt
            key._session._session.closeSession()  # type: ignore[attr-defined]  # the token goes away
            with capture_logs() as events, pytest.raises(grpc.aio.AioRpcError) as refused:
                await call(second)
            with pytest.raises(grpc.aio.AioRpcError) as again:  # the same envelope again: still not consumed
                await call(second)
        logged = await hub.hub.store.size()
        message_id = exchange_pb2.Message.FromString(exchange_pb2.Envelope.FromString(second).body).message_id
        consumed = hub.hub.seen.seen("sc.amr", message_id, now=datetime.now(UTC))
    digest = hashlib.sha256(first).digest()
    now = datetime.now(UTC)
    receipt = verify_receipt(accepted, fed.trust, issuer="sc.hub", now=now, envelope_sha256=digest)
    info = error_info(refused.value)
    assert (exchange_pb2.OUTCOME_ACCEPTED, [key.key_id]) == (
        receipt.outcome, [s.key_id for s in accepted.signatures]
    )
    assert grpc.StatusCode.UNAVAILABLE == refused.value.code() == again.value.code()
    assert info is not None
    assert ("UNAVAILABLE", SIGNER_FAILED) == (info.reason, info.metadata["detail"])
    assert "CKR_" not in (refused.value.details() or "") + str(dict(info.metadata))
    failed = [e for e in events if e["event"] == "envelope.signing_failed"]
    assert len(failed) == 1, events
    assert "CKR_SESSION_HANDLE_INVALID" in failed[0]["error"]
    envelope = [e for e in events if e["event"] == "envelope"]
    assert [(["UNAVAILABLE"], "refused", SIGNER_FAILED)] == [
        (e["reasons"], e["outcome"], e["detail"]) for e in envelope
    ]
    assert (1, False) == (logged, consumed)
