"""Sealed fields: personal information encrypted for the recipient alone (SM4-GCM, key wrapped with SM2).

A record bound beyond the province may carry some of its personal fields (those SC-20 classes as
personal information, e.g. a party's identity number) *sealed*: the field's value is replaced by

    {"jgx:sealed": "sm4-gcm/sm2", "kid": <recipient key id>, "ek": b64(SM2(content key)),
     "iv": b64(12 bytes), "ct": b64(SM4-GCM ciphertext ‖ 16-byte tag)}

Every other field stays clear, so the hub still routes, validates and logs the record; only the
recipient's SM2 private key opens the value. One random 16-byte SM4 content key per record, one random IV
per field. The GCM additional data binds each ciphertext to the message header and to the field's JSON
pointer, so a sealed value moved to another message, recipient, standard or field no longer opens.
docs/wire.md §12 is the normative text; tests/vectors/sealed-sm4.json the vectors.

Pure: bytes and dicts in, dicts out; randomness comes from `os.urandom`. No I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator, Sequence
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gateway.errors import ReasonCode, VerificationError
from gateway.keys import PrivateKey, PublicKey

__all__ = [
    "SCHEME",
    "SEALED",
    "SealedValueError",
    "check_shape",
    "field_aad",
    "is_sealed",
    "message_aad",
    "opaque",
    "open_fields",
    "open_value",
    "seal_fields",
    "seal_value",
    "sealed_pointers",
]

#: The member that marks an object as a sealed value, and the one scheme defined so far.
SEALED: Final = "jgx:sealed"
SCHEME: Final = "sm4-gcm/sm2"
_MEMBERS: Final = frozenset({SEALED, "kid", "ek", "iv", "ct"})
_AAD_LABEL: Final = b"JGX-SEALED-V1"
_KEY_BYTES: Final = 16
_IV_BYTES: Final = 12
_TAG_BYTES: Final = 16


class SealedValueError(VerificationError):
    """A sealed value is malformed, made for another key, altered, moved, or read with the wrong AAD."""


def message_aad(sender: str, recipient: str, message_id: str, standard: str) -> bytes:
    """The message-header part of the additional data (wire.md §12.3)."""
    return _length_prefixed(_AAD_LABEL, (sender, recipient, message_id, standard))


def field_aad(aad: bytes, pointer: str) -> bytes:
    """The additional data of one field: the header part followed by the field's JSON pointer."""
    return _length_prefixed(aad, (pointer,))


def _length_prefixed(head: bytes, items: Sequence[str]) -> bytes:
    # Each item as SP ‖ decimal byte length ‖ SP ‖ UTF-8 bytes (as PAE does): no two headers collide.
    out = bytearray(head)
    for item in items:
        raw = item.encode()
        out += b" %d " % len(raw) + raw
    return bytes(out)


def is_sealed(value: Any) -> bool:
    """True when `value` is a sealed-value object (any scheme; `open_value` checks the rest)."""
    return isinstance(value, dict) and SEALED in value


