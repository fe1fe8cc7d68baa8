"""After a run: the evidence bundle, the reports, the certificate on a pass; and the offline recheck."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from conformance.certificate import certificate_document, sign_certificate
from conformance.coverage import coverage_matrix, summary
from conformance.evidence import load_bundle, redact, write_bundle
from conformance.forgery import SignedAs
from conformance.judging import judge_run
from conformance.judging_probes import tested_scope
from conformance.report import report_json, report_junit, severities
from conformance.report_html import report_html
from conformance.results import Result, RunInfo, Verdict, overall
from conformance.runner import Run
from gateway.trust_update import load_trust

__all__ = ["Outputs", "Recheck", "finish", "recheck"]


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where a run's results went."""

    verdict: Verdict
    evidence_sha256: str
    evidence: Path
    report_json: Path
    report_junit: Path
    report_html: Path
    certificate: Path | None


def finish(
    run: Run, out: Path, *, certifier: SignedAs | None, validity: timedelta = timedelta(days=365)
) -> Outputs:
    """Write the evidence bundle, then the certificate (on a pass, with a certifier key), then the reports."""
    out.mkdir(parents=True, exist_ok=True)
    evidence = out / "evidence"
    digest = write_bundle(run.bundle, evidence)
    coverage = coverage_matrix()
    verdict = overall(run.results, severities())
    manifest = redact(dict(run.manifest)) if run.manifest is not None else None
    certificate: Path | None = None
    if verdict == "pass" and certifier is not None and manifest is not None:
        trust = load_trust(run.bundle.trust_signed, now=run.info.now)
        attested = [str(a.get("clause", "")) for a in run.info.attestations]
        document = certificate_document(
            info=run.info,
            results=run.results,
            manifest=manifest,
            evidence_sha256=digest,
            trust=trust,
            trust_signed=run.bundle.trust_signed,
            issuer=certifier.node_id,
            issued_at=run.info.now,
            validity=validity,
            coverage=summary(coverage, attested),
            tested=tested_scope(run.info, run.bundle.exchanges),
        )
        certificate = out / "certificate.dsse.json"
        certificate.write_bytes(sign_certificate(document, certifier.key))
    shown = certificate.name if certificate else None
    kwargs = {
        "manifest": manifest,
        "coverage": coverage,
        "evidence_sha256": digest,
        "exchanges": run.bundle.exchanges,
        "certificate": shown,
    }
    paths = (out / "report.json", out / "report.junit.xml", out / "report.html")
    paths[0].write_bytes(report_json(run.info, run.results, **kwargs))  # type: ignore[arg-type]
    paths[1].write_bytes(report_junit(run.info, run.results, run.bundle.exchanges))
    paths[2].write_bytes(report_html(run.info, run.results, **kwargs))  # type: ignore[arg-type]
    return Outputs(verdict, digest, evidence, *paths, certificate)


@dataclass(frozen=True, slots=True)
class Recheck:
    """Verdicts re-derived from a bundle, and where they differ from the ones it recorded."""

    info: RunInfo
    digest: str
    results: list[Result]
    recorded: list[Result]
    verdict: Verdict

    @property
    def differences(self) -> list[tuple[str, str, str, str]]:
        """(check, subject, recorded status, re-derived status) wherever the two disagree."""
        recorded = {r.key: r.status for r in self.recorded}
        derived = {r.key: r.status for r in self.results}
        return [
            (check, subject, recorded.get((check, subject), "—"), derived.get((check, subject), "—"))
            for check, subject in sorted(set(recorded) | set(derived))
            if recorded.get((check, subject)) != derived.get((check, subject))
        ]


def recheck(path: Path) -> Recheck:
    """Load a bundle (its digests checked) and judge its recorded exchanges again, offline."""
    bundle = load_bundle(path)
    info = RunInfo.from_json(bundle.run)
    trust = load_trust(bundle.trust_signed, now=info.now)
    results = judge_run(info, trust, bundle.exchanges, ca_cert=bundle.ca_cert)
    recorded = [Result.from_json(r) for r in bundle.results]
    return Recheck(info, bundle.digest, results, recorded, overall(results, severities()))
