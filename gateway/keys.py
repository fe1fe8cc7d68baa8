"""Signing keys behind one interface: Ed25519, ECDSA P-256/SHA-256 and 国密 SM2-with-SM3.

A key id is the lowercase hex SHA-256 of the public key's DER SubjectPublicKeyInfo (RFC 6962 §3.2 uses
the same derivation for log ids). It is only a lookup hint: whoever verifies takes the algorithm from
the trust configuration's key record, never from a message, so an attacker cannot choose it.

Each algorithm is a `PublicKey`/`PrivateKey` pair; SM2 (GB/T 32918, Tongsuo underneath) lives in
`gateway.sm2` and is reached only from here, so nothing above this module knows which algorithm a key uses.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
from abc import ABC, abstractmethod
from typing import ClassVar

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from gateway import sm2
from gateway.errors import JgxError, ReasonCode, VerificationError

__all__ = [
    "Algorithm",
    "PrivateKey",
    "PublicKey",
    "SigningUnavailable",
    "generate_key",
    "key_id",
    "load_private_key",
    "load_public_key",
]


class Algorithm(enum.StrEnum):
    """Signature algorithms a trust configuration can name for a key."""

    ED25519 = "ed25519"
    ECDSA_P256_SHA256 = "ecdsa-p256-sha256"
    SM2_SM3 = "sm2-sm3"  # 国密 SM2 signature over SM3 (GB/T 32918.2), DER-encoded (GB/T 35276)


def key_id(spki_der: bytes) -> str:
    """The key id: lowercase hex SHA-256 of the DER SubjectPublicKeyInfo."""
    return hashlib.sha256(spki_der).hexdigest()


class SigningUnavailable(JgxError):
    """A private key could not sign just now (a token removed, its session closed, the module failing):
    a fault of where this node keeps its key, never of what it signs. Raised by `PrivateKey.sign`; the
    hub answers UNAVAILABLE (retry later) and keeps nothing of the envelope (`gateway.storage.refused`)."""


class PublicKey(ABC):
    """A verification key of one algorithm."""

    algorithm: ClassVar[Algorithm]

    def __init__(self, spki_der: bytes) -> None:
        self.spki_der = spki_der
        self.key_id = key_id(spki_der)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when `signature` is this key's valid signature over `data`; never raises for bad input."""
        try:
            return self._verify(signature, data)
        except (InvalidSignature, ValueError):
            return False

    @abstractmethod
    def fits(self, signature: bytes) -> bool:
        """True when `signature` has the shape of this algorithm's signatures (used to name a mismatch)."""

    def with_signer_id(self, signer_id: bytes) -> PublicKey:  # noqa: ARG002 (the SM2 override reads it)
        """This key verifying under another signer id (SM2's ID_A); other algorithms have none."""
        raise VerificationError(ReasonCode.ALGORITHM_MISMATCH, f"{self.algorithm.value} has no signer id")

    def wrap_key(self, content_key: bytes) -> bytes:  # noqa: ARG002 (the SM2 override reads it)
        """`content_key` encrypted to this key (sealed fields, wire.md §12); only SM2 keys can."""
        raise VerificationError(
            ReasonCode.ALGORITHM_MISMATCH, f"{self.algorithm.value} keys cannot receive sealed fields"
        )

    @abstractmethod
    def _verify(self, signature: bytes, data: bytes) -> bool: ...

    def to_pem(self) -> bytes:
        """The public key as SPKI PEM."""
        der = self.spki_der
        if sm2.is_sm2_spki(der):
            return sm2.SM2VerifyingKey.from_spki(der).to_pem()
        return serialization.load_der_public_key(der).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.algorithm.value} {self.key_id[:16]}…>"


