"""Shared fixtures: a federation with a revoked hub key, the federation's PKI, adapters on real sockets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import pytest

from adapters.sdk import AdapterServicer, serve_adapter
from conformance.forgery import SignedAs
from conformance.runner import LiveOptions
from conformance.transport import TlsMaterial
from gateway.keys import PrivateKey, generate_key
from gateway.pki import create_ca, issue_node_certificate
from gateway.testing import Federation
from gateway.tls import server_credentials
from gateway.trust import key_record

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
#: Small enough that the "slow" faults are caught quickly, large enough for loopback calls on a busy CI box.
BUDGET_MS = 1500.0


@dataclass(frozen=True)
class Certification:
    """A federation prepared for certification: trust with a revoked hub key, and mTLS material."""

    fed: Federation
    revoked: PrivateKey
    ca_cert: bytes
    ca_key: bytes
    amr_tls: tuple[bytes, bytes]  # (cert, key) of the adapter under test
    hub_tls: TlsMaterial  # what the suite connects with

    def options(self, port: int, *, tls: bool = True, **overrides: object) -> LiveOptions:
        """Live options for the adapter at 127.0.0.1:`port`."""
        fields: dict[str, object] = {
            "target": f"127.0.0.1:{port}",
            "department": "sc.amr",
            "hub": SignedAs("sc.hub", self.fed.keys["sc.hub"]),
            "now": NOW,
            "revoked": SignedAs("sc.hub", self.revoked),
            "tls": self.hub_tls if tls else None,
            "budget_ms": BUDGET_MS,
            "export_limit": 5,
        }
        fields.update(overrides)
        return LiveOptions(**fields)  # type: ignore[arg-type]


def certification_federation() -> Certification:
    """A federation whose hub also has a revoked key; a CA and node certificates for sc.amr and sc.hub."""
    fed = Federation.create(NOW)
    revoked = generate_key()
    fed.resign(
        fed.trust.with_node_key("sc.hub", key_record(revoked.public_key)).with_key_revoked(revoked.key_id)
    )
    ca_cert, ca_key = create_ca("jgx test federation", NOW)
    amr = issue_node_certificate(ca_cert, ca_key, "sc.amr", now=NOW)
    hub_cert, hub_key = issue_node_certificate(ca_cert, ca_key, "sc.hub", now=NOW)
    return Certification(fed, revoked, ca_cert, ca_key, amr, TlsMaterial(ca_cert, hub_cert, hub_key))


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
