"""Building blocks for tests of jgx and of department adapters: a small federation with real keys.

`Federation.create(now)` makes signing keys for the usual nodes (the hub, three departments, the
national system, the Chongqing partner), a trust configuration with a realistic ACL signed by an admin
key, and helpers that write signed messages. Everything is real (real keys, real signatures); only
the clock is chosen by the caller.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import standards
from gateway.envelope import seal_message
from gateway.keys import Algorithm, PrivateKey, generate_key
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import AclEntry, Node, TrustConfig, key_record
from gateway.trust_update import sign_trust

__all__ = ["BRIDGE_ACL", "BRIDGE_NODES", "DEFAULT_ACL", "DEFAULT_NODES", "NATIONAL_BRIDGE", "Federation"]

#: node id -> (name_zh, name_en, role, region, gateway)
DEFAULT_NODES: Mapping[str, tuple[str, str, str, str, str]] = {
    "sc.hub": ("四川省互联网+监管系统交换枢纽", "Sichuan regulation exchange hub", "hub", "510000", ""),
    "sc.amr": (
        "四川省市场监督管理局",
        "Sichuan Administration for Market Regulation",
        "department",
        "510000",
        "sc.hub",
    ),
    "sc.12315": (
        "全国12315平台四川分平台",
        "12315 complaints platform, Sichuan",
        "department",
        "510000",
        "sc.hub",
    ),
    "sc.sjs": (
        "四川省双随机一公开监管系统",
        "Sichuan random spot-check system",
        "department",
        "510000",
        "sc.hub",
    ),
    "cn.national": ("国家互联网+监管系统", "National Internet+Regulation system", "national", "100000", ""),
    "cq.hub": ("重庆市互联网+监管系统", "Chongqing Internet+Regulation system", "partner", "500000", ""),
}

_RECORDS = ("SC-01", "SC-02", "SC-03", "SC-04", "SC-05", "SC-06", "SC-07", "SC-08", "SC-10", "SC-15")
DEFAULT_ACL: tuple[AclEntry, ...] = (
    AclEntry("sc.amr", ("sc.hub", "cn.national"), (*_RECORDS, "SC-12", "SC-13", "SC-14")),
    AclEntry("sc.12315", ("sc.hub", "sc.amr", "cn.national"), ("SC-11", "SC-12")),
    AclEntry("sc.sjs", ("sc.hub", "sc.amr", "cn.national"), ("SC-09", "SC-03", "SC-05")),
    AclEntry("cn.national", ("sc.hub", "sc.amr", "sc.12315", "sc.sjs"), ("SC-12", "SC-14")),
    AclEntry("sc.hub", ("*",), ("*",)),
    AclEntry("cq.hub", ("sc.hub", "sc.amr"), ("SC-13",)),
    AclEntry("sc.amr", ("cq.hub",), ("SC-13",)),
)

#: The province's national bridge (国家前置库桥): a node of the province, behind the hub, that links the
#: national system's front database (the national system itself runs no jgx). Records bound for it are
#: destined for the national system (role ``national``: SC-20 masks them for that destination).
NATIONAL_BRIDGE = "sc.national-bridge"
BRIDGE_NODES: Mapping[str, tuple[str, str, str, str, str]] = {
    NATIONAL_BRIDGE: (
        "四川省国家前置库桥",
        "Sichuan national front-database bridge",
        "national",
        "510000",
        "sc.hub",
    ),
}
BRIDGE_ACL: tuple[AclEntry, ...] = (
    AclEntry("sc.amr", (NATIONAL_BRIDGE,), (*_RECORDS, "SC-12", "SC-13", "SC-14")),
    AclEntry("sc.12315", (NATIONAL_BRIDGE,), ("SC-11", "SC-12")),
    AclEntry("sc.sjs", (NATIONAL_BRIDGE,), ("SC-09", "SC-03", "SC-05", "SC-14")),
    AclEntry(NATIONAL_BRIDGE, ("sc.hub", "sc.amr", "sc.12315", "sc.sjs"), ("SC-12", "SC-14")),
)


@dataclass
class Federation:
    """Nodes with their signing keys and the signed trust configuration that binds them."""

    now: datetime
    trust: TrustConfig
    signed_trust: bytes
    admin: PrivateKey
    keys: dict[str, PrivateKey] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        now: datetime,
        *,
        nodes: Mapping[str, tuple[str, str, str, str, str]] = DEFAULT_NODES,
        acl: Iterable[AclEntry] = DEFAULT_ACL,
        algorithm: Algorithm = Algorithm.ED25519,
        lifetime: timedelta = timedelta(days=365),
        endpoints: Mapping[str, str] | None = None,
    ) -> Federation:
        """A federation of `nodes`, one fresh `algorithm` key each, trust signed by one admin key of it."""
        admin = generate_key(algorithm)
        trust = TrustConfig.new([admin.public_key], threshold=1, issued_at=now, expires_at=now + lifetime)
        keys: dict[str, PrivateKey] = {}
        for node_id, (name_zh, name_en, role, region, gateway) in nodes.items():
            key = generate_key(algorithm)
            keys[node_id] = key
            trust = trust.with_node(
                Node(
                    node_id,
                    name_zh,
                    name_en,
                    role,
                    (key_record(key.public_key),),
                    region=region,
                    gateway=gateway,
                    endpoint=(endpoints or {}).get(node_id, ""),
                )
            )
        for entry in acl:
            trust = trust.with_acl(entry)
        return cls(now, trust, sign_trust(trust, [admin]), admin, keys)

    def resign(self, trust: TrustConfig) -> None:
        """Replace the trust configuration (signed by the same admin)."""
        self.trust = trust
        self.signed_trust = sign_trust(trust, [self.admin])

    def message(
        self,
        sender: str,
        recipient: str,
        *,
        standard: str = "SC-06",
        version: str = "1.0.0",
        payload: bytes | Mapping[str, Any] | None = None,
        issued_at: datetime | None = None,
        lifetime: timedelta = timedelta(hours=1),
        **fields: Any,
    ) -> exchange_pb2.Message:
        """A well-formed Message; `fields` override any header field."""
        if payload is None:  # a record that passes the standard, now that step 8 validates
            payload = standards.sample(standard, version=version)
        elif not isinstance(payload, bytes):
            payload = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        message = exchange_pb2.Message(
            message_id=fields.pop("message_id", uuid.uuid4().hex),
            sender=sender,
            recipient=recipient,
            standard=standard,
            standard_version=version,
            operation=fields.pop("operation", exchange_pb2.OPERATION_INSERT),
            business_key=fields.pop("business_key", uuid.uuid4().hex[:16]),
            payload=payload,
            **fields,
        )
        start = issued_at or self.now
        message.issued_at.FromDatetime(start)
        message.expires_at.FromDatetime(start + lifetime)
        return message

    def envelope(self, message: exchange_pb2.Message, *, key: PrivateKey | None = None) -> bytes:
        """The serialized envelope of `message`, signed by its sender's key (or `key`)."""
        return seal_message(message, key or self.keys[message.sender]).SerializeToString()