def seal_value(
    value: Any, *, content_key: bytes, iv: bytes, wrapped_key: bytes, kid: str, aad: bytes
) -> dict[str, str]:
    """The sealed object of one JSON `value` under a given content key and IV (the deterministic core).

    `aad` is the field's additional data (`field_aad`). Callers other than the vectors use `seal_fields`,
    which draws the key and the IVs: an (key, IV) pair must never encrypt twice.
    """
    plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    encryptor = Cipher(algorithms.SM4(content_key), modes.GCM(iv)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ct = encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag
    return {SEALED: SCHEME, "kid": kid, "ek": _b64(wrapped_key), "iv": _b64(iv), "ct": _b64(ct)}


def seal_fields(
    record: dict[str, Any], pointers: Sequence[str], recipient_key: PublicKey, *, aad: bytes
) -> dict[str, Any]:
    """A copy of `record` whose fields at `pointers` are sealed for `recipient_key` (an SM2 key).

    `aad` is `message_aad(...)` of the message that will carry the record. A pointer that names no
    field, the whole record, or an already sealed value raises `SealedValueError` (MALFORMED); a key that
    cannot receive sealed fields raises VerificationError (ALGORITHM_MISMATCH).
    """
    content_key = os.urandom(_KEY_BYTES)
    wrapped = recipient_key.wrap_key(content_key)
    copy: dict[str, Any] = json.loads(json.dumps(record))
    for pointer in dict.fromkeys(pointers):
        container, key = _locate(copy, pointer)
        if is_sealed(container[key]):
            raise SealedValueError(ReasonCode.MALFORMED, f"{pointer} is already sealed")
        container[key] = seal_value(
            container[key],
            content_key=content_key,
            iv=os.urandom(_IV_BYTES),
            wrapped_key=wrapped,
            kid=recipient_key.key_id,
            aad=field_aad(aad, pointer),
        )
    return copy


def open_value(sealed: Any, private_key: PrivateKey, *, aad: bytes, content_key: bytes | None = None) -> Any:
    """The JSON value inside one sealed object; `aad` is the field's (`field_aad`).

    `content_key` skips unwrapping when the caller already holds the record's key.
    """
    kid, wrapped, iv, ct = _parts(sealed)
    if kid != private_key.key_id:
        raise SealedValueError(ReasonCode.KEY_UNKNOWN, f"sealed for key {kid[:16]}…, not this key")
    if content_key is None:
        try:
            content_key = private_key.unwrap_key(wrapped)
        except VerificationError as exc:
            raise SealedValueError(
                ReasonCode.MALFORMED, f"content key does not unwrap: {exc.detail}"
            ) from None
    if len(content_key) != _KEY_BYTES:
        raise SealedValueError(ReasonCode.MALFORMED, "wrapped content key is not 16 bytes")
    decryptor = Cipher(algorithms.SM4(content_key), modes.GCM(iv, ct[-_TAG_BYTES:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    try:
        plaintext = decryptor.update(ct[:-_TAG_BYTES]) + decryptor.finalize()
    except InvalidTag:
        raise SealedValueError(
            ReasonCode.MALFORMED, "sealed value fails its GCM tag: altered, moved, or read with other AAD"
        ) from None
    try:
        return json.loads(plaintext.decode())
    except (UnicodeDecodeError, ValueError):
        raise SealedValueError(ReasonCode.MALFORMED, "sealed plaintext is not UTF-8 JSON") from None


def open_fields(record: dict[str, Any], private_key: PrivateKey, *, aad: bytes) -> dict[str, Any]:
    """A copy of `record` with every sealed value opened with `private_key` (SealedValueError otherwise)."""
    copy: dict[str, Any] = json.loads(json.dumps(record))
    keys: dict[bytes, bytes] = {}  # one unwrap per wrapped key, not per field
    for pointer, container, key in list(_walk(copy, "")):
        sealed = container[key]
        _kid, wrapped, _iv, _ct = _parts(sealed)
        if wrapped not in keys:
            if sealed.get("kid") != private_key.key_id:
                raise SealedValueError(ReasonCode.KEY_UNKNOWN, f"{pointer}: sealed for another key")
            try:
                keys[wrapped] = private_key.unwrap_key(wrapped)
            except VerificationError as exc:
                raise SealedValueError(ReasonCode.MALFORMED, f"{pointer}: {exc.detail}") from None
        container[key] = open_value(
            sealed, private_key, aad=field_aad(aad, pointer), content_key=keys[wrapped]
        )
    return copy


def sealed_pointers(record: Any) -> list[str]:
    """JSON pointers of the sealed values in `record`, in document order."""
    return [pointer for pointer, _container, _key in _walk(record, "")]


def opaque(record: dict[str, Any], placeholder: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A copy of `record` with each well-formed sealed value replaced by `placeholder`, and
    {pointer: recipient key id} of those values; SealedValueError (MALFORMED) for a misshapen one."""
    copy: dict[str, Any] = json.loads(json.dumps(record))
    found: dict[str, str] = {}
    for pointer, container, key in list(_walk(copy, "")):
        found[pointer] = check_shape(container[key])
        container[key] = placeholder
    return copy, found


def check_shape(sealed: Any) -> str:
    """The recipient key id of a well-formed sealed object; SealedValueError (MALFORMED) otherwise."""
    return _parts(sealed)[0]


def _parts(sealed: Any) -> tuple[str, bytes, bytes, bytes]:
    if not isinstance(sealed, dict) or set(sealed) != _MEMBERS:
        raise SealedValueError(ReasonCode.MALFORMED, f"a sealed value has exactly {sorted(_MEMBERS)}")
    if sealed[SEALED] != SCHEME:
        raise SealedValueError(ReasonCode.MALFORMED, f"unknown sealing scheme {str(sealed[SEALED])[:40]!r}")
    kid = sealed["kid"]
    if not (isinstance(kid, str) and len(kid) == 64 and all(c in "0123456789abcdef" for c in kid)):
        raise SealedValueError(ReasonCode.MALFORMED, "kid is not a lowercase hex SHA-256 key id")
    wrapped, iv, ct = (_unb64(sealed, name) for name in ("ek", "iv", "ct"))
    if len(iv) != _IV_BYTES or len(ct) < _TAG_BYTES or not wrapped:
        raise SealedValueError(ReasonCode.MALFORMED, "iv must be 12 bytes, ct at least the 16-byte tag")
    return kid, wrapped, iv, ct


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(sealed: dict[str, Any], name: str) -> bytes:
    value = sealed[name]
    try:
        return base64.b64decode(value if isinstance(value, str) else "!", validate=True)
    except (binascii.Error, ValueError):
        raise SealedValueError(ReasonCode.MALFORMED, f"{name} is not standard base64") from None


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _locate(record: dict[str, Any], pointer: str) -> tuple[Any, Any]:
    """(container, key) of the existing member at an RFC 6901 `pointer` (not the root)."""
    if not pointer.startswith("/"):
        raise SealedValueError(ReasonCode.MALFORMED, f"{pointer!r} is not a JSON pointer to a field")
    tokens = [_unescape(t) for t in pointer[1:].split("/")]
    node: Any = record
    for depth, token in enumerate(tokens):
        key: Any = token
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            key = int(token)
        elif not (isinstance(node, dict) and token in node):
            raise SealedValueError(ReasonCode.MALFORMED, f"{pointer} names no field of the record")
        if depth == len(tokens) - 1:
            break
        node = node[key]
    return node, key


def _walk(node: Any, pointer: str) -> Iterator[tuple[str, Any, Any]]:
    items: Iterator[tuple[Any, Any]]
    if isinstance(node, dict):
        items = iter(list(node.items()))
    elif isinstance(node, list):
        items = enumerate(list(node))
    else:
        return
    for key, value in items:
        here = f"{pointer}/{_escape(str(key))}"
        if is_sealed(value):
            yield here, node, key
        else:
            yield from _walk(value, here)
