"""The conformance certificate: a DSSE JSON document binding what was certified, signed by the certifier.

It binds the suite (name, version, catalogue digest), the digests of the rule sets of all 20 standards
used, the adapter (its manifest, the manifest's digest and its build digest), the evidence bundle's
digest, the department's node id, the trust configuration's version and digest, the issue and expiry
dates, the rule overrides applied, the coverage summary and the attestations recorded. Anyone holding
the trust configuration verifies it offline; the signer must be a node with role ``hub`` (the
certifier), with a key that is registered, unrevoked and valid.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from conformance.checks import SEVERITY_POLICY, SUITE_NAME, SUITE_VERSION, by_id, catalogue_digest
from conformance.results import Result, RunInfo, counts
from gateway._json import loads_strict
from gateway._time import format_time, parse_time
from gateway.dsse import CERTIFICATE_TYPE, json_envelope_parts, pae, sign_json_envelope
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import PrivateKey
from gateway.trust import TrustConfig

__all__ = [
    "CERTIFICATE_SCHEMA",
    "Certified",
    "canonical_digest",
    "certificate_document",
    "ruleset_digests",
    "sign_certificate",
    "verify_certificate",
]

CERTIFICATE_SCHEMA: Final = "jgx.conformance-certificate/v1"
CERTIFIER_ROLES: Final = frozenset({"hub"})


def canonical_digest(doc: Any) -> str:
    """SHA-256 (hex) of a JSON value written canonically (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ruleset_digests() -> list[dict[str, str]]:
    """For every standard version shipped: SHA-256 over its rule-set files (standard.json, schema.json)."""
    import standards
    from standards.catalogue import DATA_DIR

    rows = []
    for std in standards.catalogue():
        folder = Path(DATA_DIR) / std.id / std.version
        digest = hashlib.sha256()
        for name in ("standard.json", "schema.json"):
            path = folder / name
            if path.exists():
                data = path.read_bytes()
                digest.update(b"%s %d\n" % (name.encode(), len(data)))
                digest.update(data)
        rows.append({"standard": std.id, "version": std.version, "sha256": digest.hexdigest()})
    return rows


def certificate_document(
    *,
    info: RunInfo,
    results: Sequence[Result],
    manifest: Mapping[str, Any],
    evidence_sha256: str,
    trust: TrustConfig,
    trust_signed: bytes,
    issuer: str,
    issued_at: datetime,
    validity: timedelta,
    coverage: Mapping[str, int],
    tested: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The certificate's payload for a passing run; `tested` is what the run actually exercised."""
    node = trust.nodes[info.department]
    return {
        "schema": CERTIFICATE_SCHEMA,
        "suite": {"name": SUITE_NAME, "version": SUITE_VERSION, "catalogueSha256": catalogue_digest()},
        "department": {
            "nodeId": node.node_id,
            "nameZh": node.name_zh,
            "nameEn": node.name_en,
            "uscc": node.uscc,
        },
        "adapter": {
            "softwareName": manifest.get("software_name", ""),
            "softwareVersion": manifest.get("software_version", ""),
            "buildDigest": manifest.get("build_digest", ""),
            "keyIds": list(manifest.get("key_ids", [])),
            "standards": [
                f"{c.get('standard')}@{c.get('standard_version')}" for c in manifest.get("standards", [])
            ],
            "manifestSha256": canonical_digest(dict(manifest)),
            "manifest": dict(manifest),
        },
        "mode": info.mode,
        "ruleSets": ruleset_digests(),
        "trust": {"version": trust.version, "sha256": hashlib.sha256(trust_signed).hexdigest()},
        "evidenceSha256": evidence_sha256,
        "results": counts(results),
        "skipped": sorted({r.check for r in results if r.status == "skip"}),
        "severityPolicy": SEVERITY_POLICY,
        "failedShould": [
            {"check": r.check, "subject": r.subject}
            for r in results
            if r.status in ("fail", "error") and by_id(r.check).severity == "should"
        ],
        "tested": dict(tested or {}),
        "overrides": [o.to_json() for o in info.overrides],
        "coverage": dict(coverage),
        "attestations": [dict(a) for a in info.attestations],
        "issuer": issuer,
        "issuedAt": format_time(issued_at),
        "expiresAt": format_time(issued_at + validity),
    }


def sign_certificate(document: Mapping[str, Any], key: PrivateKey) -> bytes:
    """The DSSE JSON envelope of the certificate, signed by the certifier's key."""
    payload = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    return json.dumps(sign_json_envelope(payload, CERTIFICATE_TYPE, [key]), indent=1).encode("utf-8") + b"\n"


@dataclass(frozen=True, slots=True)
class Certified:
    """A verified certificate: its document and who signed it."""

    document: Mapping[str, Any]
    signer: str
    key_id: str


def verify_certificate(data: bytes, trust: TrustConfig, *, now: datetime) -> Certified:
    """Verify a certificate offline against `trust` at `now`; VerificationError naming the failed step."""
    # (1) The DSSE JSON shape and the payload type.
    payload, payload_type, signatures = json_envelope_parts(loads_strict(data, what="certificate"))
    if payload_type != CERTIFICATE_TYPE:
        raise VerificationError(ReasonCode.PAYLOAD_TYPE_UNKNOWN, f"payloadType {payload_type[:80]!r}")
    # (2) A signature by a certifier's registered, unrevoked, valid key.
    signed = pae(payload_type, payload)
    failures: list[str] = []
    signer: tuple[str, str] | None = None
    for key_id, sig in signatures:
        try:
            node, record = trust.key(key_id)
        except VerificationError as exc:
            failures.append(exc.reason.value)
            continue
        if node.role not in CERTIFIER_ROLES:
            failures.append(f"{node.node_id} is a {node.role}, not a certifier")
        elif record.revoked:
            failures.append(ReasonCode.KEY_REVOKED.value)
        elif not record.valid_at(now):
            failures.append(ReasonCode.KEY_NOT_VALID.value)
        elif record.public_key.verify(sig, signed):
            signer = (node.node_id, record.key_id)
            break
        else:
            failures.append(ReasonCode.SIGNATURE_INVALID.value)
    if signer is None:
        reason = ReasonCode.SIGNATURE_MISSING if not signatures else ReasonCode.SIGNATURE_INVALID
        if failures and all(f == ReasonCode.KEY_UNKNOWN.value for f in failures):
            reason = ReasonCode.KEY_UNKNOWN
        raise VerificationError(reason, "; ".join(failures) or "no signature")
    # (3) Only now read the document, and check what it says about itself.
    document = loads_strict(payload, what="certificate payload")
    if not isinstance(document, dict) or document.get("schema") != CERTIFICATE_SCHEMA:
        raise VerificationError(ReasonCode.MALFORMED, f"not a {CERTIFICATE_SCHEMA} document")
    if document.get("issuer") != signer[0]:
        raise VerificationError(
            ReasonCode.SENDER_KEY_MISMATCH, f"issuer {document.get('issuer')!r}, signed by {signer[0]}"
        )
    # (4) Validity period.
    issued, expires = parse_time(str(document.get("issuedAt"))), parse_time(str(document.get("expiresAt")))
    if now < issued - trust.clock_skew:
        raise VerificationError(ReasonCode.NOT_YET_VALID, f"issued {document.get('issuedAt')}")
    if now > expires:
        raise VerificationError(ReasonCode.EXPIRED, f"expired {document.get('expiresAt')}")
    return Certified(document, signer[0], signer[1])
