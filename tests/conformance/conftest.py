"""Shared fixtures: a federation with a revoked hub key, the federation's PKI, adapters on real sockets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from adapters.sdk import AdapterServicer, serve_adapter
from conformance.foreign import foreign_ca, foreign_identity
from conformance.forgery import SignedAs
from conformance.runner import LiveOptions
from conformance.transport import TlsMaterial
from gateway.keys import Algorithm, PrivateKey, generate_key
from gateway.pki import create_ca, issue_node_certificate
from gateway.testing import Federation
from gateway.tls import server_credentials
from gateway.trust import AclEntry, Node, key_record

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
#: Small enough that the "slow" faults are caught quickly, large enough for loopback calls on a busy CI box.
BUDGET_MS = 1500.0


@dataclass(frozen=True)
class Certification:
    """A federation prepared for certification: trust with a revoked and a just-lapsed hub key, a probe
    node the ACL lets send only SC-14 to the hub, and mTLS material (plus a CA outside the federation)."""

    fed: Federation
    revoked: PrivateKey
    retired: PrivateKey
    ca_cert: bytes
    ca_key: bytes
    amr_tls: tuple[bytes, bytes]  # (cert, key) of the adapter under test
    hub_tls: TlsMaterial  # what the suite connects with
    other_tls: TlsMaterial  # another node's (sc.12315) identity from the federation CA
    foreign_ca: tuple[bytes, bytes]  # a CA outside the federation (cert, key)

    def options(self, port: int, *, tls: bool = True, **overrides: object) -> LiveOptions:
        """Live options for the adapter at 127.0.0.1:`port`."""
        department = str(overrides.get("department", "sc.amr"))
        fields: dict[str, object] = {
            "target": f"127.0.0.1:{port}",
            "department": "sc.amr",
            "hub": SignedAs("sc.hub", self.fed.keys["sc.hub"]),
            "now": NOW,
            "revoked": SignedAs("sc.hub", self.revoked),
            "retired": SignedAs("sc.hub", self.retired),
            "peers": tuple(
                SignedAs(n, k) for n, k in sorted(self.fed.keys.items()) if n not in ("sc.hub", department)
            ),
            "tls": self.hub_tls if tls else None,
            "other_tls": self.other_tls if department != "sc.12315" else self.other_tls_for("sc.sjs"),
            "foreign": foreign_identity("sc.hub", self.ca_cert, now=NOW, ca=self.foreign_ca),
            "budget_ms": BUDGET_MS,
            "export_limit": 5,
        }
        fields.update(overrides)
        return LiveOptions(**fields)  # type: ignore[arg-type]

    def other_tls_for(self, node_id: str) -> TlsMaterial:
        """`node_id`'s mTLS identity from the federation CA."""
        cert, key = issue_node_certificate(self.ca_cert, self.ca_key, node_id, now=NOW)
        return TlsMaterial(self.ca_cert, cert, key)


def certification_federation(algorithm: Algorithm = Algorithm.ED25519) -> Certification:
    """A federation whose hub also has a revoked key and a key that lapsed a minute before NOW, with a
    probe node (ACL: SC-14 to the hub only); a CA and node certificates; a CA outside the federation.
    Every signing key is of `algorithm`."""
    fed = Federation.create(NOW, algorithm=algorithm)
    probe = generate_key(algorithm)
    fed.keys["sc.probe"] = probe
    trust = fed.trust.with_node(
        Node("sc.probe", "符合性测试探针节点", "conformance probe node", "department",
             (key_record(probe.public_key),), region="510000", gateway="sc.hub")
    ).with_acl(AclEntry("sc.probe", ("sc.hub",), ("SC-14",)))  # fmt: skip
    revoked, retired = generate_key(algorithm), generate_key(algorithm)
    trust = trust.with_node_key("sc.hub", key_record(revoked.public_key)).with_key_revoked(revoked.key_id)
    trust = trust.with_node_key(
        "sc.hub",
        key_record(
            retired.public_key, valid_from=NOW - timedelta(days=30), valid_to=NOW - timedelta(minutes=1)
        ),
    )
    fed.resign(trust)
    ca_cert, ca_key = create_ca("jgx test federation", NOW)
    amr = issue_node_certificate(ca_cert, ca_key, "sc.amr", now=NOW)
    hub_cert, hub_key = issue_node_certificate(ca_cert, ca_key, "sc.hub", now=NOW)
    other_cert, other_key = issue_node_certificate(ca_cert, ca_key, "sc.12315", now=NOW)
    return Certification(
        fed, revoked, retired, ca_cert, ca_key, amr, TlsMaterial(ca_cert, hub_cert, hub_key),
        TlsMaterial(ca_cert, other_cert, other_key), foreign_ca(NOW),
    )  # fmt: skip


@pytest.fixture(scope="session")
def cert_fed() -> Certification:
    return certification_federation()


@contextlib.asynccontextmanager
async def serving(
    servicer: AdapterServicer,
    cert: Certification,
    *,
    tls: bool = True,
    credentials: grpc.ServerCredentials | None = None,
) -> AsyncIterator[int]:
    """Serve `servicer` on an ephemeral loopback port (with mTLS as sc.amr unless `tls` is False)."""
    if tls and credentials is None:
        credentials = server_credentials(cert.amr_tls[0], cert.amr_tls[1], cert.ca_cert)
    async with serve_adapter(servicer, credentials=credentials) as running:
        yield running.port
