"""The trust configuration (DESIGN §4): who the nodes are, which keys count, who may send what.

This module is the pure model, like python-tuf's ``tuf/api``: it turns the JSON document into frozen
values and back and answers questions about it. Signing, threshold checks and rotation live in
`gateway.trust_update`; loading from files lives in the CLI and the server.

The document's schema is ``gateway/trust.schema.json`` (JSON Schema 2020-12); docs/wire.md §5 explains
each field.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Final

import jsonschema

from gateway._json import loads_strict
from gateway._time import format_time, parse_time
from gateway.errors import ReasonCode, TrustError, VerificationError
from gateway.keys import Algorithm, PrivateKey, PublicKey, load_public_key

__all__ = [
    "DEFAULT_POLICIES",
    "AclEntry",
    "KeyRecord",
    "Node",
    "TrustConfig",
    "key_record",
]

ROLES: Final = ("department", "hub", "national", "partner")
#: SC-20 destination class by the recipient's role: the province's own nodes are "internal".
_DESTINATIONS: Final[Mapping[str, str]] = {
    "department": "internal",
    "hub": "internal",
    "national": "national",
    "partner": "partner",
}
DEFAULT_POLICIES: Final[Mapping[str, Any]] = {
    "max_envelope_bytes": 1 << 20,
    "clock_skew_seconds": 300,
    "replay_ttl_seconds": 7 * 24 * 3600,
}


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A public key as the trust configuration registers it; the algorithm is authoritative."""

    key_id: str
    algorithm: Algorithm
    public_key: PublicKey
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    revoked: bool = False
    signer_id: str = ""  # SM2 only: an ID_A other than GB/T 35276's default 1234567812345678

    def valid_at(self, now: datetime) -> bool:
        """True when `now` lies within the key's validity period (revocation is separate)."""
        return (self.valid_from is None or self.valid_from <= now) and (
            self.valid_to is None or now < self.valid_to
        )

    def to_json(self) -> dict[str, Any]:
        """The key's JSON object."""
        doc: dict[str, Any] = {
            "key_id": self.key_id,
            "algorithm": self.algorithm.value,
            "public_key": base64.b64encode(self.public_key.spki_der).decode("ascii"),
        }
        if self.valid_from is not None:
            doc["valid_from"] = format_time(self.valid_from)
        if self.valid_to is not None:
            doc["valid_to"] = format_time(self.valid_to)
        if self.revoked:
            doc["revoked"] = True
        if self.signer_id:
            doc["signer_id"] = self.signer_id
        return doc


def key_record(
    public_key: PublicKey,
    *,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    signer_id: str = "",
) -> KeyRecord:
    """A key record for `public_key` with the algorithm of its implementation (and SM2 signer id)."""
    if signer_id:
        public_key = public_key.with_signer_id(signer_id.encode("ascii"))
    algorithm = public_key.algorithm
    return KeyRecord(public_key.key_id, algorithm, public_key, valid_from, valid_to, False, signer_id)


@dataclass(frozen=True, slots=True)
class Node:
    """A participant: department system, hub, the national system or the partner platform."""

    node_id: str
    name_zh: str
    name_en: str
    role: str
    keys: tuple[KeyRecord, ...] = ()
    region: str = ""
    uscc: str = ""
    endpoint: str = ""
    gateway: str = ""  # the gateway that receives on this node's behalf (departments: the hub)

    def to_json(self) -> dict[str, Any]:
        """The node's JSON object (without its id, which is the key in ``nodes``)."""
        doc: dict[str, Any] = {"name_zh": self.name_zh, "name_en": self.name_en, "role": self.role}
        for name in ("region", "uscc", "endpoint", "gateway"):
            if value := getattr(self, name):
                doc[name] = value
        doc["keys"] = [k.to_json() for k in self.keys]
        return doc


@dataclass(frozen=True, slots=True)
class AclEntry:
    """Allows `sender` to send `standards` to `recipients`; ``"*"`` matches anything."""

    sender: str
    recipients: tuple[str, ...]
    standards: tuple[str, ...]

    def allows(self, sender: str, standard: str, recipient: str) -> bool:
        """True when this entry covers the triple."""
        return (
            self.sender in ("*", sender)
            and ("*" in self.recipients or recipient in self.recipients)
            and ("*" in self.standards or standard in self.standards)
        )


