"""What SM2 work the hub repeats: Z_A once per key and signer id, no key built per envelope or receipt.

SM2's curve operations cost 3–8 times Ed25519's (bench/README.md); anything the hub adds per
message on top of them (a key parsed again, Z_A computed again) is pure loss. These tests count that
work on real keys, a real hub and real gRPC; they assert no duration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from gateway import sm2
from gateway.checkpoint import NoteVerifier, verify_checkpoint
from gateway.keys import Algorithm, generate_key, load_public_key
from gateway.logbook import log_origin, log_verifier
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.testing import Federation
from gateway.trust import key_record
from tests.gateway.test_server import NOW, start_node


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple[object, ...]]:
    """Record each call of ``sm2.<name>`` with its arguments; the real function still runs."""
    real: Callable[..., object] = getattr(sm2, name)
    calls: list[tuple[object, ...]] = []

    def counted(*args: object) -> object:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(sm2, name, counted)
    return calls


def test_z_a_is_computed_once_per_key_and_signer_id_however_often_the_key_is_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One SM2 key loaded again and again (trust re-read, verifier keys parsed per note): Z_A once per id."""
    hashed = _counting(monkeypatch, "sm3")  # while only loading keys, every SM3 is a Z_A
    key = generate_key(Algorithm.SM2_SM3)
    verifier = NoteVerifier.from_public_key(log_origin("sc.hub"), key.public_key).to_string()
    for _ in range(5):
        load_public_key(key.public_key.spki_der)
        load_public_key(key.public_key.to_pem()).with_signer_id(b"sc.hub@jgx")
        key.with_signer_id(b"sc.hub@jgx")
        NoteVerifier.parse(verifier)
    assert 2 == len(hashed)  # the default id and sc.hub@jgx


def test_signatures_made_after_a_cached_z_a_still_verify_under_the_right_id() -> None:
    """The memoised Z_A is per id: a key loaded again under another id verifies only that id's signatures."""
    key = generate_key(Algorithm.SM2_SM3)
    other = key.with_signer_id(b"sc.amr@jgx")
    again = load_public_key(key.public_key.spki_der)
    assert again.verify(key.sign(b"m"), b"m")
    assert not again.verify(other.sign(b"m"), b"m")
    assert again.with_signer_id(b"sc.amr@jgx").verify(other.sign(b"m"), b"m")


async def test_an_sm2_hub_builds_no_key_per_envelope_receipt_or_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over gRPC, envelopes from a sender with a signer id get SM2 receipts and a checkpoint, and no SM2
    key object (each computes its Z_A) is made on the way: keys are built when the trust loads, once."""
    fed = Federation.create(NOW, algorithm=Algorithm.SM2_SM3)
    for node_id in ("sc.amr", "sc.hub"):
        record = key_record(fed.keys[node_id].public_key, signer_id=f"{node_id}@jgx")
        fed.resign(fed.trust.with_node(replace(fed.trust.node(node_id), keys=(record,))))
        fed.keys[node_id] = fed.trust.signing_key(fed.keys[node_id])
    envelopes = [fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"m-{n}")) for n in range(6)]
    node = await start_node(fed, tmp_path / "hub.db")
    try:
        keys_made = _counting(monkeypatch, "z_value")
        signed = _counting(monkeypatch, "_sign_digest")
        for data in envelopes:
            assert exchange_pb2.OUTCOME_ACCEPTED == (await node.submit(data)).outcome  # receipt verified
        stored = await node.server.hub.checkpointer.checkpoint_now()
        assert [] == keys_made
        assert len(signed) >= 7  # six receipts and a checkpoint went through the counted path
    finally:
        await node.channel.close()
        await node.server.stop(grace=1)
        await node.server.hub.store.close()
    assert stored is not None
    verifier = log_verifier("sc.hub", fed.trust.node("sc.hub").keys[0].public_key)
    assert 6 == verify_checkpoint(stored.note, log_origin("sc.hub"), [verifier]).size
