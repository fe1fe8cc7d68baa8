"""Join requests (入网申请): what a department hands in to be added to the trust configuration.

A request carries the node record the department wants (names, role, region, USCC, endpoint, the
gateway that receives for it, its public keys), the ACL entries it asks for (always with itself as
sender) and, optionally, the CSR for its TLS certificate (`gateway.pki`). It travels as a DSSE JSON
envelope (payloadType ``application/vnd.jgx.trust-request.v1+json``) signed by **every** key it
registers: proof that the department holds them, and a seal — any change to the file breaks it.

The admin merges requests into the next version of the trust configuration (`merge_requests`): the
result is version N+1, to be signed by N's admins as any other version. Requests that conflict with
the configuration or with each other are refused, each with a reason a person can act on.

Pure: bytes and values in, bytes and values out; the caller passes the time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from gateway._json import loads_strict
from gateway._time import format_time, parse_time
from gateway.dsse import TRUST_REQUEST_TYPE, json_envelope_parts, pae, sign_json_envelope
from gateway.errors import JgxError, ReasonCode, TrustError, VerificationError
from gateway.keys import PrivateKey
from gateway.pki import read_csr
from gateway.trust import AclEntry, KeyRecord, Node, TrustConfig, key_record

__all__ = ["JoinRequest", "make_request", "merge_requests", "read_request"]


@dataclass(frozen=True)
class JoinRequest:
    """A verified join request."""

    node: Node
    acl: tuple[AclEntry, ...]
    csr: bytes | None
    requested_at: datetime
    payload: bytes = field(default=b"", repr=False)
    signatures: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)

    def signed_by(self, record: KeyRecord) -> bool:
        """True when ``record``'s key validly signed this request."""
        signed = pae(TRUST_REQUEST_TYPE, self.payload)
        return any(
            key_id == record.key_id and record.public_key.verify(sig, signed)
            for key_id, sig in self.signatures
        )

    def describe(self) -> list[str]:
        """What the request asks for, one line each, for the admin's review."""
        n = self.node
        lines = [f"+ node {n.node_id} ({n.role}) {n.name_zh} / {n.name_en}"]
        lines += [
            f"    {name}: {value}"
            for name in ("region", "uscc", "endpoint", "gateway")
            if (value := getattr(n, name))
        ]
        lines += [f"    key {k.key_id} {k.algorithm.value}" for k in n.keys]
        lines += [
            f"+ acl {e.sender} -> {', '.join(e.recipients)}: {', '.join(e.standards)}" for e in self.acl
        ]
        if self.csr is not None:
            request = read_csr(self.csr)
            lines.append(f"  csr: {request.node_id}, hosts {', '.join(request.hosts) or '-'}")
        lines.append(f"  requested at {format_time(self.requested_at)}")
        return lines


def make_request(
    node: Node,
    keys: Sequence[PrivateKey],
    acl: Iterable[AclEntry],
    *,
    now: datetime,
    csr: bytes | None = None,
) -> bytes:
    """A signed join request for ``node`` registering ``keys`` (each signs it); checked as the admin will."""
    node = replace(node, keys=tuple(key_record(k.public_key) for k in keys))
    doc: dict[str, Any] = {
        "type": "jgx-trust-request",
        "node_id": node.node_id,
        "node": node.to_json(),
        "acl": [
            {"sender": e.sender, "recipients": list(e.recipients), "standards": list(e.standards)}
            for e in acl
        ],
        "requested_at": format_time(now),
    }
    if csr is not None:
        doc["csr"] = csr.decode("ascii")
    payload = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    signed = (
        json.dumps(sign_json_envelope(payload, TRUST_REQUEST_TYPE, keys), indent=2).encode("utf-8") + b"\n"
    )
    read_request(signed)  # what the admin would refuse is refused here, before it is handed in
    return signed


def _malformed(zh: str, en: str) -> VerificationError:
    return VerificationError(ReasonCode.MALFORMED, f"{zh} / {en}")


def _parse(payload: bytes) -> JoinRequest:
    doc = loads_strict(payload, what="join request")
    if not isinstance(doc, dict) or doc.get("type") != "jgx-trust-request":
        raise _malformed("不是入网申请", "not a join request (type jgx-trust-request)")
    node_id, node_doc, acl_doc = doc.get("node_id"), doc.get("node"), doc.get("acl", [])
    if not isinstance(node_id, str) or not isinstance(node_doc, dict) or not isinstance(acl_doc, list):
        raise _malformed("缺少 node_id、node 或 acl", "node_id, node and acl are required")
    keys = node_doc.get("keys")
    if not isinstance(keys, list) or not keys:
        raise _malformed("申请须登记至少一个密钥", "the request must register at least one key")
    try:
        requested_at = parse_time(str(doc.get("requested_at", "")))
    except JgxError:
        raise _malformed("requested_at 不是时间", "requested_at is not a time") from None
    # The node and ACL are read by the trust configuration's own schema and rules: a one-node document
    # (its gateway left out, since that node lives in the federation's configuration, not here).
    probe = {
        "type": "jgx-trust", "version": 1, "issued_at": format_time(requested_at),
        "expires_at": format_time(requested_at + timedelta(days=1)),
        "admins": {"threshold": 1, "keys": [keys[0]]},
        "nodes": {node_id: {k: v for k, v in node_doc.items() if k != "gateway"}},
        "acl": acl_doc, "policies": {},
    }  # fmt: skip
    try:
        config = TrustConfig.from_json_bytes(json.dumps(probe).encode("utf-8"))
    except TrustError as exc:
        raise _malformed("申请内容无效", f"the request is invalid: {exc.detail}") from None
    gateway = node_doc.get("gateway", "")
    node = replace(config.node(node_id), gateway=gateway if isinstance(gateway, str) else "")
    for entry in config.acl:
        if entry.sender != node_id:
            raise _malformed(
                f"访问控制条目的发送方须为 {node_id}",
                f"an ACL entry's sender must be {node_id}, not {entry.sender!r}",
            )
    csr = doc.get("csr")
    if csr is not None and not isinstance(csr, str):
        raise _malformed("csr 须为 PEM 文本", "csr must be PEM text")
    return JoinRequest(node, config.acl, csr.encode("ascii") if csr else None, requested_at)


