"""What the certifier hands the suite besides the hub's key: declared counts, peer keys, another identity.

Read from files by ``jgx conformance run``; each helper raises ValueError with a message a person can
act on, which the CLI turns into a usage error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from conformance.results import InputError
from conformance.transport import TlsMaterial
from gateway.trust import TrustConfig

__all__ = ["declared_counts", "other_identity"]

_ELSEWHERE = "cf.elsewhere"


def declared_counts(data: bytes) -> dict[str, int]:
    """Record counts per standard from ``{"SC-06": 3, …}`` or the report of ``jgx adapter import --json``."""
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"申报条数文件不是 JSON（第 {exc.lineno} 行第 {exc.colno} 列）",
            f"the counts file is not JSON: {exc}",
        ) from None
    except ValueError as exc:  # not UTF-8
        raise InputError("申报条数文件不是 UTF-8 文本", f"the counts file is not UTF-8 text: {exc}") from None
    counts = doc.get("records", doc) if isinstance(doc, Mapping) else None
    if not isinstance(counts, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in counts.items()
    ):
        raise InputError(
            '申报条数文件应为标准到条数的映射: {"SC-06": 3} 或 {"records": {…}}',
            'the counts file must map standards to counts: {"SC-06": 3} or {"records": {…}}',
        )
    return {str(k): int(v) for k, v in counts.items()}


def other_identity(
    trust: TrustConfig, department: str, hub: str, ca_cert: bytes, ca_key: bytes, *, now: datetime
) -> TlsMaterial:
    """An mTLS identity of another node (neither the hub nor the department), issued by the federation CA."""
    from gateway.pki import issue_node_certificate

    others = sorted(n for n in trust.nodes if n not in (department, hub))
    departments = [n for n in others if trust.nodes[n].role == "department"]
    node_id = (departments or others or [_ELSEWHERE])[0]
    cert, key = issue_node_certificate(ca_cert, ca_key, node_id, now=now)
    return TlsMaterial(ca_cert, cert, key)
