"""The envelopes the suite sends as the hub, honest and forged (as the OIDF suite plays a rogue server).

Each function returns the exact bytes to deliver and the message they carry. Forgeries use keys the
suite generates on the spot, except a revoked key, which only the certifier can hand over (or, without
it, a revoked key id from the trust configuration with a signature of the right shape). Pure apart
from key generation and fresh message ids.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from gateway.dsse import MESSAGE_TYPE, pae
from gateway.envelope import seal_message
from gateway.keys import Algorithm, PrivateKey, generate_key
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

__all__ = ["LIFECYCLE_STANDARDS", "Forge", "SignedAs"]

LIFECYCLE_STANDARDS: Final = ("SC-14", "SC-12", "SC-13")
LIFETIME: Final = timedelta(hours=1)
ELSEWHERE: Final = "cf.elsewhere"  # a well-formed node id that no trust configuration names


@dataclass(frozen=True, slots=True)
class SignedAs:
    """A node the suite may sign as, and the key it signs with."""

    node_id: str
    key: PrivateKey


@dataclass(frozen=True, slots=True)
class Forge:
    """Writes deliveries from the hub to the department under test."""

    trust: TrustConfig
    hub: SignedAs
    department: str
    standard: str
    version: str
    sample: Mapping[str, Any]
    now: datetime

    def message(self, *, payload: bytes | None = None, **fields: Any) -> exchange_pb2.Message:
        """A well-formed message from the hub to the department; `fields` override header fields."""
        message_id = fields.pop("message_id", "cf" + uuid.uuid4().hex)
        key = fields.pop("business_key", "CF-" + message_id[-12:])
        issued_at = fields.pop("issued_at", self.now)
        expires_at = fields.pop("expires_at", issued_at + LIFETIME)
        lifecycle = self.standard in LIFECYCLE_STANDARDS
        message = exchange_pb2.Message(
            message_id=message_id,
            sender=fields.pop("sender", self.hub.node_id),
            recipient=fields.pop("recipient", self.department),
            standard=fields.pop("standard", self.standard),
            standard_version=fields.pop("standard_version", self.version),
            operation=exchange_pb2.OPERATION_INSERT,
            business_key=key,
            correlation_id=fields.pop("correlation_id", key if lifecycle else ""),
            action=fields.pop("action", "dispatch" if lifecycle else ""),
            payload=payload if payload is not None else json.dumps(self.sample, ensure_ascii=False).encode(),
            **fields,
        )
        message.issued_at.FromDatetime(issued_at)
        message.expires_at.FromDatetime(expires_at)
        return message

    def seal(self, message: exchange_pb2.Message, key: PrivateKey | None = None) -> bytes:
        """The envelope bytes of `message` signed by the hub (or `key`)."""
        return seal_message(message, key or self.hub.key).SerializeToString()

    def valid(self) -> tuple[bytes, exchange_pb2.Message]:
        """An honest delivery."""
        message = self.message()
        return self.seal(message), message

    def tampered(self) -> tuple[bytes, exchange_pb2.Message]:
        """One bit of the signature flipped."""
        message = self.message()
        envelope = seal_message(message, self.hub.key)
        sig = bytearray(envelope.signatures[0].sig)
        sig[len(sig) // 2] ^= 0x01
        envelope.signatures[0].sig = bytes(sig)
        return envelope.SerializeToString(), message

    def unknown_key(self) -> tuple[bytes, exchange_pb2.Message]:
        """Signed by a key the trust configuration has never seen."""
        message = self.message()
        return self.seal(message, generate_key(self.hub.key.algorithm)), message

    def wrong_algorithm(self) -> tuple[bytes, exchange_pb2.Message]:
        """Signed with another algorithm, under the hub's registered key id."""
        message = self.message()
        other = (
            Algorithm.ECDSA_P256_SHA256 if self.hub.key.algorithm == Algorithm.ED25519 else Algorithm.ED25519
        )
        body = message.SerializeToString()
        signature = generate_key(other).sign(pae(MESSAGE_TYPE, body))
        envelope = exchange_pb2.Envelope(
            body=body,
            payload_type=MESSAGE_TYPE,
            signatures=[exchange_pb2.Signature(key_id=self.hub.key.key_id, sig=signature)],
        )
        return envelope.SerializeToString(), message

    def revoked(self, key: SignedAs | None) -> tuple[bytes, exchange_pb2.Message] | None:
        """Signed with a revoked key: the one given, else a revoked key id with a signature-shaped forgery."""
        if key is not None:
            message = self.message(sender=key.node_id)
            return self.seal(message, key.key), message
        for node in self.trust.nodes.values():
            for record in node.keys:
                if record.revoked:
                    message = self.message(sender=node.node_id)
                    size = 64 if record.algorithm == Algorithm.ED25519 else 72
                    envelope = exchange_pb2.Envelope(
                        body=message.SerializeToString(),
                        payload_type=MESSAGE_TYPE,
                        signatures=[exchange_pb2.Signature(key_id=record.key_id, sig=os.urandom(size))],
                    )
                    return envelope.SerializeToString(), message
        return None

    def expired(self) -> tuple[bytes, exchange_pb2.Message]:
        """Expired an hour (plus the allowed clock skew) ago."""
        end = self.now - self.trust.clock_skew - LIFETIME
        message = self.message(issued_at=end - LIFETIME, expires_at=end)
        return self.seal(message), message

    def replay_of(self, original: exchange_pb2.Message) -> tuple[bytes, exchange_pb2.Message]:
        """Other bytes under the message id of an accepted message."""
        message = self.message(message_id=original.message_id, business_key=original.business_key + "-R")
        return self.seal(message), message

    def misaddressed(self) -> tuple[bytes, exchange_pb2.Message]:
        """Addressed to another department (or, in a federation of two, to a node id nobody has)."""
        audience = self.trust.audience_of(self.department)
        others = [n for n in self.trust.nodes if n not in audience and n != self.hub.node_id]
        departments = [n for n in others if self.trust.nodes[n].role == "department"]
        candidates = departments or others or [ELSEWHERE]
        message = self.message(recipient=candidates[0])
        return self.seal(message), message

    def unknown_standard(self) -> tuple[bytes, exchange_pb2.Message]:
        """Naming SC-99, a standard that does not exist."""
        message = self.message(standard="SC-99", standard_version="1.0.0")
        return self.seal(message), message

    def unknown_version(self) -> tuple[bytes, exchange_pb2.Message]:
        """Naming version 99.0.0 of the sample's standard."""
        message = self.message(standard_version="99.0.0")
        return self.seal(message), message

    def schema_invalid(self) -> tuple[bytes, exchange_pb2.Message]:
        """A payload that has none of the standard's fields and one it does not define."""
        message = self.message(payload=b'{"conformanceUndefinedField": 1}')
        return self.seal(message), message

    def oversized(self) -> tuple[bytes, exchange_pb2.Message]:
        """An envelope 4 KiB over the trust configuration's size limit."""
        padding = "x" * (self.trust.max_envelope_bytes + 4096)
        message = self.message(payload=json.dumps({"padding": padding}).encode())
        return self.seal(message), message