class PrivateKey(ABC):
    """A signing key of one algorithm; `public_key` is its verification key."""

    algorithm: ClassVar[Algorithm]
    public_key: PublicKey

    @property
    def key_id(self) -> str:
        """The key id of the public half."""
        return self.public_key.key_id

    @abstractmethod
    def sign(self, data: bytes) -> bytes:
        """Sign `data` (the PAE bytes) and return the raw signature."""

    def with_signer_id(self, signer_id: bytes) -> PrivateKey:  # noqa: ARG002 (the SM2 override reads it)
        """This key signing under another signer id (SM2's ID_A); other algorithms have none."""
        raise VerificationError(ReasonCode.ALGORITHM_MISMATCH, f"{self.algorithm.value} has no signer id")

    def unwrap_key(self, wrapped: bytes) -> bytes:  # noqa: ARG002 (the SM2 override reads it)
        """The content key `wrapped` for this key's public half; only SM2 keys can."""
        raise VerificationError(
            ReasonCode.ALGORITHM_MISMATCH, f"{self.algorithm.value} keys cannot open sealed fields"
        )

    @abstractmethod
    def to_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.algorithm.value} {self.key_id[:16]}…>"


def _is_der_pair(signature: bytes) -> bool:
    """True when `signature` is a DER SEQUENCE { INTEGER r, INTEGER s } (ECDSA and SM2 alike)."""
    try:
        decode_dss_signature(signature)
    except ValueError:
        return False
    return True


def _spki(key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _pkcs8(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class Ed25519PublicKey(PublicKey):
    """Ed25519 (RFC 8032) verification key."""

    algorithm = Algorithm.ED25519

    def __init__(self, key: ed25519.Ed25519PublicKey) -> None:
        super().__init__(_spki(key))
        self._key = key

    def fits(self, signature: bytes) -> bool:
        """Ed25519 signatures are exactly 64 bytes."""
        return len(signature) == 64

    def _verify(self, signature: bytes, data: bytes) -> bool:
        self._key.verify(signature, data)
        return True


class Ed25519PrivateKey(PrivateKey):
    """Ed25519 signing key."""

    algorithm = Algorithm.ED25519

    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key = Ed25519PublicKey(key.public_key())

    def sign(self, data: bytes) -> bytes:
        """Sign with Ed25519."""
        return self._key.sign(data)

    def to_pem(self) -> bytes:
        """PKCS#8 PEM."""
        return _pkcs8(self._key)


class P256PublicKey(PublicKey):
    """ECDSA on NIST P-256 with SHA-256; signatures are DER-encoded (r, s)."""

    algorithm = Algorithm.ECDSA_P256_SHA256

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        if not isinstance(key.curve, ec.SECP256R1):
            raise VerificationError(ReasonCode.ALGORITHM_MISMATCH, f"curve {key.curve.name} is not P-256")
        super().__init__(_spki(key))
        self._key = key

    def fits(self, signature: bytes) -> bool:
        """A DER SEQUENCE of two INTEGERs."""
        return _is_der_pair(signature)

    def _verify(self, signature: bytes, data: bytes) -> bool:
        self._key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        return True


class P256PrivateKey(PrivateKey):
    """ECDSA P-256/SHA-256 signing key."""

    algorithm = Algorithm.ECDSA_P256_SHA256

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self.public_key = P256PublicKey(key.public_key())

    def sign(self, data: bytes) -> bytes:
        """Sign with ECDSA P-256/SHA-256 (DER signature), nonces per RFC 6979 (no RNG at signing time)."""
        return self._key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))

    def to_pem(self) -> bytes:
        """PKCS#8 PEM."""
        return _pkcs8(self._key)


class SM2PublicKey(PublicKey):
    """SM2 verification key with SM3 and the signer id Z_A is computed for (default 1234567812345678)."""

    algorithm = Algorithm.SM2_SM3

    def __init__(self, key: sm2.SM2VerifyingKey) -> None:
        super().__init__(key.spki_der)
        self._key = key

    def fits(self, signature: bytes) -> bool:
        """A DER SEQUENCE of two INTEGERs (GB/T 35276), like ECDSA's."""
        return _is_der_pair(signature)

    def _verify(self, signature: bytes, data: bytes) -> bool:
        return self._key.verify(signature, data)

    def with_signer_id(self, signer_id: bytes) -> PublicKey:
        """The same key with Z_A computed for `signer_id`."""
        return SM2PublicKey(self._key.with_signer_id(signer_id))

    def signing_digest(self, data: bytes) -> bytes:
        """e = SM3(Z_A ‖ data): what a cryptographic module's raw SM2 mechanism signs (gateway.hsm)."""
        return self._key.digest(data)

    def wrap_key(self, content_key: bytes) -> bytes:
        """SM2 encryption (GB/T 32918.4) of `content_key`: DER C1‖C3‖C2 (GB/T 35276)."""
        return self._key.encrypt(content_key)

    def to_pem(self) -> bytes:
        """SPKI PEM."""
        return self._key.to_pem()


