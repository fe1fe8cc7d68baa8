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


async def test_an_sm2_adapter_is_certified_with_an_sm2_signed_certificate(tmp_path: Path) -> None:
    """In a 国密 federation the market-regulation adapter passes every check and its certificate is SM2."""
    import json
    from datetime import timedelta

    from conformance.certificate import certificate_document, sign_certificate, verify_certificate
    from conformance.results import RunInfo
    from gateway.keys import Algorithm
    from tests.conformance.conftest import certification_federation

    sm2_fed = certification_federation(Algorithm.SM2_SM3)
    node = NODES["amr"]
    department = DEPARTMENTS["amr"](SAMPLES)
    counts = {c.standard: len(list(department.export(c.standard))) for c in department.claims()}
    servicer = AdapterServicer(
        identity=AdapterIdentity(node, sm2_fed.fed.keys[node], "amr-adapter", "1.0.0", "0f" * 32),
        trust=sm2_fed.fed.trust,
        department=department,
        store=AdapterStore(tmp_path / "a.sqlite"),
        validate=standards_validator,
        clock=lambda: NOW,
    )
    cert, key = issue_node_certificate(sm2_fed.ca_cert, sm2_fed.ca_key, node, now=NOW)
    async with serving(servicer, sm2_fed, credentials=server_credentials(cert, key, sm2_fed.ca_cert)) as port:
        options = sm2_fed.options(port, department=node, expected_counts=counts)
        run = await run_live(options, sm2_fed.fed.signed_trust)
    assert [] == [(r.check, r.subject, r.status) for r in run.results if r.status != "pass"]
    document = certificate_document(
        info=RunInfo("live", node, NOW), results=run.results, manifest={"node_id": node},
        evidence_sha256="cd" * 32, trust=sm2_fed.fed.trust, trust_signed=sm2_fed.fed.signed_trust,
        issuer="sc.hub", issued_at=NOW, validity=timedelta(days=365), coverage={"clauses": 1},
    )  # fmt: skip
    signed = sign_certificate(document, sm2_fed.fed.keys["sc.hub"])
    signer_key = json.loads(signed)["signatures"][0]["keyid"]
    assert Algorithm.SM2_SM3 == sm2_fed.fed.trust.key(signer_key)[1].algorithm
    assert "sc.hub" == verify_certificate(signed, sm2_fed.fed.trust, now=NOW).signer
