"""Signed checkpoints of the exchange log: C2SP ``signed-note`` and ``tlog-checkpoint``.

No I/O here. A checkpoint is the note text ``origin \\n size \\n base64(root) \\n`` signed by the hub; a
verifier is configured with the hub's verifier key ``name+hex(key id)+base64(type || public key)`` (type
0x01 Ed25519, 0x02 ECDSA P-256, 0xff ``jgx-sm2-sm3`` for 国密 SM2) and

- ignores signatures of keys it does not know (key rotation, witness cosignatures),
- rejects the note if a known key's signature fails, or if no known key's signature verifies,
- checks the origin line against the log it expects (sigstore's checkpoint code never did).

:class:`CheckpointLog` is the hub's side of "a log MUST NOT sign any checkpoint which is inconsistent
with any checkpoint it previously signed": the next checkpoint is signed only after a consistency proof
from the last one verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from gateway import keys, merkle
from gateway.errors import ReasonCode, VerificationError

__all__ = [
    "ED25519_TYPE",
    "SM2_NOTE_TYPE",
    "Checkpoint",
    "CheckpointError",
    "CheckpointLog",
    "Note",
    "NoteSignature",
    "NoteVerifier",
    "check_consistent",
    "cosign_note",
    "note_key_id",
    "open_note",
    "parse_note",
    "sign_checkpoint",
    "sign_note",
    "verifier_key",
    "verify_checkpoint",
]

ED25519_TYPE: Final = 0x01
"""The signed-note signature type byte of Ed25519."""
MAX_SIGNATURES: Final = 100
"""More signature lines than this make a note malformed (the spec asks to accept at least 16)."""
_SIG_PREFIX: Final = "\u2014 "  # em dash, space

PrivateKeyLike = Ed25519PrivateKey | keys.PrivateKey | bytes
"""A `gateway.keys` key of any algorithm, a ``cryptography`` Ed25519 key, or a raw 32-byte Ed25519 seed."""
PublicKeyLike = Ed25519PublicKey | keys.PublicKey | bytes
"""A `gateway.keys` key of any algorithm, a ``cryptography`` Ed25519 key, or raw 32 Ed25519 bytes."""


class CheckpointError(VerificationError):
    """A note or checkpoint is refused; ``kind`` names the rule it broke."""

    def __init__(self, kind: str, detail: str, reason: ReasonCode = ReasonCode.MALFORMED) -> None:
        self.kind = kind
        super().__init__(reason, f"[{kind}] {detail}")


# The signed-note signature type of each algorithm (c2sp.org/signed-note §Signature types) and how its
# public key is written after the type: Ed25519 as its 32 raw bytes, the others as DER SPKI. SM2 has no
# assigned byte, so it takes 0xff followed by a jgx identifier, as the spec recommends.
SM2_NOTE_TYPE: Final = b"\xffjgx-sm2-sm3"
"""The signed-note signature type of SM2-with-SM3: 0xff, then the ASCII identifier ``jgx-sm2-sm3``."""
_NOTE_TYPES: Final = {
    keys.Algorithm.ED25519: bytes([ED25519_TYPE]),
    keys.Algorithm.ECDSA_P256_SHA256: b"\x02",
    keys.Algorithm.SM2_SM3: SM2_NOTE_TYPE,
}


def _private(key: PrivateKeyLike) -> keys.PrivateKey:
    if isinstance(key, keys.PrivateKey):
        return key
    if isinstance(key, Ed25519PrivateKey):
        return keys.Ed25519PrivateKey(key)
    if len(key) != 32:
        raise CheckpointError(
            "bad_key", f"Ed25519 私钥种子应为 32 字节 / an Ed25519 seed is 32 bytes, not {len(key)}"
        )
    return keys.Ed25519PrivateKey(Ed25519PrivateKey.from_private_bytes(key))


def _public(key: PublicKeyLike) -> keys.PublicKey:
    if isinstance(key, keys.PublicKey):
        return key
    if isinstance(key, Ed25519PublicKey):
        return keys.Ed25519PublicKey(key)
    if len(key) != 32:
        raise CheckpointError(
            "bad_key", f"Ed25519 公钥应为 32 字节 / an Ed25519 public key is 32 bytes, not {len(key)}"
        )
    return keys.Ed25519PublicKey(Ed25519PublicKey.from_public_bytes(bytes(key)))


def _typed_material(key: keys.PublicKey) -> bytes:
    """The signature type followed by the key as the note format writes it."""
    if key.algorithm is keys.Algorithm.ED25519:
        raw = load_der_public_key(key.spki_der).public_bytes(Encoding.Raw, PublicFormat.Raw)
        return _NOTE_TYPES[key.algorithm] + raw
    return _NOTE_TYPES[key.algorithm] + key.spki_der


def _from_typed_material(typed: bytes) -> keys.PublicKey:
    """The public key of a verifier key's base64 part; the type must fit the key's algorithm."""
    for algorithm, note_type in _NOTE_TYPES.items():
        if not typed.startswith(note_type) or (algorithm is keys.Algorithm.ED25519 and len(typed) != 33):
            continue
        material = typed[len(note_type) :]
        try:
            key = _public(material) if algorithm is keys.Algorithm.ED25519 else keys.load_public_key(material)
        except VerificationError as exc:
            raise CheckpointError("bad_verifier_key", f"校验密钥无法读取 / unreadable key: {exc}") from None
        if key.algorithm is algorithm:
            return key
    raise CheckpointError(
        "bad_verifier_key",
        "校验密钥类型未知或与密钥不符 / verifier key type is unknown or does not fit the key",
    )


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise CheckpointError("bad_base64", f"{what} 不是有效的 base64 / {what} is not valid base64") from exc


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise CheckpointError(
            "bad_name",
            f"密钥名称须非空且不含空白或加号 / key name must be non-empty, without spaces or '+': {name!r}",
        )


# -- keys --------------------------------------------------------------------------------------------


def note_key_id(name: str, public_key: PublicKeyLike) -> bytes:
    """The 4-byte key id: ``SHA-256(name || 0x0A || type || key)[:4]``; for ECDSA, ``SHA-256(SPKI)[:4]``."""
    key = _public(public_key)
    if key.algorithm is keys.Algorithm.ECDSA_P256_SHA256:  # c2sp.org/signed-note, type 0x02
        return hashlib.sha256(key.spki_der).digest()[:4]
    return hashlib.sha256(name.encode() + b"\n" + _typed_material(key)).digest()[:4]


def verifier_key(name: str, public_key: PublicKeyLike) -> str:
    """The verifier key string ``name+hex(key id)+base64(type || public key)``."""
    _check_name(name)
    key = _public(public_key)
    encoded = base64.b64encode(_typed_material(key)).decode()
    return f"{name}+{note_key_id(name, key).hex()}+{encoded}"


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted note key: its name, 4-byte id and public key (Ed25519, ECDSA P-256 or SM2)."""

    name: str
    key_id: bytes
    public_key: keys.PublicKey

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """Parse ``name+hex(id)+base64(type || key)``; the id must match the name and key."""
        name, sep1, rest = vkey.partition("+")
        hex_id, sep2, material = rest.partition("+")
        if not (sep1 and sep2) or len(hex_id) != 8:
            raise CheckpointError("bad_verifier_key", f"校验密钥格式错误 / malformed verifier key {vkey!r}")
        _check_name(name)
        try:
            key_id = bytes.fromhex(hex_id)
        except ValueError as exc:
            raise CheckpointError(
                "bad_verifier_key", f"密钥标识不是十六进制 / key id is not hex: {hex_id!r}"
            ) from exc
        key = _from_typed_material(_b64decode(material, "verifier key"))
        if note_key_id(name, key) != key_id:
            raise CheckpointError("bad_verifier_key", f"密钥标识与密钥不符 / key id does not fit {vkey!r}")
        return cls(name, key_id, key)

    @classmethod
    def from_public_key(cls, name: str, public_key: PublicKeyLike) -> NoteVerifier:
        """A verifier for ``name`` and a public key of any supported algorithm."""
        _check_name(name)
        key = _public(public_key)
        return cls(name, note_key_id(name, key), key)

    def to_string(self) -> str:
        """The verifier key string."""
        return verifier_key(self.name, self.public_key)


