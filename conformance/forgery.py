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

from gateway.dsse import MESSAGE_TYPE, RECEIPT_TYPE, pae
from gateway.envelope import seal_message
from gateway.keys import Algorithm, PrivateKey, generate_key
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

__all__ = ["LIFECYCLE_STANDARDS", "Forge", "SignedAs"]

LIFECYCLE_STANDARDS: Final = ("SC-14", "SC-12", "SC-13")
LIFETIME: Final = timedelta(hours=1)
#: How far past a limit the edge probes go: past the allowed clock skew, well inside any sloppy grace.
EDGE: Final = timedelta(seconds=60)
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
        standard = fields.pop("standard", self.standard)
        lifecycle = standard in LIFECYCLE_STANDARDS
        message = exchange_pb2.Message(
            message_id=message_id,
            sender=fields.pop("sender", self.hub.node_id),
            recipient=fields.pop("recipient", self.department),
            standard=standard,
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

    def retired(self, key: SignedAs | None) -> tuple[bytes, exchange_pb2.Message] | None:
        """Signed with a key whose validity ended a moment before: the one given, else its key id with
        signature-shaped bytes."""
        if key is not None:
            message = self.message(sender=key.node_id)
            return self.seal(message, key.key), message
        ended = [
            (record.valid_to, node.node_id, record)
            for node in self.trust.nodes.values()
            for record in node.keys
            if record.valid_to is not None and record.valid_to <= self.now and not record.revoked
        ]
        if not ended:
            return None
        _, node_id, record = max(ended, key=lambda e: (e[0], e[1]))
        message = self.message(sender=node_id)
        size = 64 if record.algorithm == Algorithm.ED25519 else 72
        envelope = exchange_pb2.Envelope(
            body=message.SerializeToString(),
            payload_type=MESSAGE_TYPE,
            signatures=[exchange_pb2.Signature(key_id=record.key_id, sig=os.urandom(size))],
        )
        return envelope.SerializeToString(), message

    def expired(self) -> tuple[bytes, exchange_pb2.Message]:
        """Expired just past the allowed clock skew ago (an adapter with any longer grace accepts it)."""
        end = self.now - self.trust.clock_skew - EDGE
        message = self.message(issued_at=end - LIFETIME, expires_at=end)
        return self.seal(message), message

    def future(self) -> tuple[bytes, exchange_pb2.Message]:
        """Issued just past the allowed clock skew in the future."""
        start = self.now + self.trust.clock_skew + EDGE
        message = self.message(issued_at=start, expires_at=start + LIFETIME)
        return self.seal(message), message

    def unsigned(self) -> tuple[bytes, exchange_pb2.Message]:
        """A well-formed message envelope that carries no signature at all."""
        message = self.message()
        envelope = exchange_pb2.Envelope(body=message.SerializeToString(), payload_type=MESSAGE_TYPE)
        return envelope.SerializeToString(), message

    def sender_key_mismatch(self) -> tuple[bytes, exchange_pb2.Message] | None:
        """Signed with the hub's key but naming another node of the trust configuration as sender."""
        others = sorted(n for n in self.trust.nodes if n not in (self.hub.node_id, self.department))
        if not others:
            return None
        message = self.message(sender=others[0])
        return self.seal(message), message

    def wrong_payload_type(self) -> tuple[bytes, exchange_pb2.Message]:
        """A message body, properly signed, but declared as a receipt: not a type Deliver accepts."""
        message = self.message()
        body = message.SerializeToString()
        envelope = exchange_pb2.Envelope(
            body=body,
            payload_type=RECEIPT_TYPE,
            signatures=[
                exchange_pb2.Signature(
                    key_id=self.hub.key.key_id, sig=self.hub.key.sign(pae(RECEIPT_TYPE, body))
                )
            ],
        )
        return envelope.SerializeToString(), message

    def rule_violation(self) -> tuple[bytes, exchange_pb2.Message] | None:
        """The sample with one USCC's check character changed: schema-valid, breaks a semantic rule."""
        from conformance.mutations import wrong_check_character

        payload = wrong_check_character(self.sample, self.standard, self.version, self.now)
        if payload is None:
            return None
        message = self.message(payload=payload)
        return self.seal(message), message

    def claimed(
        self, standard: str, version: str, sample: Mapping[str, Any]
    ) -> tuple[bytes, exchange_pb2.Message]:
        """An honest delivery of another claimed standard (its good fixture)."""
        lifecycle = standard in LIFECYCLE_STANDARDS
        message = self.message(
            standard=standard,
            standard_version=version,
            payload=json.dumps(sample, ensure_ascii=False).encode(),
            **({} if lifecycle else {"correlation_id": "", "action": ""}),
        )
        return self.seal(message), message

    def signed_by(self, signer: SignedAs, **fields: Any) -> tuple[bytes, exchange_pb2.Message]:
        """A message from `signer` (a node of the trust configuration), signed with its key."""
        message = self.message(sender=signer.node_id, **fields)
        return self.seal(message, signer.key), message

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
