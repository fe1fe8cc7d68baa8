"""DSSE: the pre-authentication encoding and the JSON form of an envelope.

    PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body

with lengths as ASCII decimal byte counts (DSSE protocol.md). Signing PAE rather than the body alone
authenticates the payload type, so a receipt can never be passed off as a message. The body is signed
exactly as carried and never re-serialized to verify.

The JSON form (``{"payload": b64, "payloadType": …, "signatures": [{"keyid": …, "sig": b64}]}``) carries
the trust configuration and conformance certificates; the gRPC form is the protobuf ``Envelope``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any, Final

from gateway.errors import ReasonCode, VerificationError
from gateway.keys import PrivateKey

__all__ = [
    "CERTIFICATE_TYPE",
    "MESSAGE_TYPE",
    "RECEIPT_TYPE",
    "TRUST_REQUEST_TYPE",
    "TRUST_TYPE",
    "json_envelope_parts",
    "pae",
    "sign_json_envelope",
]

MESSAGE_TYPE: Final = "application/vnd.jgx.message.v1+protobuf"
RECEIPT_TYPE: Final = "application/vnd.jgx.receipt.v1+protobuf"
TRUST_TYPE: Final = "application/vnd.jgx.trust.v1+json"
TRUST_REQUEST_TYPE: Final = "application/vnd.jgx.trust-request.v1+json"
CERTIFICATE_TYPE: Final = "application/vnd.jgx.conformance-certificate.v1+json"


def pae(payload_type: str, body: bytes) -> bytes:
    """The bytes that are signed: DSSE's pre-authentication encoding of `payload_type` and `body`."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(body), body)


def sign_json_envelope(payload: bytes, payload_type: str, keys: Sequence[PrivateKey]) -> dict[str, Any]:
    """A DSSE JSON envelope over `payload`, one signature per key (in the order given)."""
    signed = pae(payload_type, payload)
    return {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": [
            {"keyid": key.key_id, "sig": base64.b64encode(key.sign(signed)).decode("ascii")} for key in keys
        ],
    }


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationError(ReasonCode.MALFORMED, f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(ReasonCode.MALFORMED, f"{what} is not valid base64") from None


def json_envelope_parts(doc: object) -> tuple[bytes, str, list[tuple[str, bytes]]]:
    """Split a DSSE JSON envelope into (payload, payload type, [(key id, signature)]), checking its shape."""
    if not isinstance(doc, Mapping):
        raise VerificationError(ReasonCode.MALFORMED, "a DSSE envelope is a JSON object")
    payload = _b64(doc.get("payload"), "payload")
    payload_type = doc.get("payloadType")
    if not isinstance(payload_type, str) or not payload_type:
        raise VerificationError(ReasonCode.MALFORMED, "payloadType must be a non-empty string")
    raw_signatures = doc.get("signatures")
    if not isinstance(raw_signatures, list):
        raise VerificationError(ReasonCode.MALFORMED, "signatures must be a list")
    signatures: list[tuple[str, bytes]] = []
    for entry in raw_signatures:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("keyid", ""), str):
            raise VerificationError(ReasonCode.MALFORMED, "each signature is an object with keyid and sig")
        signatures.append((str(entry.get("keyid", "")), _b64(entry.get("sig"), "sig")))
    return payload, payload_type, signatures
