"""Signed checkpoints: the C2SP note format, the vector files, and the never-sign-inconsistent rule."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import merkle
from gateway.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointLog,
    NoteVerifier,
    check_consistent,
    cosign_note,
    open_note,
    parse_note,
    sign_checkpoint,
    sign_note,
    verifier_key,
    verify_checkpoint,
)
from gateway.errors import ReasonCode
from gateway.keys import Algorithm, generate_key
from gateway.treehash import SHA256
from tests.vectors import generate_checkpoint as generator

VECTORS = Path(__file__).parent.parent / "vectors" / "checkpoint"
ORIGIN = "jgx.sc.example/sc.hub/exchange-log"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
# The hub's key id and key, but with signature type 0x02 (ECDSA) instead of 0x01.
ECDSA_TYPED = "{}+{}+{}".format(
    ORIGIN,
    verifier_key(ORIGIN, KEY.public_key()).split("+")[1],
    base64.b64encode(b"\x02" + KEY.public_key().public_bytes_raw()).decode(),
)


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return document


def _log(size: int) -> tuple[merkle.MemoryNodes, Checkpoint]:
    nodes = merkle.MemoryNodes()
    nodes.extend([merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(size)])
    return nodes, Checkpoint(ORIGIN, size, nodes.root())


class TestVectors:
    def test_signed_checkpoint(self) -> None:
        """The fixed seed signs the checkpoint into exactly the vector's note, which then verifies."""
        vector = _load("signed.json")
        checkpoint = Checkpoint(vector["origin"], vector["size"], bytes.fromhex(vector["root_hash"]))
        seed = bytes.fromhex(vector["ed25519_seed"])
        assert vector["body"] == checkpoint.body()
        assert vector["note"] == sign_checkpoint(checkpoint, vector["name"], seed)
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
        assert vector["verifier_key"] == verifier_key(vector["name"], public)
        assert checkpoint == verify_checkpoint(vector["note"], vector["origin"], [vector["verifier_key"]])

    def test_go_sumdb_note_interoperates(self) -> None:
        """The published Go signed-note example is reproduced byte for byte and verifies."""
        vector = _load("go-sumdb-note.json")
        seed = bytes.fromhex(vector["ed25519_seed"])
        assert vector["note"] == sign_note(vector["text"], vector["name"], seed)
        assert vector["text"] == open_note(vector["note"], [vector["verifier_key"]]).text
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
        assert vector["verifier_key"] == NoteVerifier.from_public_key(vector["name"], public).to_string()

    @pytest.mark.parametrize("case", _load("cases.json")["cases"], ids=lambda c: c["name"])
    def test_cases(self, case: dict[str, Any]) -> None:
        """Each note is accepted, or refused for the rule and with the reason code the vector names."""
        if case["valid"]:
            assert (
                case["origin"]
                == verify_checkpoint(case["note"], case["origin"], case["verifier_keys"]).origin
            )
        else:
            with pytest.raises(CheckpointError) as caught:
                verify_checkpoint(case["note"], case["origin"], case["verifier_keys"])
            assert (case["error"], case["reason"]) == (caught.value.kind, caught.value.reason.value)

    def test_vector_files_are_current(self) -> None:
        """The committed vector files are exactly what the generator writes."""
        for name, document in generator.documents().items():
            assert generator.render(document) == (VECTORS / name).read_text(encoding="utf-8")


