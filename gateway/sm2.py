"""国密 SM2-with-SM3 signatures (GB/T 32918.2, encoded per GB/T 35276) and SM2 encryption (GB/T 32918.4)
over the Tongsuo library.

The curve arithmetic, the nonce and the signing equation are Tongsuo's (铜锁, the OpenAtom Foundation's
maintained OpenSSL derivative with SM2 in C and assembly), reached through its Python binding
`tongsuopy`. What this module computes itself is only what the standard defines *around* the curve:

    Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)     (GB/T 32918.2 §5.5)
    e   = SM3(Z_A ‖ M)                                              (§6.1, steps A1–A2)

and Tongsuo signs or verifies `e` (its SM2 `EVP_PKEY_sign`/`EVP_PKEY_verify` take the digest as is).
Computing `e` here rather than inside the library is what lets a trust configuration record a signer id
other than the default "1234567812345678" (GB/T 35276 §7): `tongsuopy`'s high-level API hard-wires the
default. SM3 itself is the standard library's (`hashlib`, when its OpenSSL offers "sm3", as OpenSSL 3
does), else `cryptography`'s (pyca), already a dependency; both reproduce GB/T 32905's examples.

Z_A is fixed for a public key and signer id, so it is computed once per pair and process (`z_value` is
memoised) and each key object keeps its own; nothing on the signing or verifying path builds a key.

Signatures are DER ``SEQUENCE { INTEGER r, INTEGER s }`` (GB/T 35276 §7.3). Public keys are SPKI with
``id-ecPublicKey`` and the SM2 curve OID 1.2.156.10197.1.301, so key ids stay SHA-256 of the DER SPKI.

SM2 encryption (used only to wrap the 16-byte SM4 content keys of sealed fields, docs/wire.md §12) is
Tongsuo's `EVP_PKEY_encrypt`/`EVP_PKEY_decrypt` with SM3 as the KDF and C3 digest: ciphertexts are the
DER ``SEQUENCE { INTEGER x1, INTEGER y1, OCTET STRING C3, OCTET STRING C2 }`` of GB/T 35276 §7.2 (the
C1‖C3‖C2 order), which GmSSL reads and writes too.

Nothing outside `gateway.keys` imports this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cached_property, lru_cache
from typing import Any, Final

from cryptography.hazmat.primitives import hashes as pyca_hashes
from tongsuopy.backends.tongsuo.backend import backend as _tongsuo
from tongsuopy.crypto import serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.asymciphers.utils import encode_dss_signature
from tongsuopy.crypto.exceptions import UnsupportedAlgorithm

__all__ = [
    "CURVE_OID",
    "DEFAULT_SIGNER_ID",
    "RECOMMENDED_CURVE",
    "SM3_IMPLEMENTATIONS",
    "CurveDomain",
    "SM2SigningKey",
    "SM2VerifyingKey",
    "der_from_raw",
    "digest_to_sign",
    "is_sm2_spki",
    "sm3",
    "z_value",
]

#: GB/T 35276 §7: the signer id every party uses unless it has agreed on another.
DEFAULT_SIGNER_ID: Final = b"1234567812345678"
#: The SM2 recommended curve, 1.2.156.10197.1.301, DER-encoded as it appears inside an SPKI.
CURVE_OID: Final = bytes.fromhex("06082a811ccf5501822d")
#: Longest DER signature: two 33-byte INTEGERs in a SEQUENCE.
_MAX_SIGNATURE: Final = 72


class CurveDomain:
    """The curve parameters that enter Z (a, b, G); the recommended curve unless a test names another."""

    __slots__ = ("a", "b", "gx", "gy")

    def __init__(self, a: int, b: int, gx: int, gy: int) -> None:
        self.a, self.b, self.gx, self.gy = a, b, gx, gy


#: GB/T 32918.5 recommended curve parameters (sm2p256v1).
RECOMMENDED_CURVE: Final = CurveDomain(
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)


def _pyca_sm3(data: bytes) -> bytes:
    h = pyca_hashes.Hash(pyca_hashes.SM3())
    h.update(data)
    return h.finalize()


def _hashlib_sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def _hashlib_has_sm3() -> bool:
    try:
        hashlib.new("sm3")
    except ValueError:  # an OpenSSL without SM3 (1.1.1 built without it, FIPS providers)
        return False
    return True


#: Every SM3 this process can use, by source; tests hold each to GB/T 32905's examples.
SM3_IMPLEMENTATIONS: Final[dict[str, Callable[[bytes], bytes]]] = {
    **({"hashlib": _hashlib_sm3} if _hashlib_has_sm3() else {}),
    "cryptography": _pyca_sm3,
}
_sm3: Final = next(iter(SM3_IMPLEMENTATIONS.values()))


def sm3(data: bytes) -> bytes:
    """SM3 (GB/T 32905) of `data`: hashlib's when it has SM3 (no object per call), else pyca's."""
    return _sm3(data)


@lru_cache(maxsize=4096)
def z_value(
    x: int, y: int, signer_id: bytes = DEFAULT_SIGNER_ID, curve: CurveDomain = RECOMMENDED_CURVE
) -> bytes:
    """Z_A of the public key (x, y) for `signer_id` (GB/T 32918.2 §5.5); ENTL is the id's length in bits.

    Memoised: a key loaded again (a trust file re-read, a verifier key parsed per note) costs a look-up.
    """
    bits = len(signer_id) * 8
    if bits > 0xFFFF:
        raise ValueError("SM2 signer id longer than 8191 bytes")
    fields = (curve.a, curve.b, curve.gx, curve.gy, x, y)
    return sm3(bits.to_bytes(2, "big") + signer_id + b"".join(v.to_bytes(32, "big") for v in fields))


def digest_to_sign(z: bytes, message: bytes) -> bytes:
    """e = SM3(Z_A ‖ M), the value the signing equation takes (steps A1–A2)."""
    return sm3(z + message)


def is_sm2_spki(der: bytes) -> bool:
    """True when a DER SubjectPublicKeyInfo or PKCS#8 names the SM2 curve."""
    return CURVE_OID in der[:40]


