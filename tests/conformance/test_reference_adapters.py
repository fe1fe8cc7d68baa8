"""The reference department adapters pass the whole live suite over mutual TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.departments import DEPARTMENTS, NODES, SAMPLES
from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore
from conformance.runner import run_live
from gateway.pki import issue_node_certificate
from gateway.tls import server_credentials
from gateway.validation import standards_validator
from tests.conformance.conftest import NOW, Certification, serving


@pytest.mark.parametrize("name", sorted(DEPARTMENTS))
async def test_a_reference_adapter_passes_every_check(
    cert_fed: Certification, tmp_path: Path, name: str
) -> None:
    """The market-regulation, 12315 and spot-check reference adapters pass every check of the suite."""
    node = NODES[name]
    department = DEPARTMENTS[name](SAMPLES)
    counts = {c.standard: len(list(department.export(c.standard))) for c in department.claims()}
    servicer = AdapterServicer(
        identity=AdapterIdentity(node, cert_fed.fed.keys[node], f"{name}-adapter", "1.0.0", "0f" * 32),
        trust=cert_fed.fed.trust,
        department=department,
        store=AdapterStore(tmp_path / "a.sqlite"),
        validate=standards_validator,
        clock=lambda: NOW,
    )
    cert, key = issue_node_certificate(cert_fed.ca_cert, cert_fed.ca_key, node, now=NOW)
    async with serving(
        servicer, cert_fed, credentials=server_credentials(cert, key, cert_fed.ca_cert)
    ) as port:
        options = cert_fed.options(port, department=node, expected_counts=counts)
        run = await run_live(options, cert_fed.fed.signed_trust)
    failed = [(r.check, r.subject, r.status, r.details[:2]) for r in run.results if r.status != "pass"]
    assert [] == failed
