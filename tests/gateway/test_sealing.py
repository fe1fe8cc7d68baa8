"""Sealed personal fields: SM4-GCM under a per-record key wrapped with the recipient's SM2 key."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gmssl_pyx
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gateway import sealing
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import Algorithm, PrivateKey, SM2PrivateKey, generate_key
from gateway.sm2 import SM2SigningKey

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "sealed-sm4.json").read_text("utf-8"))
RECORD: dict[str, Any] = {
    "action": "dispatch",
    "partyIdType": "111",
    "partyIdCode": "500103198808080314",
    "evidence": [{"name": "截图.pdf", "holder/phone": "13812345678"}],
}
AAD = sealing.message_aad("sc.amr", "cq.hub", "m-1", "SC-13")


@pytest.fixture(scope="module")
def recipient() -> PrivateKey:
    return generate_key(Algorithm.SM2_SM3)


def test_sm4_reproduces_the_gbt_32907_example() -> None:
    """SM4 of 0123…3210 under the same key is 681edf34…4246 (GB/T 32907-2016 Appendix A)."""
    block = VECTORS["sm4_block"]
    encryptor = Cipher(algorithms.SM4(bytes.fromhex(block["key_hex"])), modes.ECB()).encryptor()
    actual = encryptor.update(bytes.fromhex(block["plaintext_hex"])) + encryptor.finalize()
    assert "681edf34d206965e86b3e94f536e4246" == actual.hex() == block["ciphertext_hex"]


def test_sealed_fields_open_for_the_recipient(recipient: PrivateKey) -> None:
    """Sealed fields (nested, escaped pointers included) open to the original record; others stay clear."""
    pointers = ["/partyIdCode", "/evidence/0/holder~1phone"]
    sealed = sealing.seal_fields(RECORD, pointers, recipient.public_key, aad=AAD)
    assert "500103198808080314" not in json.dumps(sealed)
    assert pointers == sealing.sealed_pointers(sealed)
    assert "111" == sealed["partyIdType"]
    assert sealed["partyIdCode"]["ek"] == sealed["evidence"][0]["holder/phone"]["ek"]  # one key per record
    assert RECORD == sealing.open_fields(sealed, recipient, aad=AAD)


def _moved(sealed: dict[str, Any]) -> dict[str, Any]:
    """The sealed id number copied into another personal field of the same record."""
    return {**sealed, "evidence": [{"name": "x", "holder/phone": sealed["partyIdCode"]}]}


def _flip(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def alter(sealed: dict[str, Any]) -> dict[str, Any]:
        raw = bytearray(base64.b64decode(sealed["partyIdCode"][name]))
        raw[-1] ^= 1
        return {**sealed, "partyIdCode": {**sealed["partyIdCode"], name: base64.b64encode(raw).decode()}}

    return alter


def _member(name: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda sealed: {**sealed, "partyIdCode": {**sealed["partyIdCode"], name: value}}


REFUSALS: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], bytes, ReasonCode]] = {
    "ciphertext altered": (_flip("ct"), AAD, ReasonCode.MALFORMED),
    "wrapped key altered": (_flip("ek"), AAD, ReasonCode.MALFORMED),
    "iv altered": (_flip("iv"), AAD, ReasonCode.MALFORMED),
    "moved to another field": (_moved, AAD, ReasonCode.MALFORMED),
    "another message id": (
        lambda s: s,
        sealing.message_aad("sc.amr", "cq.hub", "m-2", "SC-13"),
        ReasonCode.MALFORMED,
    ),
    "another recipient": (
        lambda s: s,
        sealing.message_aad("sc.amr", "cn.national", "m-1", "SC-13"),
        ReasonCode.MALFORMED,
    ),
    "unknown scheme": (_member(sealing.SEALED, "aes-gcm/rsa"), AAD, ReasonCode.MALFORMED),
    "iv not base64": (_member("iv", "***"), AAD, ReasonCode.MALFORMED),
    "kid of another key": (_member("kid", "ab" * 32), AAD, ReasonCode.KEY_UNKNOWN),
    "member missing": (
        lambda s: {**s, "partyIdCode": {"jgx:sealed": sealing.SCHEME}},
        AAD,
        ReasonCode.MALFORMED,
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_an_altered_moved_or_misread_sealed_value_is_refused(recipient: PrivateKey, case: str) -> None:
    """Each alteration, move, or wrong header is a SealedValueError with its reason, never plaintext."""
    alter, aad, reason = REFUSALS[case]
    sealed = sealing.seal_fields(RECORD, ["/partyIdCode"], recipient.public_key, aad=AAD)
    with pytest.raises(sealing.SealedValueError) as caught:
        sealing.open_fields(alter(sealed), recipient, aad=aad)
    assert reason == caught.value.reason


def test_another_private_key_cannot_open(recipient: PrivateKey) -> None:
    """A value sealed for one node is refused by another node's key (KEY_UNKNOWN), even with kid forged."""
    other = generate_key(Algorithm.SM2_SM3)
    sealed = sealing.seal_fields(RECORD, ["/partyIdCode"], recipient.public_key, aad=AAD)
    with pytest.raises(sealing.SealedValueError) as caught:
        sealing.open_fields(sealed, other, aad=AAD)
    assert ReasonCode.KEY_UNKNOWN == caught.value.reason
    forged = _member("kid", other.key_id)(sealed)
    with pytest.raises(sealing.SealedValueError) as caught:
        sealing.open_fields(forged, other, aad=AAD)
    assert ReasonCode.MALFORMED == caught.value.reason


