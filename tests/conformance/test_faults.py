"""The suite against a deliberately faulty adapter: each fault caught by its check, the clean one passes."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from adapters.sdk import AdapterStore
from conformance.outputs import finish, recheck
from conformance.runner import Run, run_live
from tests.conformance.conftest import NOW, Certification, serving
from tests.conformance.faulty_adapter import EXPECTED, ClueDesk, FaultyAdapter, serving_credentials


async def certify(cert: Certification, tmp_path: Path, faults: frozenset[str]) -> Run:
    """Serve the faulty adapter with `faults` over mTLS and run the whole live suite against it."""
    servicer = FaultyAdapter(
        faults=faults,
        trust=cert.fed.trust,
        key=cert.fed.keys["sc.amr"],
        store=AdapterStore(tmp_path / "adapter.sqlite"),
        clock=lambda: NOW,
    )
    credentials = serving_credentials(
        faults, cert.ca_cert, cert.ca_key, cert.amr_tls, now=NOW, foreign_ca=cert.foreign_ca[0]
    )
    desk = ClueDesk()
    counts = {c.standard: len(list(desk.export(c.standard))) for c in desk.claims()}
    async with serving(servicer, cert, credentials=credentials) as port:
        return await run_live(cert.options(port, expected_counts=counts), cert.fed.signed_trust)


def not_passed(run: Run) -> set[str]:
    return {r.check for r in run.results if r.status != "pass"}


# An identifier may appear in a Chinese line (a reason code, node id, pointer, rule id, camelCase field
# name, digest); a plain lowercase English word may not.
_IDENTIFIER = re.compile(r"[\w./@:+*…\-]*(?:[A-Z0-9_./@:+*…\-])[\w./@:+*…\-]*")
_ENGLISH_WORD = re.compile(r"\b[a-z]{2,}\b")


def english_in_chinese(run: Run) -> list[str]:
    """The Chinese lines of the run's results that carry English words."""
    lines = [line for r in run.results for line in (r.zh, *(zh for zh, _ in r.details))]
    return [line for line in lines if _ENGLISH_WORD.search(_IDENTIFIER.sub(" ", line))]


async def test_the_clean_adapter_passes_every_check_and_is_certified(
    cert_fed: Certification, tmp_path: Path
) -> None:
    """With no fault switched on, every check passes and a certificate is issued."""
    run = await certify(cert_fed, tmp_path, frozenset())
    outputs = finish(run, tmp_path / "out", certifier=cert_fed.options(0).hub)
    assert (set(), "pass", True) == (not_passed(run), outputs.verdict, outputs.certificate is not None)


@pytest.mark.parametrize("fault", sorted(EXPECTED))
async def test_each_fault_is_caught_by_its_expected_checks(
    cert_fed: Certification, tmp_path: Path, fault: str
) -> None:
    """A fault makes exactly its expected checks fail (OIDF-style expected failures), and nothing else; the
    Chinese lines of its report are wholly Chinese."""
    run = await certify(cert_fed, tmp_path, frozenset({fault}))
    assert (set(EXPECTED[fault]), []) == (not_passed(run), english_in_chinese(run))


async def test_one_wrong_key_makes_one_line_per_standard_and_evidence_only_of_failures(
    cert_fed: Certification, tmp_path: Path
) -> None:
    """Records signed with a key the manifest does not list give one grouped line per standard, and the
    report's failure evidence holds only exchanges that failed (no Describe, no accepted delivery)."""
    run = await certify(cert_fed, tmp_path, frozenset({"manifest-wrong-key"}))
    finish(run, tmp_path / "out", certifier=None)
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    signature = [r for r in run.results if r.check == "CF-EXPORT-SIGNATURE" and r.status == "fail"]
    shown = {x["sent"]["rpc"] for x in report["failureEvidence"]}
    assert (True, [1] * len(signature), {"Describe", "Export"}) == (
        len(signature) >= 5,
        [len(r.details) for r in signature],
        shown,
    )


async def test_without_the_certifiers_material_its_checks_are_skipped_and_nothing_is_certified(
    cert_fed: Certification, tmp_path: Path
) -> None:
    """No peer keys, CA key or declared counts: exactly those checks skip (the lapsed-key probe falls back to
    the registered key id), the run is incomplete and no certificate is written."""
    servicer = FaultyAdapter(
        faults=(), trust=cert_fed.fed.trust, key=cert_fed.fed.keys["sc.amr"],
        store=AdapterStore(tmp_path / "adapter.sqlite"), clock=lambda: NOW,
    )  # fmt: skip
    async with serving(servicer, cert_fed) as port:
        options = cert_fed.options(port, peers=(), retired=None, other_tls=None, expected_counts=None)
        run = await run_live(options, cert_fed.fed.signed_trust)
    outputs = finish(run, tmp_path / "out", certifier=cert_fed.options(0).hub)
    skipped = {r.check for r in run.results if r.status == "skip"}
    assert (
        {"CF-DELIVER-NEG-ACL-DENIED", "CF-DELIVER-NEG-IDENTITY", "CF-EXPORT-COUNT"},
        skipped,
        "incomplete",
        None,
    ) == (skipped, not_passed(run), outputs.verdict, outputs.certificate)


async def test_recheck_rederives_the_verdicts_of_a_failing_run_offline(
    cert_fed: Certification, tmp_path: Path
) -> None:
    """Recheck of the written bundle re-derives the same per-check verdicts without the adapter."""
    run = await certify(cert_fed, tmp_path, frozenset({"unsigned-receipt", "accepts-expired"}))
    finish(run, tmp_path / "out", certifier=cert_fed.options(0).hub)
    done = recheck(tmp_path / "out" / "evidence.tar")
    expected = {(r.check, r.subject, r.status) for r in run.results}
    assert (expected, [], "fail") == (
        {(r.check, r.subject, r.status) for r in done.results},
        done.differences,
        done.verdict,
    )


async def test_recheck_does_not_trust_the_recorded_verdicts(cert_fed: Certification, tmp_path: Path) -> None:
    """Rewriting results.json to "pass" (and the digests to match) is caught: recheck derives "fail" again."""
    run = await certify(cert_fed, tmp_path, frozenset({"accepts-tampered"}))
    finish(run, tmp_path / "out", certifier=cert_fed.options(0).hub)
    evidence = tmp_path / "out" / "evidence"
    results = json.loads((evidence / "results.json").read_text("utf-8"))
    for result in results:
        result["status"] = "pass"
    (evidence / "results.json").write_text(json.dumps(results), "utf-8")
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in evidence.iterdir()
        if p.name != "MANIFEST.json"
    }
    (evidence / "MANIFEST.json").write_text(json.dumps({"files": files, "algorithm": "sha256"}), "utf-8")
    done = recheck(evidence)
    assert ([("CF-DELIVER-NEG-TAMPERED", "", "pass", "fail")], "fail") == (done.differences, done.verdict)
