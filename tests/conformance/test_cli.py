"""``jgx conformance``: the whole certification flow of the integrator guide, through the command line."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.departments import MarketRegulation
from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore, seal_record
from conformance.checks import SEVERITY_POLICY
from conformance.exportdir import write_export_dir
from gateway._time import format_time
from gateway.cli import main
from gateway.validation import standards_validator
from tests.conformance.conftest import NOW, Certification, serving
from tests.conformance.faulty_adapter import ClueDesk, FaultyAdapter

AT = format_time(NOW)


@pytest.fixture
def files(cert_fed: Certification, tmp_path: Path) -> dict[str, Path]:
    """The certifier's files: signed trust, the hub's signing key, the hub's TLS material."""
    paths = {
        "trust": tmp_path / "trust.signed.json",
        "hub_key": tmp_path / "sc.hub.key",
        "ca": tmp_path / "ca.pem",
        "tls_cert": tmp_path / "sc.hub.pem",
        "tls_key": tmp_path / "sc.hub.tls.key",
    }
    paths["trust"].write_bytes(cert_fed.fed.signed_trust)
    paths["hub_key"].write_bytes(cert_fed.fed.keys["sc.hub"].to_pem())
    paths["ca"].write_bytes(cert_fed.ca_cert)
    paths["tls_cert"].write_bytes(cert_fed.hub_tls.client_cert)
    paths["tls_key"].write_bytes(cert_fed.hub_tls.client_key)
    paths["ca_key"] = tmp_path / "ca.key"
    paths["ca_key"].write_bytes(cert_fed.ca_key)
    paths["retired"] = tmp_path / "retired.key"
    paths["retired"].write_bytes(cert_fed.retired.to_pem())
    paths["probe"] = tmp_path / "sc.probe.key"
    paths["probe"].write_bytes(cert_fed.fed.keys["sc.probe"].to_pem())
    paths["peer"] = tmp_path / "sc.12315.key"
    paths["peer"].write_bytes(cert_fed.fed.keys["sc.12315"].to_pem())
    department = MarketRegulation()
    paths["counts"] = tmp_path / "counts.json"
    paths["counts"].write_text(
        json.dumps({"records": declared(department)})
    )
    return paths


def declared(department: Any) -> dict[str, int]:
    """What a department declares for its test export: records per claimed standard."""
    return {c.standard: len(list(department.export(c.standard))) for c in department.claims()}


def certifier_options(files: dict[str, Path]) -> list[str]:
    """The options that hand the suite what the certifier holds beyond the hub's key."""
    return [
        "--retired-key", str(files["retired"]), "--peer-key", str(files["probe"]),
        "--peer-key", str(files["peer"]), "--tls-ca-key", str(files["ca_key"]),
        "--expect-counts", str(files["counts"]),
    ]  # fmt: skip


@contextlib.contextmanager
def served_in_thread(make: Callable[[], AdapterServicer], cert: Certification) -> Iterator[int]:
    """Serve the adapter `make` builds over mTLS from a thread with its own event loop; its port."""
    ready: list[int] = []
    stop = threading.Event()

    async def serve() -> None:
        async with serving(make(), cert) as port:
            ready.append(port)
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    while not ready:
        threading.Event().wait(0.02)
    yield ready[0]
    stop.set()
    thread.join(timeout=10)


@pytest.fixture
def amr_adapter(cert_fed: Certification, tmp_path: Path) -> Iterator[int]:
    """The market-regulation reference adapter over mTLS, served from a thread with its own event loop."""

    def make() -> AdapterServicer:
        return AdapterServicer(
            identity=AdapterIdentity(
                "sc.amr", cert_fed.fed.keys["sc.amr"], "amr-adapter", "1.0.0", "0f" * 32
            ),
            trust=cert_fed.fed.trust,
            department=MarketRegulation(),
            store=AdapterStore(tmp_path / "amr.sqlite"),
            validate=standards_validator,
            clock=lambda: NOW,
        )

    with served_in_thread(make, cert_fed) as port:
        yield port


