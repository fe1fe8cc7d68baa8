"""``jgx conformance``: certify adapters, list checks, coverage, recheck evidence, verify certificates."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from gateway.cli._common import (
    AT_OPTION,
    EXIT_OK,
    EXIT_VERDICT,
    io_error,
    io_failure,
    read_bytes,
    verdict_error,
    when,
)
from gateway.errors import JgxError

__all__ = ["conformance"]


@click.group()
def conformance() -> None:
    """符合性测试 / Certify a department's adapter against the 20 standards.

    \b
    Example (live, mutual TLS, the suite plays the hub):
      jgx conformance run --adapter 127.0.0.1:7601 --trust trust.signed.json --department sc.amr \\
          --hub-key keys/sc.hub.key --tls-ca pki/ca.pem --tls-cert pki/sc.hub.pem --tls-key pki/sc.hub.key \\
          --out conformance-out
      jgx conformance verify-cert conformance-out/certificate.dsse.json --trust trust.signed.json
    """


def _progress(started: float) -> Any:
    def show(step: str) -> None:
        click.echo(f"[{time.perf_counter() - started:6.2f}s] {step}", err=True)

    return show


def _attestations(path: str | None) -> tuple[dict[str, str], ...]:
    if path is None:
        return ()
    try:
        doc = json.loads(read_bytes(path))
    except ValueError as exc:
        io_failure("证明文件不是 JSON", "the attestation file is not JSON", exc)
    items = doc if isinstance(doc, list) else []
    if not all(isinstance(i, dict) and i.get("clause") and i.get("by") and i.get("statement") for i in items):
        io_error(
            "证明文件应为 [{clause, by, statement}] 列表",
            "attestations are a list of {clause, by, statement}",
        )
    return tuple({k: str(v) for k, v in i.items()} for i in items)


@conformance.command("run")
@click.option("--adapter", "target", metavar="HOST:PORT", help="Live adapter to certify over gRPC.")
@click.option(
    "--export", "export_dir", type=click.Path(file_okay=False), help="Or: a directory of export files."
)
@click.option(
    "--trust",
    "trust_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Signed trust configuration.",
)
@click.option("--department", required=True, metavar="NODE", help="Node id of the department under test.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for reports, evidence, certificate.",
)
@click.option(
    "--hub-key",
    type=click.Path(dir_okay=False),
    help="Signing key of the hub node the suite plays (and certifies with).",
)
@click.option(
    "--revoked-key",
    type=click.Path(dir_okay=False),
    help="A revoked key of the federation, for the revoked-key check.",
)
@click.option(
    "--retired-key",
    type=click.Path(dir_okay=False),
    help="A key of the federation whose validity ended a moment before the run.",
)
@click.option(
    "--peer-key",
    "peer_keys",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A key of another node, for the ACL-denied probes (repeatable).",
)
@click.option(
    "--expect-counts",
    type=click.Path(dir_okay=False),
    help='Declared records per standard of the test export: {"SC-06": 3} or `jgx adapter import --json`.',
)
@click.option("--tls-ca", type=click.Path(dir_okay=False), help="Federation CA certificate (PEM).")
@click.option(
    "--tls-ca-key",
    type=click.Path(dir_okay=False),
    help="Federation CA key, to issue another node's certificate for the identity-mismatch probe.",
)
@click.option("--tls-cert", type=click.Path(dir_okay=False), help="The hub's TLS certificate (PEM).")
@click.option("--tls-key", type=click.Path(dir_okay=False), help="The hub's TLS key (PEM).")
@click.option(
    "--insecure",
    is_flag=True,
    help="Development only: plaintext gRPC; TLS checks are skipped, no certificate.",
)
@click.option("--budget", default=2.0, show_default=True, help="Latency budget per call, seconds.")
@click.option(
    "--concurrency", default=50, show_default=True, help="Concurrent Deliver calls in the load check."
)
@click.option("--timeout", default=10.0, show_default=True, help="Deadline per call, seconds.")
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="RULE=LEVEL:REASON",
    help="Re-level a rule (printed on the certificate).",
)
@click.option(
    "--attest",
    "attest_file",
    type=click.Path(dir_okay=False),
    help="JSON list of {clause, by, statement} attestations.",
)
@click.option(
    "--evidence-profile",
    type=click.Choice(["partner", "public", "national", "internal", "recipient"]),
    default="partner",
    show_default=True,
    help="SC-20 destination class the evidence is masked for ('recipient': each exchange's own).",
)
@click.option(
    "--deliver-standard",
    metavar="SC-xx",
    help="Standard of the envelopes delivered (default: a lifecycle one).",
)
@click.option("--validity-days", default=365, show_default=True, help="Certificate validity.")
@AT_OPTION
def run_command(
    target: str | None,
    export_dir: str | None,
    trust_file: str,
    department: str,
    out_dir: str,
    hub_key: str | None,
    revoked_key: str | None,
    retired_key: str | None,
    peer_keys: tuple[str, ...],
    expect_counts: str | None,
    tls_ca: str | None,
    tls_ca_key: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    insecure: bool,
    budget: float,
    concurrency: int,
    timeout: float,
    overrides: tuple[str, ...],
    attest_file: str | None,
    evidence_profile: str | None,
    deliver_standard: str | None,
    validity_days: int,
    at: str | None,
) -> None:
    """Run the suite against a live adapter (--adapter) or export files (--export); write reports.

    \b
    Writes OUT/report.html (bilingual), OUT/report.json, OUT/report.junit.xml, OUT/evidence/ (and
    OUT/evidence.tar) and, when every must-check passes, OUT/certificate.dsse.json signed with --hub-key.
    Exit 0: every must-check passed (failed should-checks are warnings, recorded on the certificate) or
    the run is incomplete (a must-check skipped: no certificate); 1: a must-check failed or erred;
    2: usage or I/O error (adapter unreachable).

    \b
    Example:
      jgx conformance run --adapter 127.0.0.1:7601 --trust trust.signed.json --department sc.amr \\
          --hub-key keys/sc.hub.key --tls-ca pki/ca.pem --tls-cert pki/sc.hub.pem \\
          --tls-key pki/sc.hub.key --out conformance-out
      jgx conformance run --export amr-export/ --trust trust.signed.json --department sc.amr \\
          --hub-key keys/sc.hub.key --out conformance-out
    """
    from conformance.cli_material import certifier_material, signed_as
    from conformance.exportdir import run_export
    from conformance.outputs import finish
    from conformance.report import severities
    from conformance.results import Override
    from conformance.runner import LiveOptions, run_live
    from gateway.trust_update import load_trust

    if (target is None) == (export_dir is None):
        io_error("请给出 --adapter 或 --export 之一", "give exactly one of --adapter or --export")
    now = when(at)
    trust_signed = read_bytes(trust_file)
    try:
        trust = load_trust(trust_signed, now=now)
        parsed = tuple(Override.parse(o) for o in overrides)
    except (JgxError, ValueError) as exc:
        io_failure("参数无效", "invalid input", exc)
    if department not in trust.nodes:
        io_error(f"信任配置中没有节点 {department}", f"the trust configuration has no node {department}")
    hub = signed_as(trust, hub_key) if hub_key else None
    started = time.perf_counter()
    try:
        if export_dir is not None:
            run = run_export(
                Path(export_dir),
                trust_signed,
                department=department,
                now=now,
                overrides=parsed,
                evidence_profile=None if evidence_profile == "recipient" else evidence_profile,
                attestations=_attestations(attest_file),
            )
        else:
            if hub is None:
                io_error("在线认证需要 --hub-key", "a live run needs --hub-key (the suite signs as the hub)")
            material = certifier_material(
                trust, department, hub, now, insecure=insecure,
                tls_files=(tls_ca, tls_cert, tls_key, tls_ca_key), revoked_key=revoked_key,
                retired_key=retired_key, peer_keys=peer_keys, expect_counts=expect_counts,
            )  # fmt: skip
            options = LiveOptions(
                target=str(target),
                department=department,
                hub=hub,
                now=now,
                **material,
                budget_ms=budget * 1000,
                concurrency=concurrency,
                timeout=timeout,
                overrides=parsed,
                evidence_profile=None if evidence_profile == "recipient" else evidence_profile,
                deliver_standard=deliver_standard,
                attestations=_attestations(attest_file),
            )
            run = asyncio.run(run_live(options, trust_signed, _progress(started)))
    except JgxError as exc:
        io_failure("无法完成测试", "the run could not complete", exc)
    outputs = finish(run, Path(out_dir), certifier=hub, validity=timedelta(days=validity_days))
    elapsed = time.perf_counter() - started
    for r in run.results:
        mark = {"pass": "✔", "fail": "✘", "skip": "–", "error": "!"}[r.status]
        click.echo(f"{mark} {r.status:<5} {r.check} {r.subject}")
    should = [r for r in run.results if r.status in ("fail", "error") and severities()[r.check] == "should"]
    if should:
        click.echo(f"\n⚠ 建议项未通过（不影响证书）/ should-checks failed (no effect on the certificate): "
                   f"{', '.join(f'{r.check} {r.subject}'.strip() for r in should)}")  # fmt: skip
    click.echo(f"\n结论 / verdict: {outputs.verdict}  ({elapsed:.1f} s)")
    click.echo(f"报告 / report: {outputs.report_html}")
    click.echo(f"证据包 / evidence: {outputs.evidence} sha256 {outputs.evidence_sha256}")
    if outputs.certificate is not None:
        click.echo(f"证书 / certificate: {outputs.certificate}")
    sys.exit(EXIT_VERDICT if outputs.verdict == "fail" else EXIT_OK)


@conformance.command("checks")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def checks_command(as_json: bool) -> None:
    """List the check catalogue: id, severity, clauses, description in Chinese and English.

    \b
    Example:
      jgx conformance checks
      jgx conformance checks --json > checks.json
    """
    from conformance.checks import CATALOGUE

    if as_json:
        click.echo(json.dumps([c.to_json() for c in CATALOGUE], ensure_ascii=False, indent=1))
        return
    for c in CATALOGUE:
        click.echo(f"{c.id:<32} {c.severity:<6} {', '.join(c.clauses)}")
        click.echo(f"    {c.title_zh}：{c.description_zh}")
        click.echo(f"    {c.title_en}: {c.description_en}")


@conformance.command("coverage")
@click.option("--json", "as_json", is_flag=True, help="Print the matrix as JSON.")
@click.option("--standard", metavar="SC-xx", help="Only this standard.")
def coverage_command(as_json: bool, standard: str | None) -> None:
    """Show, for every clause of the 20 standards, the checks that cover it or why a person must attest.

    \b
    Example:
      jgx conformance coverage --standard SC-17
    """
    from conformance.coverage import coverage_matrix, summary

    rows = [r for r in coverage_matrix() if standard is None or r.standard == standard]
    if as_json:
        click.echo(
            json.dumps(
                {"summary": summary(rows), "clauses": [r.to_json() for r in rows]},
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    for r in rows:
        what = (
            ", ".join(r.checks)
            if r.checks
            else (f"需人工证明 / attest: {r.attestation_en}" if r.state == "attestation" else "GAP")
        )
        click.echo(f"{r.ref:<12} {r.title_zh} / {r.title_en}\n    {what}")
    s = summary(rows)
    click.echo(
        f"\n{s['clauses']} clauses: {s['checked']} checked, {s['attestation']} need attestation, "
        f"{s['gaps']} gaps"
    )


@conformance.command("recheck")
@click.argument("bundle", type=click.Path(exists=True))
def recheck_command(bundle: str) -> None:
    """Re-derive every verdict offline from an evidence bundle (directory or .tar), without the adapter.

    \b
    Exit 0 when the bundle is intact and the re-derived verdicts equal the recorded ones, else 1.
    Example:
      jgx conformance recheck conformance-out/evidence.tar
    """
    from conformance.outputs import recheck

    try:
        done = recheck(Path(bundle))
    except JgxError as exc:
        verdict_error(exc)
    for r in done.results:
        click.echo(f"{r.status:<5} {r.check} {r.subject}")
    click.echo(f"\n证据包 / bundle sha256 {done.digest}\n结论 / verdict (re-derived): {done.verdict}")
    if done.differences:
        click.echo("与记录的结论不一致 / differs from the recorded verdicts:")
        for check, subject, was, now in done.differences:
            click.echo(f"  {check} {subject}: recorded {was}, re-derived {now}")
        sys.exit(EXIT_VERDICT)
    click.echo("与记录的结论一致 / matches the recorded verdicts")


@conformance.command("verify-cert")
@click.argument("certificate", type=click.Path(dir_okay=False))
@click.option(
    "--trust",
    "trust_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Signed trust configuration.",
)
@AT_OPTION
def verify_cert_command(certificate: str, trust_file: str, at: str | None) -> None:
    """Verify a conformance certificate offline and print what it certifies.

    \b
    Exit 0: valid; 1: invalid (signature, signer, expiry); 2: unreadable input.
    Example:
      jgx conformance verify-cert conformance-out/certificate.dsse.json --trust trust.signed.json
    """
    from conformance.certificate import verify_certificate
    from gateway.trust_update import load_trust

    now = when(at)
    try:
        trust = load_trust(read_bytes(trust_file), now=now)
    except JgxError as exc:
        io_failure("信任配置无效", "invalid trust configuration", exc)
    try:
        certified = verify_certificate(read_bytes(certificate), trust, now=now)
    except JgxError as exc:
        io_failure("证书无效", "certificate INVALID", exc, code=EXIT_VERDICT)
    d = certified.document
    adapter, dept = d["adapter"], d["department"]
    lines = [
        "证书有效 / certificate VALID",
        f"部门 / department: {dept['nodeId']} {dept['nameZh']} / {dept['nameEn']}",
        f"适配器 / adapter: {adapter['softwareName']} {adapter['softwareVersion']}",
        f"构建摘要 / build digest: {adapter['buildDigest']}",
        f"清单摘要 / manifest sha256: {adapter['manifestSha256']}",
        f"标准 / standards: {', '.join(adapter['standards'])}",
        f"套件 / suite: {d['suite']['name']} {d['suite']['version']} "
        f"(catalogue {d['suite']['catalogueSha256'][:16]}…)",
        f"规则集 / rule sets: {len(d['ruleSets'])} digests",
        f"证据包 / evidence sha256: {d['evidenceSha256']}",
        f"信任配置 / trust: v{d['trust']['version']} sha256 {d['trust']['sha256'][:16]}…",
        f"结果 / results: {d['results']}",
        f"未通过的建议项 / failed should-checks: "
        f"{', '.join(f['check'] for f in d.get('failedShould', [])) or 'none'}",
        "已测接收方类别 / destination classes tested: "
        + ", ".join(d.get("tested", {}).get("destinationClasses", [])),
        f"规则调整 / overrides: {d['overrides'] or 'none'}",
        f"人工证明 / attestations: {len(d['attestations'])}",
        f"签发 / issued: {d['issuedAt']} by {certified.signer} (key {certified.key_id[:16]}…)",
        f"到期 / expires: {d['expiresAt']}",
    ]
    click.echo("\n".join(lines))
    sys.exit(EXIT_OK)