class TestNotes:
    def test_rotation_signs_with_both_keys(self) -> None:
        """A note cosigned during a key rotation verifies with either the old or the new key alone."""
        note = cosign_note(sign_checkpoint(_log(3)[1], ORIGIN, KEY), ORIGIN, OTHER)
        for key in (KEY, OTHER):
            assert 3 == verify_checkpoint(note, ORIGIN, [verifier_key(ORIGIN, key.public_key())]).size
        assert 2 == len(parse_note(note).signatures)

    def test_open_note_keeps_only_known_signatures(self) -> None:
        """Opening a note returns the signatures of trusted keys and drops the others."""
        note = cosign_note(sign_note("hello\n", "witness.example", OTHER), ORIGIN, KEY)
        opened = open_note(note, [NoteVerifier.from_public_key(ORIGIN, KEY.public_key())])
        assert [ORIGIN] == [sig.name for sig in opened.signatures]

    def test_bytes_that_are_not_utf8_are_malformed(self) -> None:
        """A note that is not UTF-8 is refused as malformed."""
        with pytest.raises(CheckpointError) as caught:
            parse_note(b"\xff\xfe\n\n")
        assert ("malformed_note", ReasonCode.MALFORMED) == (caught.value.kind, caught.value.reason)

    @pytest.mark.parametrize(
        "vkey",
        [
            "",
            "name",
            "name+1234abcd",
            "na me+1234abcd+AQ==",
            "name+zzzzzzzz+AQ==",
            "name+1234abcd+!!!!",
            ECDSA_TYPED,
        ],
    )
    def test_bad_verifier_keys_are_refused(self, vkey: str) -> None:
        """A verifier key that is not name+hex id+base64(0x01 || key) is refused."""
        with pytest.raises(CheckpointError):
            NoteVerifier.parse(vkey)

    def test_verifier_key_id_must_match(self) -> None:
        """A verifier key whose id belongs to another name is refused."""
        _, key_id, material = verifier_key(ORIGIN, KEY.public_key()).split("+", 2)
        with pytest.raises(CheckpointError) as caught:
            NoteVerifier.parse(f"other.example+{key_id}+{material}")
        assert "bad_verifier_key" == caught.value.kind

    @pytest.mark.parametrize("algorithm", list(Algorithm))
    def test_gateway_keys_of_every_algorithm_sign_notes(self, algorithm: Algorithm) -> None:
        """A node key of each algorithm signs notes; its verifier key string round-trips and verifies."""
        node_key = generate_key(algorithm)
        note = sign_note("hello\n", "sc.hub", node_key)
        verifier = NoteVerifier.from_public_key("sc.hub", node_key.public_key)
        assert verifier.to_string() == NoteVerifier.parse(verifier.to_string()).to_string()
        assert "hello\n" == open_note(note, [verifier.to_string()]).text
        other = NoteVerifier.from_public_key("sc.hub", generate_key(algorithm).public_key)
        with pytest.raises(CheckpointError):
            open_note(note, [other])  # same name, other key: its id differs, so no known signature

    def test_note_key_types_follow_c2sp(self) -> None:
        """Ed25519: type 0x01, raw key; ECDSA: 0x02, SPKI, id = SHA-256(SPKI)[:4]; SM2: 0xff + identifier."""
        import base64
        import hashlib

        from gateway.checkpoint import SM2_NOTE_TYPE, note_key_id, verifier_key

        p256 = generate_key(Algorithm.ECDSA_P256_SHA256).public_key
        assert hashlib.sha256(p256.spki_der).digest()[:4] == note_key_id("sc.hub", p256)
        assert b"\x02" + p256.spki_der == base64.b64decode(verifier_key("sc.hub", p256).split("+", 2)[2])
        sm2_key = generate_key(Algorithm.SM2_SM3).public_key
        typed = SM2_NOTE_TYPE + sm2_key.spki_der
        assert typed == base64.b64decode(verifier_key("sc.hub", sm2_key).split("+", 2)[2])
        assert hashlib.sha256(b"sc.hub\n" + typed).digest()[:4] == note_key_id("sc.hub", sm2_key)

    def test_a_verifier_key_whose_type_does_not_fit_its_key_is_refused(self) -> None:
        """An SM2 SPKI announced as ECDSA (type 0x02) is not a usable verifier key."""
        import base64

        sm2_key = generate_key(Algorithm.SM2_SM3).public_key
        forged = "sc.hub+00000000+" + base64.b64encode(b"\x02" + sm2_key.spki_der).decode()
        with pytest.raises(CheckpointError) as caught:
            NoteVerifier.parse(forged)
        assert "bad_verifier_key" == caught.value.kind

    def test_signing_needs_a_newline_terminated_body(self) -> None:
        """Signing a body without its final newline is refused."""
        with pytest.raises(CheckpointError):
            sign_note("no newline", ORIGIN, KEY)

    @settings(max_examples=100, deadline=None)
    @given(
        origin=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40),
        size=st.integers(min_value=0, max_value=2**63),
        root=st.binary(min_size=32, max_size=32),
    )
    def test_checkpoints_round_trip(self, origin: str, size: int, root: bytes) -> None:
        """Any checkpoint survives signing, verification and parsing unchanged."""
        checkpoint = Checkpoint(origin, size, root)
        note = sign_checkpoint(checkpoint, "hub.example", KEY)
        assert checkpoint == verify_checkpoint(note, origin, [verifier_key("hub.example", KEY.public_key())])


