"""``jgx conformance run``: what the certifier hands the suite, read from files (exit 2 on bad input)."""

from __future__ import annotations

from typing import Any

from gateway.cli._common import io_error, io_failure, private_key_from, read_bytes
from gateway.errors import JgxError

__all__ = ["certifier_material", "signed_as"]


def certifier_material(
    trust: Any,
    department: str,
    hub: Any,
    now: Any,
    *,
    insecure: bool,
    tls_files: tuple[str | None, str | None, str | None, str | None],
    revoked_key: str | None,
    retired_key: str | None,
    peer_keys: tuple[str, ...],
    expect_counts: str | None,
) -> dict[str, Any]:
    """The live options made of what the certifier holds: TLS material, keys, declared counts."""
    from conformance.certifier import declared_counts, other_identity
    from conformance.transport import TlsMaterial

    tls_ca, tls_cert, tls_key, tls_ca_key = tls_files
    tls = None
    if not insecure:
        if not (tls_ca and tls_cert and tls_key):
            io_error(
                "需要 --tls-ca/--tls-cert/--tls-key，或 --insecure",
                "give --tls-ca/--tls-cert/--tls-key, or --insecure",
            )
        tls = TlsMaterial(read_bytes(tls_ca), read_bytes(tls_cert), read_bytes(tls_key))
    try:
        counts = declared_counts(read_bytes(expect_counts)) if expect_counts else None
    except ValueError as exc:
        io_failure("申报条数文件无效", "the counts file is not usable", exc)
    other = None
    if tls is not None and tls_ca_key:
        ca_key = read_bytes(tls_ca_key)
        other = other_identity(trust, department, hub.node_id, tls.ca_cert, ca_key, now=now)
    return {
        "tls": tls,
        "other_tls": other,
        "revoked": signed_as(trust, revoked_key) if revoked_key else None,
        "retired": signed_as(trust, retired_key) if retired_key else None,
        "peers": tuple(signed_as(trust, p) for p in peer_keys),
        "expected_counts": counts,
    }


def signed_as(trust: Any, path: str) -> Any:
    """The node a key file's key is registered to, with the key (exit 2 when it is not registered)."""
    from conformance.forgery import SignedAs

    key = private_key_from(path)
    try:
        node, _ = trust.key(key.key_id)
    except JgxError:
        io_error(f"{path} 的密钥不在信任配置中", f"the key in {path} is not in the trust configuration")
    return SignedAs(node.node_id, key)