@pytest.mark.parametrize("pointer", ["/nope", "", "partyIdCode", "/evidence/7/name"])
def test_sealing_a_field_that_is_not_there_is_refused(recipient: PrivateKey, pointer: str) -> None:
    """A pointer that names no field of the record is MALFORMED, not a KeyError."""
    with pytest.raises(sealing.SealedValueError) as caught:
        sealing.seal_fields(RECORD, [pointer], recipient.public_key, aad=AAD)
    assert ReasonCode.MALFORMED == caught.value.reason


def test_only_sm2_keys_receive_sealed_fields() -> None:
    """An Ed25519 recipient key is ALGORITHM_MISMATCH: sealing is defined for SM2 only."""
    with pytest.raises(VerificationError) as caught:
        sealing.seal_fields(RECORD, ["/partyIdCode"], generate_key(Algorithm.ED25519).public_key, aad=AAD)
    assert ReasonCode.ALGORITHM_MISMATCH == caught.value.reason


def _vector_key() -> SM2PrivateKey:
    return SM2PrivateKey(SM2SigningKey.from_scalar(int(VECTORS["recipient"]["d_hex"], 16)))


def test_the_vector_file_reproduces() -> None:
    """d gives the listed key id; ek decrypts to the content key; SM4-GCM gives ct; the record opens."""
    key = _vector_key()
    assert VECTORS["recipient"]["spki_der_hex"] == key.public_key.spki_der.hex()
    assert VECTORS["recipient"]["kid"] == key.key_id
    content_key = key.unwrap_key(bytes.fromhex(VECTORS["ek_hex"]))
    assert VECTORS["content_key_hex"] == content_key.hex()
    header = VECTORS["header"]
    aad = sealing.message_aad(header["sender"], header["recipient"], header["message_id"], header["standard"])
    assert VECTORS["message_aad_hex"] == aad.hex()
    for field in VECTORS["fields"]:
        faad = sealing.field_aad(aad, field["pointer"])
        assert (field["aad_hex"], field["aad_text"]) == (faad.hex(), faad.decode())
        encryptor = Cipher(algorithms.SM4(content_key), modes.GCM(bytes.fromhex(field["iv_hex"]))).encryptor()
        encryptor.authenticate_additional_data(faad)
        ct = encryptor.update(bytes.fromhex(field["plaintext_hex"])) + encryptor.finalize() + encryptor.tag
        assert field["ct_hex"] == ct.hex()
    assert VECTORS["record"] == sealing.open_fields(VECTORS["sealed_record"], key, aad=aad)


def test_gmssl_opens_the_vector_independently() -> None:
    """GmSSL (a second implementation) unwraps the vector's ek with d and opens its SM4-GCM ciphertext."""
    d = bytes.fromhex(VECTORS["recipient"]["d_hex"])
    content_key = gmssl_pyx.sm2_decrypt(d, bytes.fromhex(VECTORS["ek_hex"]))
    assert VECTORS["content_key_hex"] == content_key.hex()
    for field in VECTORS["fields"]:
        ct = bytes.fromhex(field["ct_hex"])
        plaintext = gmssl_pyx.sm4_gcm_decrypt(
            content_key, bytes.fromhex(field["iv_hex"]), bytes.fromhex(field["aad_hex"]), ct[:-16], ct[-16:]
        )
        assert field["plaintext_hex"] == plaintext.hex()


def test_jgx_unwraps_a_key_gmssl_encrypted() -> None:
    """A content key SM2-encrypted by GmSSL to the vector key unwraps in jgx (same C1‖C3‖C2 DER)."""
    key = _vector_key()
    raw_public = key.public_key.spki_der[-64:]
    assert b"k" * 16 == key.unwrap_key(gmssl_pyx.sm2_encrypt(raw_public, b"k" * 16))