class SM2VerifyingKey:
    """An SM2 public key with the signer id its signatures are made under."""

    def __init__(self, key: Any, signer_id: bytes = DEFAULT_SIGNER_ID) -> None:
        self._key = key
        numbers = key.public_numbers()
        self.signer_id = signer_id
        self._z = z_value(numbers.x, numbers.y, signer_id)

    @classmethod
    def from_spki(cls, der: bytes, signer_id: bytes = DEFAULT_SIGNER_ID) -> SM2VerifyingKey:
        """Load a DER SPKI on the SM2 curve; ValueError for anything else."""
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ValueError(f"not an SM2 public key: {exc}") from None
        if not isinstance(getattr(key, "curve", None), ec.SM2):
            raise ValueError("public key is not on the SM2 curve")  # noqa: TRY004 (bad input, not a bug)
        return cls(key, signer_id)

    def with_signer_id(self, signer_id: bytes) -> SM2VerifyingKey:
        """The same key (the loaded Tongsuo key, not a re-parse) verifying under `signer_id`."""
        return SM2VerifyingKey(self._key, signer_id)

    @cached_property
    def spki_der(self) -> bytes:
        """DER SubjectPublicKeyInfo (id-ecPublicKey, SM2 curve)."""
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        return bytes(self._key.public_bytes(serialization.Encoding.DER, spki))

    def to_pem(self) -> bytes:
        """SPKI PEM."""
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        return bytes(self._key.public_bytes(serialization.Encoding.PEM, spki))

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when `signature` (DER r, s) is valid over `message` under this key and signer id."""
        if not 8 <= len(signature) <= _MAX_SIGNATURE:
            return False
        return _verify_digest(self._key, signature, digest_to_sign(self._z, message))

    def digest(self, message: bytes) -> bytes:
        """e = SM3(Z_A ‖ message) under this key and signer id: what a signing device signs (gateway.hsm)."""
        return digest_to_sign(self._z, message)

    def encrypt(self, plaintext: bytes) -> bytes:
        """SM2 encryption of `plaintext` to this key (GB/T 32918.4, SM3); DER C1‖C3‖C2 (GB/T 35276)."""
        return _encrypt(self._key, plaintext)


class SM2SigningKey:
    """An SM2 private key; signs under `signer_id` with a fresh nonce from Tongsuo's DRBG each time."""

    def __init__(
        self, key: Any, signer_id: bytes = DEFAULT_SIGNER_ID, verifying_key: SM2VerifyingKey | None = None
    ) -> None:
        self._key = key
        if verifying_key is None:
            verifying_key = SM2VerifyingKey(key.public_key(), signer_id)
        self.verifying_key = verifying_key

    @classmethod
    def generate(cls) -> SM2SigningKey:
        """A fresh key pair on the recommended curve."""
        return cls(ec.generate_private_key(ec.SM2()))

    @classmethod
    def from_pem(cls, pem: bytes) -> SM2SigningKey:
        """Load an unencrypted PKCS#8 PEM SM2 private key; ValueError for anything else."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ValueError(f"not an SM2 private key: {exc}") from None
        if not isinstance(getattr(key, "curve", None), ec.SM2):
            raise ValueError("private key is not on the SM2 curve")  # noqa: TRY004 (bad input, not a bug)
        return cls(key)

    @classmethod
    def from_scalar(cls, d: int) -> SM2SigningKey:
        """The key with private scalar `d` (test vectors; key import)."""
        return cls(ec.derive_private_key(d, ec.SM2()))

    def with_signer_id(self, signer_id: bytes) -> SM2SigningKey:
        """The same key signing under `signer_id` (its public half reused, not derived again)."""
        return SM2SigningKey(self._key, signer_id, self.verifying_key.with_signer_id(signer_id))

    def decrypt(self, ciphertext: bytes) -> bytes:
        """The plaintext of a DER SM2 ciphertext made for this key; ValueError when it does not open."""
        return _decrypt(self._key, ciphertext)

    def to_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM."""
        return bytes(
            self._key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    def sign(self, message: bytes) -> bytes:
        """DER signature over `message` (Z_A and e computed here, the signing equation in Tongsuo)."""
        return _sign_digest(self._key, digest_to_sign(self.verifying_key._z, message))


def der_from_raw(raw: bytes) -> bytes:
    """A 64-byte r‖s signature (as some SM2 libraries emit) in the DER form jgx carries."""
    if len(raw) != 64:
        raise ValueError("raw SM2 signature must be 64 bytes (r‖s)")
    return bytes(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")))


# Tongsuo's EVP_PKEY_sign/verify on an SM2 key take e as is. tongsuopy exposes them only through its
# cffi binding (`backend._lib`); its pinned version (see pyproject.toml) is what these calls are written for.
_lib, _ffi = _tongsuo._lib, _tongsuo._ffi


def _sign_digest(key: Any, e: bytes) -> bytes:
    ctx = _ffi.gc(_lib.EVP_PKEY_CTX_new(key._evp_pkey, _ffi.NULL), _lib.EVP_PKEY_CTX_free)
    size = _ffi.new("size_t *", _MAX_SIGNATURE)
    buf = _ffi.new("unsigned char[]", _MAX_SIGNATURE)
    if _lib.EVP_PKEY_sign_init(ctx) != 1 or _lib.EVP_PKEY_sign(ctx, buf, size, e, len(e)) != 1:
        _tongsuo._consume_errors()
        raise RuntimeError("Tongsuo SM2 signing failed")
    return bytes(_ffi.buffer(buf)[: size[0]])


def _verify_digest(key: Any, signature: bytes, e: bytes) -> bool:
    ctx = _ffi.gc(_lib.EVP_PKEY_CTX_new(key._evp_pkey, _ffi.NULL), _lib.EVP_PKEY_CTX_free)
    ok = _lib.EVP_PKEY_verify_init(ctx) == 1 and (
        _lib.EVP_PKEY_verify(ctx, signature, len(signature), e, len(e)) == 1
    )
    _tongsuo._consume_errors()  # a failed verify leaves errors on Tongsuo's thread-local queue
    return bool(ok)


#: SM2 ciphertexts jgx carries wrap 16-byte keys: 2 x 33-byte INTEGERs + 32-byte C3 + C2 + DER framing.
_MAX_CIPHERTEXT: Final = 1024


def _encrypt(key: Any, plaintext: bytes) -> bytes:
    ctx = _ffi.gc(_lib.EVP_PKEY_CTX_new(key._evp_pkey, _ffi.NULL), _lib.EVP_PKEY_CTX_free)
    size = _ffi.new("size_t *", 0)
    if _lib.EVP_PKEY_encrypt_init(ctx) != 1 or (
        _lib.EVP_PKEY_encrypt(ctx, _ffi.NULL, size, plaintext, len(plaintext)) != 1
    ):
        _tongsuo._consume_errors()
        raise RuntimeError("Tongsuo SM2 encryption failed")
    buf = _ffi.new("unsigned char[]", size[0])
    if _lib.EVP_PKEY_encrypt(ctx, buf, size, plaintext, len(plaintext)) != 1:
        _tongsuo._consume_errors()
        raise RuntimeError("Tongsuo SM2 encryption failed")
    return bytes(_ffi.buffer(buf)[: size[0]])


def _decrypt(key: Any, ciphertext: bytes) -> bytes:
    if not 0 < len(ciphertext) <= _MAX_CIPHERTEXT:
        raise ValueError("SM2 ciphertext size out of range")
    ctx = _ffi.gc(_lib.EVP_PKEY_CTX_new(key._evp_pkey, _ffi.NULL), _lib.EVP_PKEY_CTX_free)
    size = _ffi.new("size_t *", 0)
    # Tongsuo checks C3 = SM3(x2 ‖ M ‖ y2) and the point C1 before it returns any plaintext.
    ok = _lib.EVP_PKEY_decrypt_init(ctx) == 1 and (
        _lib.EVP_PKEY_decrypt(ctx, _ffi.NULL, size, ciphertext, len(ciphertext)) == 1
    )
    if ok:
        buf = _ffi.new("unsigned char[]", size[0])
        ok = _lib.EVP_PKEY_decrypt(ctx, buf, size, ciphertext, len(ciphertext)) == 1
    _tongsuo._consume_errors()
    if not ok:
        raise ValueError("SM2 ciphertext does not open with this key (altered, or made for another key)")
    return bytes(_ffi.buffer(buf)[: size[0]])