def live_run(files: dict[str, Path], port: int, out: Path) -> list[str]:
    """The arguments of a full live run against 127.0.0.1:`port`."""
    return [
        "conformance", "run", "--adapter", f"127.0.0.1:{port}", "--trust", str(files["trust"]),
        "--department", "sc.amr", "--hub-key", str(files["hub_key"]), "--tls-ca", str(files["ca"]),
        "--tls-cert", str(files["tls_cert"]), "--tls-key", str(files["tls_key"]),
        *certifier_options(files), "--budget", "1.5", "--out", str(out), "--at", AT,
    ]  # fmt: skip


def test_a_failed_should_check_still_certifies_exits_0_and_is_recorded(
    cert_fed: Certification, files: dict[str, Path], tmp_path: Path
) -> None:
    """A failed should-check (slow under load) leaves exit 0 and a certificate recording it and the policy."""

    def make() -> AdapterServicer:
        return FaultyAdapter(
            faults={"slow-under-load"}, trust=cert_fed.fed.trust, key=cert_fed.fed.keys["sc.amr"],
            store=AdapterStore(tmp_path / "amr.sqlite"), clock=lambda: NOW,
        )  # fmt: skip

    desk = ClueDesk()
    files["counts"].write_text(json.dumps(declared(desk)))
    with served_in_thread(make, cert_fed) as port:
        run = CliRunner().invoke(main, live_run(files, port, tmp_path / "out"))
    envelope = json.loads((tmp_path / "out" / "certificate.dsse.json").read_text("utf-8"))
    document = json.loads(base64.b64decode(envelope["payload"]))
    assert (0, [{"check": "CF-LATENCY-CONCURRENT", "subject": ""}], SEVERITY_POLICY, True) == (
        run.exit_code,
        document["failedShould"],
        document["severityPolicy"],
        "should-checks failed" in run.output,
    ), run.output


def test_the_certificate_lists_what_was_tested_and_no_class_that_was_not(
    files: dict[str, Path], amr_adapter: int, tmp_path: Path
) -> None:
    """The certificate names the SC-20 classes and standards exercised; partner (the reference adapter has no
    SC-13 record to export) and public (no node is a public destination) are listed as untested."""
    run = CliRunner().invoke(main, live_run(files, amr_adapter, tmp_path / "out"))
    envelope = json.loads((tmp_path / "out" / "certificate.dsse.json").read_text("utf-8"))
    tested = json.loads(base64.b64decode(envelope["payload"]))["tested"]
    assert (0, ["internal", "national"], ["partner", "public"], True) == (
        run.exit_code,
        tested["exportedFor"]["SC-06@1.0.0"],
        tested["untestedDestinationClasses"],
        "SC-14@1.0.0" in tested["deliveredStandards"],
    ), run.output


def test_the_integrator_flow_certifies_the_market_regulation_adapter(
    files: dict[str, Path], amr_adapter: int, tmp_path: Path
) -> None:
    """run → report.html and certificate → verify-cert → recheck, each exiting 0."""
    out = tmp_path / "out"
    runner = CliRunner()
    run = runner.invoke(
        main,
        [
            "conformance",
            "run",
            "--adapter",
            f"127.0.0.1:{amr_adapter}",
            "--trust",
            str(files["trust"]),
            "--department",
            "sc.amr",
            "--hub-key",
            str(files["hub_key"]),
            "--tls-ca",
            str(files["ca"]),
            "--tls-cert",
            str(files["tls_cert"]),
            "--tls-key",
            str(files["tls_key"]),
            *certifier_options(files),
            "--out",
            str(out),
            "--at",
            AT,
        ],
    )
    verify = runner.invoke(
        main,
        [
            "conformance",
            "verify-cert",
            str(out / "certificate.dsse.json"),
            "--trust",
            str(files["trust"]),
            "--at",
            AT,
        ],
    )
    recheck = runner.invoke(main, ["conformance", "recheck", str(out / "evidence.tar")])
    html = (out / "report.html").read_text("utf-8")
    assert (0, 0, 0, True, True) == (
        run.exit_code,
        verify.exit_code,
        recheck.exit_code,
        "sc.amr" in verify.output,
        "结论 通过 / verdict PASS" in html,
    ), run.output + verify.output + recheck.output


