"""The language-neutral vectors under tests/vectors/ are current, and the core agrees with every one."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from gateway._time import parse_time
from gateway.dsse import pae
from gateway.errors import TrustError
from gateway.freshness import MemorySeenIds
from gateway.keys import load_public_key
from gateway.pipeline import judge
from gateway.trust import TrustConfig
from gateway.trust_update import load_trust
from gateway.validation import standards_validator
from tests.vectors.generate import render

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def test_vector_files_are_reproduced_byte_for_byte() -> None:
    """Regenerating the vectors yields exactly the checked-in files."""
    for name, text in render().items():
        assert text == (VECTORS / name).read_text(encoding="utf-8"), (
            f"{name} drifted: run tests/vectors/generate.py"
        )


def test_pae_reproduces_the_dsse_specification_example() -> None:
    """PAE matches DSSE protocol.md's example byte for byte."""
    assert b"DSSEv1 29 http://example.com/HelloWorld 11 hello world" == pae(
        "http://example.com/HelloWorld", b"hello world"
    )


@pytest.mark.parametrize("case", load("pae.json"), ids=lambda c: c["payload_type"])
def test_pae_vectors(case: dict[str, str]) -> None:
    """Each PAE vector encodes to its expected bytes."""
    assert bytes.fromhex(case["pae_hex"]) == pae(case["payload_type"], bytes.fromhex(case["body_hex"]))


@pytest.mark.parametrize("case", load("keyid.json"), ids=lambda c: c["name"])
def test_key_ids_are_sha256_of_the_der_spki(case: dict[str, str]) -> None:
    """A key id is the lowercase hex SHA-256 of the DER SubjectPublicKeyInfo, from PEM or DER alike."""
    from_pem = load_public_key(case["public_key_pem"].encode())
    from_der = load_public_key(bytes.fromhex(case["spki_der_hex"]))
    assert case["key_id"] == from_pem.key_id == from_der.key_id
    assert case["algorithm"] == from_pem.algorithm.value


ENVELOPES = load("envelopes.json")


@pytest.mark.parametrize("case", ENVELOPES["cases"], ids=lambda c: c["name"])
def test_envelope_vectors(case: dict[str, Any]) -> None:
    """Each envelope vector gets its expected verdict from the whole pipeline, step 8 included."""
    now = parse_time(ENVELOPES["now"])
    trust = load_trust(base64.b64decode(ENVELOPES["trust_dsse_json_b64"]), now=now)
    seen = MemorySeenIds()
    for sender, message_id in case.get("seen", []):
        seen.remember(sender, message_id, parse_time("2100-01-01T00:00:00Z"), now=now)
    verdict = judge(
        bytes.fromhex(case["envelope_hex"]),
        trust=trust,
        local_node=ENVELOPES["local_node"],
        now=now,
        seen=seen,
        validate=standards_validator,  # every step, step 8 included
    )
    actual = "ACCEPTED" if verdict.accepted else ",".join(r.value for r in verdict.reasons)
    assert case["expected"] == actual


ROTATION = load("trust-rotation.json")


@pytest.mark.parametrize("case", ROTATION["cases"], ids=lambda c: c["name"])
def test_trust_rotation_vectors(case: dict[str, Any]) -> None:
    """Each trust document is accepted or refused with the expected reason, in sequence."""
    now = parse_time(ROTATION["now"])
    current: TrustConfig | None = None
    outcomes = []
    for document in case["documents_b64"]:
        try:
            current = load_trust(base64.b64decode(document), now=now, previous=current)
            outcomes.append("OK")
        except TrustError as exc:
            outcomes.append(exc.reason.value)
    assert case["expected"] == outcomes


def test_logleaf_vectors_are_current() -> None:
    """Regenerating logleaf.json with the node's own leaf builder yields exactly the checked-in file."""
    from tests.vectors import generate_logleaf

    assert generate_logleaf.render() == (VECTORS / "logleaf.json").read_text(encoding="utf-8"), (
        "logleaf.json drifted: run tests/vectors/generate_logleaf.py"
    )


@pytest.mark.parametrize("case", load("logleaf.json")["cases"], ids=lambda c: c["name"])
def test_logleaf_vectors(case: dict[str, Any]) -> None:
    """Each leaf parses to its fields, hashes to its leaf hash, and binds the digests of its rows."""
    from google.protobuf import json_format

    from gateway import merkle
    from gateway.logbook import parse_leaf

    data = bytes.fromhex(case["leaf_hex"])
    leaf = parse_leaf(data)
    assert case["fields"] == json_format.MessageToDict(leaf, preserving_proto_field_name=True)
    assert case["leaf_hash_hex"] == merkle.leaf_hash(data).hex()
    rows = case["rows"]
    if rows is None:
        assert 1 == leaf.version
        return
    payload = (
        None if rows["payload_hex"] is None else hashlib.sha256(bytes.fromhex(rows["payload_hex"])).digest()
    )
    receipt = (
        None if rows["receipt_hex"] is None else hashlib.sha256(bytes.fromhex(rows["receipt_hex"])).digest()
    )
    assert (2, payload, receipt) == (
        leaf.version,
        leaf.payload_sha256 if leaf.HasField("payload_sha256") else None,
        leaf.receipt_sha256 if leaf.HasField("receipt_sha256") else None,
    )


@pytest.mark.parametrize("key", ENVELOPES["keys"], ids=lambda k: k["name"])
def test_the_vector_keys_derive_from_the_seeds_in_the_file(key: dict[str, str]) -> None:
    """Each key of envelopes.json re-derives from its seed as the file's description says."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    from gateway.keys import Ed25519PrivateKey, P256PrivateKey, PrivateKey

    raw = bytes.fromhex(key["seed_hex"])
    derived: PrivateKey
    if key["algorithm"] == "ed25519":
        derived = Ed25519PrivateKey(ed25519.Ed25519PrivateKey.from_private_bytes(raw))
    else:
        order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
        derived = P256PrivateKey(ec.derive_private_key(int.from_bytes(raw, "big") % order, ec.SECP256R1()))
    assert (key["spki_der_hex"], key["key_id"]) == (derived.public_key.spki_der.hex(), derived.key_id)
