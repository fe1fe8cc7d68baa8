"""Certificates: what they bind, and offline verification that refuses forgeries, wrong signers and expiry."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from conformance.certificate import certificate_document, sign_certificate, verify_certificate
from conformance.results import Override, Result, RunInfo
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import generate_key
from tests.conformance.conftest import NOW, Certification

MANIFEST = {
    "node_id": "sc.amr",
    "standards": [{"standard": "SC-06", "standard_version": "1.0.0"}],
    "software_name": "amr-adapter",
    "software_version": "1.0.0",
    "build_digest": "ab" * 32,
    "key_ids": ["00" * 32],
}


def make_certificate(cert: Certification, key_node: str = "sc.hub", *, key: object = None) -> bytes:
    info = RunInfo(
        "live", "sc.amr", NOW, overrides=(Override("SC-06.R012", "warning", "口径差异 / local reading"),)
    )
    document = certificate_document(
        info=info,
        results=[Result("CF-DESCRIBE-MANIFEST", "pass")],
        manifest=MANIFEST,
        evidence_sha256="cd" * 32,
        trust=cert.fed.trust,
        trust_signed=cert.fed.signed_trust,
        issuer=key_node,
        issued_at=NOW,
        validity=timedelta(days=365),
        coverage={"clauses": 1},
    )
    return sign_certificate(document, key or cert.fed.keys[key_node])  # type: ignore[arg-type]


def test_a_certificate_binds_the_adapter_rule_sets_evidence_and_overrides(cert_fed: Certification) -> None:
    """A verified certificate names the department, build digest, rule-set digests, evidence, overrides."""
    certified = verify_certificate(make_certificate(cert_fed), cert_fed.fed.trust, now=NOW)
    doc = certified.document
    assert ("sc.hub", "sc.amr", "ab" * 32, "cd" * 32, "SC-06.R012", True) == (
        certified.signer,
        doc["department"]["nodeId"],
        doc["adapter"]["buildDigest"],
        doc["evidenceSha256"],
        doc["overrides"][0]["rule"],
        len({r["standard"] for r in doc["ruleSets"]}) == 20,
    )


def test_a_changed_payload_is_refused(cert_fed: Certification) -> None:
    """Editing the certified document after signing makes the signature fail."""
    envelope = json.loads(make_certificate(cert_fed))
    document = json.loads(base64.b64decode(envelope["payload"]))
    document["adapter"]["buildDigest"] = "ff" * 32
    envelope["payload"] = base64.b64encode(json.dumps(document).encode()).decode()
    with pytest.raises(VerificationError) as caught:
        verify_certificate(json.dumps(envelope).encode(), cert_fed.fed.trust, now=NOW)
    assert ReasonCode.SIGNATURE_INVALID == caught.value.reason


def test_an_expired_certificate_is_refused(cert_fed: Certification) -> None:
    """After its expiry date the certificate no longer verifies."""
    with pytest.raises(VerificationError) as caught:
        verify_certificate(make_certificate(cert_fed), cert_fed.fed.trust, now=NOW + timedelta(days=366))
    assert ReasonCode.EXPIRED == caught.value.reason


def test_a_department_cannot_certify_itself(cert_fed: Certification) -> None:
    """A certificate signed with a department's registered key is refused: only the hub certifies."""
    with pytest.raises(VerificationError) as caught:
        verify_certificate(make_certificate(cert_fed, "sc.amr"), cert_fed.fed.trust, now=NOW)
    assert ("not a certifier" in caught.value.detail, ReasonCode.SIGNATURE_INVALID) == (
        True,
        caught.value.reason,
    )


def test_a_certificate_from_an_unknown_key_is_refused(cert_fed: Certification) -> None:
    """A certificate signed with a key outside the trust configuration is KEY_UNKNOWN."""
    with pytest.raises(VerificationError) as caught:
        verify_certificate(make_certificate(cert_fed, key=generate_key()), cert_fed.fed.trust, now=NOW)
    assert ReasonCode.KEY_UNKNOWN == caught.value.reason