# -- notes --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key id, signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """The signature line, newline included."""
        return f"{_SIG_PREFIX}{self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed signed note: its text (final newline included) and its signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        """The note as it travels: text, blank line, signature lines."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)


def _check_text(text: str) -> None:
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise CheckpointError("malformed_note", "签名笔记含控制字符 / note contains a control character")


def parse_note(note_text: str | bytes) -> Note:
    """Split a signed note into its text and signature lines, checking the signed-note format."""
    if isinstance(note_text, bytes):
        try:
            note_text = note_text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckpointError("malformed_note", "签名笔记不是 UTF-8 / note is not UTF-8") from exc
    _check_text(note_text)
    split = note_text.rfind("\n\n")
    if split < 0 or not note_text.endswith("\n"):
        raise CheckpointError("malformed_note", "缺少签名块 / note lacks a blank line followed by signatures")
    text, block = note_text[: split + 1], note_text[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise CheckpointError(
            "malformed_note", "缺少签名行 / note has no signature line", ReasonCode.SIGNATURE_MISSING
        )
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError("malformed_note", f"签名行过多 / more than {MAX_SIGNATURES} signature lines")
    signatures = []
    for line in lines:
        name, space, encoded = line.removeprefix(_SIG_PREFIX).partition(" ")
        if not line.startswith(_SIG_PREFIX) or not space:
            raise CheckpointError("malformed_note", f"签名行格式错误 / malformed signature line {line!r}")
        _check_name(name)
        blob = _b64decode(encoded, "signature")
        if len(blob) < 5:
            raise CheckpointError("malformed_note", "签名过短 / signature shorter than key id + 1 byte")
        signatures.append(NoteSignature(name, blob[:4], blob[4:]))
    return Note(text, tuple(signatures))


def sign_note(body: str, name: str, private_key: PrivateKeyLike) -> str:
    """Sign ``body`` (ending in a newline) with a key under ``name``; return the signed note."""
    _check_name(name)
    _check_text(body)
    if not body.endswith("\n"):
        raise CheckpointError("malformed_note", "笔记正文须以换行结尾 / note text must end with a newline")
    key = _private(private_key)
    signature = NoteSignature(name, note_key_id(name, key.public_key), key.sign(body.encode()))
    return Note(body, (signature,)).render()


def cosign_note(note_text: str, name: str, private_key: PrivateKeyLike) -> str:
    """Add one more signature (a rotation's new key, a witness) to a signed note."""
    note = parse_note(note_text)
    extra = parse_note(sign_note(note.text, name, private_key)).signatures
    return Note(note.text, note.signatures + extra).render()


def open_note(note_text: str | bytes, verifiers: Iterable[NoteVerifier | str]) -> Note:
    """Verify a note against trusted keys; return it with only the signatures of known keys.

    Unknown keys are ignored; a known key whose signature fails, or the same known key twice, rejects
    the note; at least one known key must verify.
    """
    parsed = (NoteVerifier.parse(v) if isinstance(v, str) else v for v in verifiers)
    known = {(v.name, v.key_id): v for v in parsed}
    note = parse_note(note_text)
    message = note.text.encode()
    verified: list[NoteSignature] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if any((done.name, done.key_id) == (sig.name, sig.key_id) for done in verified):
            raise CheckpointError("malformed_note", f"同一密钥重复签名 / key {sig.name} signed twice")
        if not verifier.public_key.verify(sig.signature, message):
            raise CheckpointError(
                "signature_invalid",
                f"已知密钥的签名验证失败 / signature of known key {sig.name}+{sig.key_id.hex()} fails",
                ReasonCode.SIGNATURE_INVALID,
            )
        verified.append(sig)
    if not verified:
        raise CheckpointError(
            "no_known_signature",
            "没有受信任密钥的有效签名 / no signature from a trusted key",
            ReasonCode.KEY_UNKNOWN,
        )
    return Note(note.text, tuple(verified))


# -- checkpoints --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The log's tree head: origin (log identity), tree size, RFC 6962 root hash; rarely, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError(
                "malformed_checkpoint", "来源须为非空单行 / origin must be one non-empty line"
            )
        if self.size < 0:
            raise CheckpointError("malformed_checkpoint", f"树大小为负 / tree size {self.size} is negative")
        if len(self.root_hash) != merkle.HASH_SIZE:
            raise CheckpointError("malformed_checkpoint", "根哈希应为 32 字节 / root hash must be 32 bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointError("malformed_checkpoint", "扩展行须非空 / extension lines must be non-empty")

    def body(self) -> str:
        """The note text: origin, decimal size, base64 root, extension lines, each ending in a newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse a checkpoint's note text (tlog-checkpoint: three or more non-empty lines)."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise CheckpointError(
                "malformed_checkpoint", "检查点须为至少三行非空文本 / checkpoint needs 3+ non-empty lines"
            )
        origin, size_text, root_text, *extensions = lines[:-1]
        leading_zero = size_text != "0" and size_text.startswith("0")
        if not size_text.isascii() or not size_text.isdigit() or leading_zero:
            raise CheckpointError(
                "malformed_checkpoint", f"树大小须为无前导零的十进制数 / bad tree size line {size_text!r}"
            )
        return cls(origin, int(size_text), _b64decode(root_text, "root hash"), tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, name: str, private_key: PrivateKeyLike) -> str:
    """The signed note of a checkpoint."""
    return sign_note(checkpoint.body(), name, private_key)


def verify_checkpoint(
    note_text: str | bytes, origin: str, verifier_keys: Iterable[NoteVerifier | str]
) -> Checkpoint:
    """Verify a signed checkpoint of the log ``origin`` with the trusted keys; return its contents."""
    # (1) signatures first: the text means nothing until a trusted key vouches for it
    note = open_note(note_text, verifier_keys)
    # (2) only now parse the body, and (3) it must be the log we asked about
    checkpoint = Checkpoint.from_body(note.text)
    if checkpoint.origin != origin:
        raise CheckpointError(
            "origin_mismatch", f"检查点来源不符 / checkpoint origin {checkpoint.origin!r} is not {origin!r}"
        )
    return checkpoint


def check_consistent(
    previous: Checkpoint | None,
    new: Checkpoint,
    proof: Sequence[bytes],
    *,
    hasher: merkle.TreeHash,
) -> None:
    """Raise unless ``new`` extends ``previous``: same log, not smaller, consistency proof verifies.

    ``hasher`` is the log's hash profile (for a jgx log: the one its origin declares).
    """
    if new.size == 0 and new.root_hash != hasher.empty_root:
        raise CheckpointError("malformed_checkpoint", "空树的根哈希错误 / wrong root hash for the empty tree")
    if previous is None:
        return
    if previous.origin != new.origin:
        raise CheckpointError("origin_mismatch", f"来源不同 / origin {new.origin!r} != {previous.origin!r}")
    if previous.size == 0 and new.size > 0:  # every tree extends the empty one; there is nothing to prove
        if proof:
            raise merkle.ProofError("non_empty_proof", "自空树起证明应为空 / proof from size 0 must be empty")
        return
    merkle.verify_consistency(
        previous.size, new.size, proof, previous.root_hash, new.root_hash, hasher=hasher
    )


@dataclass(frozen=True, slots=True)
class CheckpointLog:
    """The last checkpoint a log signed; it moves on only to a checkpoint proven consistent with it."""

    origin: str
    hasher: merkle.TreeHash  # the log's hash profile
    latest: Checkpoint | None = None

    def advance(self, new: Checkpoint, proof: Sequence[bytes]) -> CheckpointLog:
        """The state after ``new``, if ``proof`` shows ``new`` extends the latest checkpoint."""
        if new.origin != self.origin:
            raise CheckpointError("origin_mismatch", f"来源不同 / origin {new.origin!r} != {self.origin!r}")
        check_consistent(self.latest, new, proof, hasher=self.hasher)
        return CheckpointLog(self.origin, self.hasher, new)

    def sign_next(
        self, new: Checkpoint, proof: Sequence[bytes], name: str, private_key: PrivateKeyLike
    ) -> tuple[CheckpointLog, str]:
        """Check ``new`` against the latest checkpoint, then sign it: the next state and the signed note."""
        state = self.advance(new, proof)
        return state, sign_checkpoint(new, name, private_key)