class TestCheckpointLog:
    def test_log_advances_along_consistent_checkpoints(self) -> None:
        """The log signs each next checkpoint once a consistency proof from the last one verifies."""
        nodes, _ = _log(40)
        state = CheckpointLog(ORIGIN, SHA256)
        for size in (0, 1, 1, 7, 8, 33, 40):
            new = Checkpoint(ORIGIN, size, merkle.root(size, nodes))
            previous = state.latest.size if state.latest else 0
            proof = merkle.consistency_proof(previous, size, nodes) if previous else []
            state, note = state.sign_next(new, proof, ORIGIN, KEY)
            assert new == verify_checkpoint(note, ORIGIN, [verifier_key(ORIGIN, KEY.public_key())])
        assert 40 == (state.latest.size if state.latest else -1)

    def test_split_view_is_refused(self) -> None:
        """A checkpoint of the same size with another root (a forked log) is never signed."""
        _, first = _log(8)
        forked = Checkpoint(ORIGIN, 8, merkle.leaf_hash(b"fork"))
        with pytest.raises(merkle.ProofError) as caught:
            CheckpointLog(ORIGIN, SHA256, first).sign_next(forked, [], ORIGIN, KEY)
        assert "root_mismatch" == caught.value.kind

    def test_rewritten_history_is_refused(self) -> None:
        """A larger checkpoint whose tree does not contain the last one fails its consistency proof."""
        _, first = _log(8)
        other = merkle.MemoryNodes()
        other.extend([merkle.leaf_hash(bytes([9, i])) for i in range(12)])
        rewritten = Checkpoint(ORIGIN, 12, other.root())
        with pytest.raises(merkle.ProofError) as caught:
            CheckpointLog(ORIGIN, SHA256, first).advance(rewritten, merkle.consistency_proof(8, 12, other))
        assert "root_mismatch" == caught.value.kind

    def test_shrinking_is_refused(self) -> None:
        """A checkpoint smaller than the last one is a rollback and is refused."""
        nodes, latest = _log(8)
        with pytest.raises(merkle.ProofError) as caught:
            CheckpointLog(ORIGIN, SHA256, latest).advance(Checkpoint(ORIGIN, 5, merkle.root(5, nodes)), [])
        assert "size_order" == caught.value.kind

    def test_another_origin_is_refused(self) -> None:
        """A log never signs a checkpoint of another origin."""
        with pytest.raises(CheckpointError) as caught:
            CheckpointLog(ORIGIN, SHA256).advance(Checkpoint("jgx.cq.example/log", 0, merkle.EMPTY_ROOT), [])
        assert "origin_mismatch" == caught.value.kind

    def test_empty_tree_needs_the_empty_root(self) -> None:
        """A checkpoint of size 0 must carry SHA-256 of nothing as its root."""
        with pytest.raises(CheckpointError):
            check_consistent(None, Checkpoint(ORIGIN, 0, merkle.leaf_hash(b"x")), [], hasher=SHA256)

    def test_growing_from_empty_needs_no_proof(self) -> None:
        """Any tree extends the empty one, and a proof offered for it is refused as meaningless."""
        empty = Checkpoint(ORIGIN, 0, merkle.EMPTY_ROOT)
        _, grown = _log(5)
        check_consistent(empty, grown, [], hasher=SHA256)
        with pytest.raises(merkle.ProofError):
            check_consistent(empty, grown, [merkle.EMPTY_ROOT], hasher=SHA256)

    @pytest.mark.parametrize(
        ("origin", "size", "root"),
        [("", 1, bytes(32)), ("a\nb", 1, bytes(32)), (ORIGIN, -1, bytes(32)), (ORIGIN, 1, bytes(31))],
    )
    def test_malformed_checkpoints_cannot_be_built(self, origin: str, size: int, root: bytes) -> None:
        """An empty or multi-line origin, a negative size or a short root is refused at construction."""
        with pytest.raises(CheckpointError):
            Checkpoint(origin, size, root)