def export_dir(cert: Certification, directory: Path, *, tamper: bool = False) -> Path:
    """The market-regulation department's SC-06 records as export files, one signature broken if `tamper`."""
    department = MarketRegulation()
    envelopes = [
        seal_record(r, sender="sc.amr", key=cert.fed.keys["sc.amr"], default_recipient="sc.hub", now=NOW)[1]
        for r in department.export("SC-06")
    ]
    if tamper:
        envelopes[0] = envelopes[0][:-3] + bytes(b ^ 1 for b in envelopes[0][-3:])
    manifest = {
        "node_id": "sc.amr",
        "standards": [{"standard": "SC-06", "standard_version": "1.0.0"}],
        "software_name": "amr-adapter",
        "software_version": "1.0.0",
        "build_digest": "0f" * 32,
        "key_ids": [cert.fed.keys["sc.amr"].key_id],
    }
    write_export_dir(directory, manifest, {"SC-06": envelopes})
    return directory


@pytest.mark.parametrize(("tamper", "expected"), [(False, 0), (True, 1)])
def test_export_files_are_certified_offline(
    cert_fed: Certification, files: dict[str, Path], tmp_path: Path, tamper: bool, expected: int
) -> None:
    """Export files of valid signed records pass (exit 0); one broken signature fails the run (exit 1)."""
    folder = export_dir(cert_fed, tmp_path / "export", tamper=tamper)
    result = CliRunner().invoke(
        main,
        [
            "conformance",
            "run",
            "--export",
            str(folder),
            "--trust",
            str(files["trust"]),
            "--department",
            "sc.amr",
            "--hub-key",
            str(files["hub_key"]),
            "--out",
            str(tmp_path / "out"),
            "--at",
            AT,
        ],
    )
    assert (expected, not tamper) == (result.exit_code, (tmp_path / "out" / "certificate.dsse.json").exists())


def test_an_unreachable_adapter_is_a_usage_error(files: dict[str, Path], tmp_path: Path) -> None:
    """A run against a port nobody listens on exits 2 with a bilingual message."""
    result = CliRunner().invoke(
        main,
        [
            "conformance",
            "run",
            "--adapter",
            "127.0.0.1:1",
            "--trust",
            str(files["trust"]),
            "--department",
            "sc.amr",
            "--hub-key",
            str(files["hub_key"]),
            "--insecure",
            "--timeout",
            "1",
            "--out",
            str(tmp_path / "out"),
            "--at",
            AT,
        ],
    )
    assert (2, True) == (result.exit_code, "UNAVAILABLE" in result.output)


def test_the_check_catalogue_lists_every_check_with_both_languages() -> None:
    """``jgx conformance checks --json`` lists each check once, with clauses and texts in both languages."""
    result = CliRunner().invoke(main, ["conformance", "checks", "--json"])
    checks = json.loads(result.output)
    complete = all(c["clauses"] and c["title_zh"] and c["title_en"] and c["description_zh"] for c in checks)
    assert (0, True, len(checks)) == (result.exit_code, complete, len({c["id"] for c in checks}))


def test_every_clause_of_the_twenty_standards_is_covered_or_routed_to_attestation() -> None:
    """The coverage matrix has no gap: each clause has a check or an attestation reason."""
    result = CliRunner().invoke(main, ["conformance", "coverage", "--json"])
    doc = json.loads(result.output)
    assert (0, 0, 20) == (
        result.exit_code,
        doc["summary"]["gaps"],
        len({c["standard"] for c in doc["clauses"]}),
    )


def test_every_check_of_the_catalogue_appears_in_the_coverage_matrix() -> None:
    """Each check (the issue-13 ones included) covers at least one clause in ``jgx conformance coverage``."""
    result = CliRunner().invoke(main, ["conformance", "coverage", "--json"])
    listed = {check for clause in json.loads(result.output)["clauses"] for check in clause["checks"]}
    catalogue = json.loads(CliRunner().invoke(main, ["conformance", "checks", "--json"]).output)
    assert [] == [c["id"] for c in catalogue if c["id"] not in listed]