def read_request(data: bytes) -> JoinRequest:
    """Verify a signed join request: shape, every registered key's signature, the CSR's node."""
    # (1) the envelope and its type
    payload, payload_type, signatures = json_envelope_parts(loads_strict(data, what="join request"))
    if payload_type != TRUST_REQUEST_TYPE:
        raise VerificationError(
            ReasonCode.PAYLOAD_TYPE_UNKNOWN, f"{payload_type!r} is not {TRUST_REQUEST_TYPE}"
        )
    # (2) the request itself
    request = replace(_parse(payload), payload=payload, signatures=tuple(signatures))
    # (3) every key it registers has signed exactly these bytes (proof of possession, tamper seal)
    for record in request.node.keys:
        if not request.signed_by(record):
            raise VerificationError(
                ReasonCode.SIGNATURE_INVALID,
                f"申请未经密钥 {record.key_id[:16]}… 有效签名（文件可能被篡改） / the request is not validly "
                f"signed by key {record.key_id[:16]}… it registers (was the file changed?)",
            )
    # (4) a CSR, if any, is for the same node
    if request.csr is not None:
        named = read_csr(request.csr).node_id
        if named != request.node.node_id:
            raise _malformed(
                f"证书签名请求属于 {named}", f"the CSR names {named}, not {request.node.node_id}"
            )
    return request


def _conflict(zh: str, en: str) -> TrustError:
    return TrustError(ReasonCode.TRUST_INVALID, f"冲突 / conflict: {zh} / {en}")


def merge_requests(
    current: TrustConfig,
    requests: Sequence[JoinRequest],
    *,
    issued_at: datetime,
    expires_at: datetime,
    replace_nodes: bool = False,
) -> TrustConfig:
    """Version N+1 of ``current`` with the requests' nodes and ACL entries; TRUST_INVALID on a conflict.

    An existing node is replaced only with ``replace_nodes`` and when the request is signed by one of
    the node's current unrevoked keys, so a request can never take over a node whose keys its author
    does not hold; keys it leaves out are kept, revoked (DESIGN §4: old signatures stay attributable).
    """
    merged = current.bump(issued_at=issued_at, expires_at=expires_at)
    seen: set[str] = set()
    for request in requests:
        node = request.node
        if node.node_id in seen:
            raise _conflict(
                f"两份申请都登记节点 {node.node_id}", f"two requests register node {node.node_id}"
            )
        seen.add(node.node_id)
        existing = merged.nodes.get(node.node_id)
        if existing is not None:
            if not replace_nodes:
                raise _conflict(
                    f"节点 {node.node_id} 已在第 {current.version} 版中（更新请加 --replace）",
                    f"node {node.node_id} is already in version {current.version} (--replace updates it)",
                )
            if not any(request.signed_by(k) for k in existing.keys if not k.revoked):
                raise _conflict(
                    f"更新节点 {node.node_id} 的申请须由其现有密钥之一签名",
                    f"a request updating {node.node_id} must be signed by one of its current keys",
                )
        for record in node.keys:
            owner = next(
                (n for n in merged.nodes.values() if any(k.key_id == record.key_id for k in n.keys)), None
            )
            if owner is not None and owner.node_id != node.node_id:
                raise _conflict(
                    f"密钥 {record.key_id[:16]}… 已属于节点 {owner.node_id}",
                    f"key {record.key_id[:16]}… already belongs to node {owner.node_id}",
                )
        if existing is not None:  # keys left out stay, revoked: old signatures stay attributable
            kept = {k.key_id for k in node.keys}
            dropped = tuple(replace(k, revoked=True) for k in existing.keys if k.key_id not in kept)
            node = replace(node, keys=(*node.keys, *dropped))
        merged = merged.with_node(node)
    for request in requests:
        node = request.node
        if node.gateway and node.gateway not in merged.nodes:
            raise _conflict(
                f"网关 {node.gateway} 不是节点", f"gateway {node.gateway!r} of {node.node_id} is no node"
            )
        for entry in request.acl:
            unknown = [r for r in entry.recipients if r != "*" and r not in merged.nodes]
            if unknown:
                raise _conflict(
                    f"接收方 {', '.join(unknown)} 不是节点", f"recipient(s) {', '.join(unknown)} are no nodes"
                )
            if entry not in merged.acl:
                merged = merged.with_acl(entry)
    return TrustConfig.from_json_bytes(merged.to_json_bytes())  # the schema and rules, once more