@dataclass(frozen=True)
class TrustConfig:
    """One version of the trust configuration."""

    version: int
    issued_at: datetime
    expires_at: datetime
    admin_keys: tuple[KeyRecord, ...]
    admin_threshold: int
    nodes: Mapping[str, Node] = field(default_factory=dict)
    acl: tuple[AclEntry, ...] = ()
    policies: Mapping[str, Any] = field(default_factory=dict)
    _key_index: Mapping[str, tuple[Node, KeyRecord]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {k.key_id: (n, k) for n in self.nodes.values() for k in n.keys}
        object.__setattr__(self, "_key_index", index)

    # -- questions ---------------------------------------------------------------------------------

    def node(self, node_id: str) -> Node:
        """The node with `node_id`; SENDER_UNKNOWN when there is none."""
        try:
            return self.nodes[node_id]
        except KeyError:
            raise VerificationError(ReasonCode.SENDER_UNKNOWN, f"node {node_id!r}") from None

    def signing_key(self, key: PrivateKey) -> PrivateKey:
        """`key` set up as its record says it signs: under the record's SM2 signer id, if one is set."""
        try:
            _, record = self.key(key.key_id)
        except VerificationError:
            return key  # a key the configuration does not (yet) hold signs as it is
        return key.with_signer_id(record.signer_id.encode("ascii")) if record.signer_id else key

    def key(self, key_id: str) -> tuple[Node, KeyRecord]:
        """The node owning `key_id` and its record; KEY_UNKNOWN when no node has it."""
        found = self._key_index.get(key_id)
        if found is None:
            raise VerificationError(ReasonCode.KEY_UNKNOWN, f"key id {key_id[:16]}…")
        return found

    def allows(self, sender: str, standard: str, recipient: str) -> bool:
        """Deny by default: True only when an ACL entry covers (sender, standard, recipient)."""
        return any(entry.allows(sender, standard, recipient) for entry in self.acl)

    def audience_of(self, local_node: str) -> frozenset[str]:
        """Node ids a gateway accepts envelopes for: itself and the nodes it receives on behalf of."""
        return frozenset({local_node, *(n.node_id for n in self.nodes.values() if n.gateway == local_node)})

    def destination_of(self, node_id: str) -> str:
        """The SC-20 destination class of records bound for `node_id`: internal, national or partner."""
        node = self.nodes.get(node_id)
        return _DESTINATIONS.get(node.role, "internal") if node is not None else "internal"

    def policy(self, name: str) -> Any:
        """A policy value, falling back to `DEFAULT_POLICIES`."""
        return self.policies.get(name, DEFAULT_POLICIES.get(name))

    @property
    def clock_skew(self) -> timedelta:
        """Allowed clock skew between nodes."""
        return timedelta(seconds=int(self.policy("clock_skew_seconds")))

    @property
    def max_envelope_bytes(self) -> int:
        """Largest envelope a node accepts."""
        return int(self.policy("max_envelope_bytes"))

    def deadline_working_days(self, standard: str) -> int | None:
        """The statutory deadline for `standard` in working days, when the policy sets one."""
        deadline = self.policies.get("deadlines", {}).get(standard, {}).get("working_days")
        return int(deadline) if deadline is not None else None

    # -- JSON ----------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The document as a JSON value (the signed payload of the DSSE envelope)."""
        return {
            "type": "jgx-trust",
            "version": self.version,
            "issued_at": format_time(self.issued_at),
            "expires_at": format_time(self.expires_at),
            "admins": {"threshold": self.admin_threshold, "keys": [k.to_json() for k in self.admin_keys]},
            "nodes": {node_id: node.to_json() for node_id, node in sorted(self.nodes.items())},
            "acl": [
                {"sender": e.sender, "recipients": list(e.recipients), "standards": list(e.standards)}
                for e in self.acl
            ],
            "policies": dict(self.policies),
        }

    def to_json_bytes(self) -> bytes:
        """UTF-8 JSON bytes of the document, stable for equal documents."""
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json_bytes(cls, data: bytes) -> TrustConfig:
        """Parse and check an (unsigned) document; TRUST_INVALID on any defect."""
        try:
            doc = loads_strict(data, what="trust configuration")
        except VerificationError as exc:
            raise TrustError(ReasonCode.TRUST_INVALID, exc.detail) from None
        errors = sorted(_schema_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/" + "/".join(str(p) for p in errors[0].absolute_path)
            raise TrustError(ReasonCode.TRUST_INVALID, f"{where}: {errors[0].message}")
        try:
            return _from_doc(doc)
        except VerificationError as exc:
            raise TrustError(ReasonCode.TRUST_INVALID, exc.detail or exc.reason.value) from None

    # -- editing (each returns a new document; sign it with gateway.trust_update.sign_trust) --------

    @classmethod
    def new(
        cls, admin_keys: Sequence[PublicKey], *, threshold: int, issued_at: datetime, expires_at: datetime
    ) -> TrustConfig:
        """Version 1 with the given admin keys, no nodes and a deny-all ACL."""
        return cls(1, issued_at, expires_at, tuple(key_record(k) for k in admin_keys), threshold)

    def with_node(self, node: Node) -> TrustConfig:
        """This document with `node` added or replaced."""
        return replace(self, nodes={**self.nodes, node.node_id: node})

    def with_node_key(self, node_id: str, key: KeyRecord) -> TrustConfig:
        """This document with `key` added to `node_id`'s keys."""
        node = self.node(node_id)
        return self.with_node(replace(node, keys=(*(k for k in node.keys if k.key_id != key.key_id), key)))

    def with_key_revoked(self, key_id: str) -> TrustConfig:
        """This document with `key_id` marked revoked (kept, so old signatures stay attributable)."""
        node, record = self.key(key_id)
        keys = tuple(replace(k, revoked=True) if k is record else k for k in node.keys)
        return self.with_node(replace(node, keys=keys))

    def with_acl(self, entry: AclEntry) -> TrustConfig:
        """This document with one more ACL entry."""
        return replace(self, acl=(*self.acl, entry))

    def with_admins(self, admin_keys: Sequence[PublicKey], threshold: int) -> TrustConfig:
        """This document with a new set of admin keys and threshold (rotation)."""
        return replace(self, admin_keys=tuple(key_record(k) for k in admin_keys), admin_threshold=threshold)

    def with_policies(self, **policies: Any) -> TrustConfig:
        """This document with policies set."""
        return replace(self, policies={**self.policies, **policies})

    def bump(self, *, issued_at: datetime, expires_at: datetime) -> TrustConfig:
        """The next version of this document, to be edited and signed."""
        return replace(self, version=self.version + 1, issued_at=issued_at, expires_at=expires_at)


@cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("gateway").joinpath("trust.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _key_from_doc(doc: Mapping[str, Any]) -> KeyRecord:
    try:
        der = base64.b64decode(doc["public_key"], validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(ReasonCode.MALFORMED, "public_key is not base64") from None
    public_key = load_public_key(der)
    algorithm = Algorithm(doc["algorithm"])
    if public_key.key_id != doc["key_id"]:
        raise VerificationError(ReasonCode.MALFORMED, f"key_id {doc['key_id'][:16]}… does not match its key")
    if public_key.algorithm is not algorithm:
        raise VerificationError(
            ReasonCode.ALGORITHM_MISMATCH,
            f"key {doc['key_id'][:16]}… is {public_key.algorithm.value}, registered as {algorithm.value}",
        )
    valid_from = parse_time(doc["valid_from"]) if "valid_from" in doc else None
    valid_to = parse_time(doc["valid_to"]) if "valid_to" in doc else None
    signer_id = doc.get("signer_id", "")
    if signer_id:
        public_key = public_key.with_signer_id(signer_id.encode("ascii"))
    return KeyRecord(
        doc["key_id"], algorithm, public_key, valid_from, valid_to, bool(doc.get("revoked")), signer_id
    )


def _from_doc(doc: Mapping[str, Any]) -> TrustConfig:
    nodes: dict[str, Node] = {}
    seen_keys: set[str] = set()
    for node_id, raw in doc["nodes"].items():
        keys = tuple(_key_from_doc(k) for k in raw["keys"])
        for k in keys:
            if k.key_id in seen_keys:
                raise VerificationError(ReasonCode.MALFORMED, f"key {k.key_id[:16]}… registered twice")
            seen_keys.add(k.key_id)
        nodes[node_id] = Node(
            node_id=node_id,
            name_zh=raw["name_zh"],
            name_en=raw["name_en"],
            role=raw["role"],
            keys=keys,
            region=raw.get("region", ""),
            uscc=raw.get("uscc", ""),
            endpoint=raw.get("endpoint", ""),
            gateway=raw.get("gateway", ""),
        )
    for node in nodes.values():
        if node.gateway and node.gateway not in nodes:
            raise VerificationError(
                ReasonCode.MALFORMED, f"{node.node_id}: gateway {node.gateway!r} is no node"
            )
    admin_keys = tuple(_key_from_doc(k) for k in doc["admins"]["keys"])
    if len({k.key_id for k in admin_keys}) != len(admin_keys):
        raise VerificationError(ReasonCode.MALFORMED, "an admin key is listed twice")
    threshold = int(doc["admins"]["threshold"])
    if threshold > len(admin_keys):
        raise VerificationError(
            ReasonCode.MALFORMED, f"threshold {threshold} exceeds the {len(admin_keys)} admin keys"
        )
    issued_at, expires_at = parse_time(doc["issued_at"]), parse_time(doc["expires_at"])
    if expires_at <= issued_at:
        raise VerificationError(ReasonCode.MALFORMED, "expires_at must be after issued_at")
    acl = tuple(AclEntry(e["sender"], tuple(e["recipients"]), tuple(e["standards"])) for e in doc["acl"])
    return TrustConfig(
        version=int(doc["version"]),
        issued_at=issued_at,
        expires_at=expires_at,
        admin_keys=admin_keys,
        admin_threshold=threshold,
        nodes=nodes,
        acl=acl,
        policies=dict(doc["policies"]),
    )
