"""Sealed fields at the level of a message: seal a record's personal fields for the message's recipient,
and open the values sealed for one's own key (wire.md §12.7).

The SDK, the bridge, the 川渝 link and `jgx envelope sign --seal / open` use these two functions; the
format itself is `gateway.sealing`'s. The additional data is always the carrying message's header
(`sealing.message_aad`), so the message id, sender, recipient and standard must be set before sealing.

Pure: a message and keys in, payload bytes out (randomness from `os.urandom` via `gateway.sealing`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gateway import sealing
from gateway.errors import ReasonCode
from gateway.keys import Algorithm, PrivateKey, PublicKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

__all__ = ["message_aad", "open_message", "open_payload", "seal_payload", "sealing_key"]


def message_aad(message: exchange_pb2.Message) -> bytes:
    """The header part of the additional data of `message`'s sealed values (wire.md §12.3)."""
    return sealing.message_aad(message.sender, message.recipient, message.message_id, message.standard)


def sealing_key(trust: TrustConfig, recipient: str) -> PublicKey:
    """The key values for `recipient` are sealed with: its first unrevoked SM2 key in the trust
    configuration; `SealedValueError` (KEY_UNKNOWN) when it has none."""
    node = trust.nodes.get(recipient)
    for key in node.keys if node is not None else ():
        if key.algorithm is Algorithm.SM2_SM3 and not key.revoked:
            return key.public_key
    raise sealing.SealedValueError(
        ReasonCode.KEY_UNKNOWN,
        f"接收方 {recipient} 没有登记 SM2 密钥，无法加密封装 / "
        f"recipient {recipient} has no registered SM2 key to seal for",
    )


def seal_payload(message: exchange_pb2.Message, pointers: Sequence[str], trust: TrustConfig) -> bytes:
    """`message.payload` with the fields at `pointers` sealed for `message.recipient` (`sealing_key`).

    A pointer the record does not carry, or carries as null, is left alone (an optional field has
    nothing to hide); a malformed pointer or a payload that is not a JSON object is `SealedValueError`
    (MALFORMED). The bytes are the SDK's encoding (UTF-8, keys sorted).
    """
    record = _record(message.payload)
    present = [p for p in pointers if _get(record, p) is not None]
    if not present:
        return message.payload
    sealed = sealing.seal_fields(
        record, present, sealing_key(trust, message.recipient), aad=message_aad(message)
    )
    return json.dumps(sealed, ensure_ascii=False, sort_keys=True).encode("utf-8")


def open_payload(message: exchange_pb2.Message, key: PrivateKey) -> bytes:
    """`message.payload` with every value sealed for `key` opened; values sealed for another key stay
    sealed. `SealedValueError` (MALFORMED) when a value sealed for `key` does not open (altered, moved
    to another message or field, or its content key does not unwrap)."""
    if sealing.SEALED.encode() not in message.payload:
        return message.payload
    record = _record(message.payload)
    _view, kids = sealing.opaque(record, "")
    mine = [pointer for pointer, kid in kids.items() if kid == key.key_id]
    if not mine:
        return message.payload
    aad = message_aad(message)
    for pointer in mine:
        container, name = _parent(record, pointer)
        container[name] = sealing.open_value(container[name], key, aad=sealing.field_aad(aad, pointer))
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")


def open_message(message: exchange_pb2.Message, key: PrivateKey) -> exchange_pb2.Message:
    """A copy of `message` whose payload has the values sealed for `key` opened (`open_payload`)."""
    opened = exchange_pb2.Message()
    opened.CopyFrom(message)
    opened.payload = open_payload(message, key)
    return opened


def _record(payload: bytes) -> dict[str, Any]:
    try:
        record = json.loads(payload)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise sealing.SealedValueError(ReasonCode.MALFORMED, "payload is not a JSON object")
    return record


def _tokens(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        raise sealing.SealedValueError(ReasonCode.MALFORMED, f"{pointer!r} is not a JSON pointer to a field")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _get(record: Any, pointer: str) -> Any:
    node = record
    for token in _tokens(pointer):
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def _parent(record: Any, pointer: str) -> tuple[Any, Any]:
    tokens = _tokens(pointer)
    node = record
    for token in tokens[:-1]:
        node = node[int(token)] if isinstance(node, list) else node[token]
    last = tokens[-1]
    return node, int(last) if isinstance(node, list) else last