class SM2PrivateKey(PrivateKey):
    """SM2 signing key; nonces come from Tongsuo's DRBG (GB/T 32918.2 draws k at random)."""

    algorithm = Algorithm.SM2_SM3

    def __init__(self, key: sm2.SM2SigningKey) -> None:
        self._key = key
        self.public_key = SM2PublicKey(key.verifying_key)

    def sign(self, data: bytes) -> bytes:
        """Sign with SM2 over SM3(Z_A ‖ data); DER signature."""
        return self._key.sign(data)

    def with_signer_id(self, signer_id: bytes) -> PrivateKey:
        """The same key signing with Z_A computed for `signer_id`."""
        return SM2PrivateKey(self._key.with_signer_id(signer_id))

    def unwrap_key(self, wrapped: bytes) -> bytes:
        """SM2 decryption of a wrapped content key; VerificationError when it does not open."""
        try:
            return self._key.decrypt(wrapped)
        except ValueError as exc:
            raise VerificationError(ReasonCode.MALFORMED, str(exc)) from None

    def to_pem(self) -> bytes:
        """PKCS#8 PEM."""
        return self._key.to_pem()


def generate_key(algorithm: Algorithm | str = Algorithm.ED25519) -> PrivateKey:
    """A fresh key pair of `algorithm`."""
    algorithm = Algorithm(algorithm)
    if algorithm is Algorithm.ED25519:
        return Ed25519PrivateKey(ed25519.Ed25519PrivateKey.generate())
    if algorithm is Algorithm.ECDSA_P256_SHA256:
        return P256PrivateKey(ec.generate_private_key(ec.SECP256R1()))
    return SM2PrivateKey(sm2.SM2SigningKey.generate())


def _wrap_private(key: object) -> PrivateKey:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519PrivateKey(key)
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return P256PrivateKey(key)
    raise VerificationError(
        ReasonCode.ALGORITHM_MISMATCH, f"unsupported private key type {type(key).__name__}"
    )


def _wrap_public(key: object) -> PublicKey:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return Ed25519PublicKey(key)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return P256PublicKey(key)
    raise VerificationError(
        ReasonCode.ALGORITHM_MISMATCH, f"unsupported public key type {type(key).__name__}"
    )


def load_private_key(pem: bytes) -> PrivateKey:
    """Load a PKCS#8 PEM private key (unencrypted)."""
    if _names_sm2_curve(pem):
        try:
            return SM2PrivateKey(sm2.SM2SigningKey.from_pem(pem))
        except ValueError as exc:
            raise VerificationError(ReasonCode.MALFORMED, f"not a PKCS#8 PEM private key: {exc}") from None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise VerificationError(ReasonCode.MALFORMED, f"not a PKCS#8 PEM private key: {exc}") from None
    return _wrap_private(key)


def load_public_key(data: bytes) -> PublicKey:
    """Load a public key from SPKI PEM or DER."""
    if _names_sm2_curve(data):
        try:
            return SM2PublicKey(sm2.SM2VerifyingKey.from_spki(_der(data)))
        except ValueError as exc:
            raise VerificationError(ReasonCode.MALFORMED, f"not an SPKI public key: {exc}") from None
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
        else:
            key = serialization.load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise VerificationError(ReasonCode.MALFORMED, f"not an SPKI public key: {exc}") from None
    return _wrap_public(key)


def _der(data: bytes) -> bytes:
    """DER bytes of a PEM or DER input (the first PEM block)."""
    if not data.lstrip().startswith(b"-----BEGIN"):
        return data
    body = b"".join(line for line in data.strip().splitlines() if not line.startswith(b"-----"))
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(ReasonCode.MALFORMED, "PEM body is not base64") from None


def _names_sm2_curve(data: bytes) -> bool:
    """True when a PEM or DER key names the SM2 curve (pyca cannot load those; Tongsuo can)."""
    try:
        return sm2.is_sm2_spki(_der(data))
    except VerificationError:
        return False
