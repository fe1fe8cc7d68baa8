"""Reports of a run: JSON for machines, JUnit XML for CI, and (in `report_html`) a bilingual HTML page."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from conformance.checks import CATALOGUE, GROUPS, SUITE_NAME, SUITE_VERSION, by_id
from conformance.coverage import ClauseCoverage, summary
from conformance.evidence import Exchange
from conformance.judging import parse_receipt
from conformance.results import Result, RunInfo, counts, overall
from gateway.pb.jgx.exchange.v1 import exchange_pb2

__all__ = ["describe_exchange", "report_json", "report_junit", "severities"]


def severities() -> dict[str, str]:
    """check id -> severity."""
    return {c.id: c.severity for c in CATALOGUE}


def describe_exchange(x: Exchange) -> dict[str, Any]:
    """What was sent and what came back, for people: headers, digests, decoded receipts, statuses."""
    sent: dict[str, Any] = {"rpc": x.rpc, "probe": x.probe}
    for name in (
        "forgery",
        "sha256",
        "size",
        "header",
        "payload",
        "maskedPointers",
        "standard",
        "version",
        "recipient",
        "destination",
        "kind",
    ):
        if name in x.request and x.request[name] not in (None, "", []):
            sent[name] = x.request[name]
    came: dict[str, Any] = {"status": x.response.get("status", "")}
    for name in ("reason", "detail", "tlsVersion"):
        if x.response.get(name):
            came[name] = x.response[name]
    parsed = parse_receipt(x)
    if parsed is not None:
        envelope, receipt = parsed
        came["receipt"] = {
            "outcome": exchange_pb2.Outcome.Name(receipt.outcome).removeprefix("OUTCOME_"),
            "reasonCodes": list(receipt.reason_codes),
            "envelopeSha256": receipt.envelope_sha256.hex(),
            "messageId": receipt.message_id,
            "issuer": receipt.issuer,
            "logIndex": receipt.log_index,
            "signatures": [s.key_id[:16] + "…" for s in envelope.signatures],
        }
    if "manifest" in x.response:
        came["manifest"] = x.response["manifest"]
    if "envelopes" in x.response:
        items = list(x.response["envelopes"])
        came["records"] = len(items)
        came["redacted"] = sum(1 for i in items if i.get("redacted"))
    return {
        "seq": x.seq,
        "durationMs": x.duration_ms,
        "concurrency": x.concurrency,
        "sent": sent,
        "returned": came,
    }


def report_json(
    info: RunInfo,
    results: Sequence[Result],
    *,
    manifest: Mapping[str, Any] | None,
    coverage: Sequence[ClauseCoverage],
    evidence_sha256: str,
    exchanges: Sequence[Exchange],
    certificate: str | None = None,
) -> bytes:
    """The machine-readable report."""
    attested = [str(a.get("clause", "")) for a in info.attestations]
    failing = {seq for r in results if r.status in ("fail", "error") for seq in r.exchanges}
    doc = {
        "suite": {"name": SUITE_NAME, "version": SUITE_VERSION},
        "run": info.to_json(),
        "verdict": overall(results, severities()),
        "counts": counts(results),
        "manifest": manifest,
        "results": [{**r.to_json(), "severity": by_id(r.check).severity} for r in results],
        "coverage": {"summary": summary(coverage, attested), "clauses": [c.to_json() for c in coverage]},
        "evidenceSha256": evidence_sha256,
        "failureEvidence": [describe_exchange(x) for x in exchanges if x.seq in failing],
        "certificate": certificate,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8") + b"\n"


def report_junit(info: RunInfo, results: Sequence[Result], exchanges: Sequence[Exchange]) -> bytes:
    """JUnit XML: one testsuite per check group, one testcase per result."""
    durations = {x.seq: x.duration_ms for x in exchanges}
    tally = counts(results)
    root = ET.Element(
        "testsuites",
        name=f"{SUITE_NAME} {info.department}",
        tests=str(len(results)),
        failures=str(tally["fail"]),
        errors=str(tally["error"]),
        skipped=str(tally["skip"]),
    )
    for group, (zh, en) in GROUPS.items():
        members = [r for r in results if by_id(r.check).group == group]
        if not members:
            continue
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{group} — {zh} / {en}",
            tests=str(len(members)),
            failures=str(sum(r.status == "fail" for r in members)),
            errors=str(sum(r.status == "error" for r in members)),
            skipped=str(sum(r.status == "skip" for r in members)),
        )
        for r in members:
            check = by_id(r.check)
            seconds = sum(durations.get(s, 0.0) for s in r.exchanges) / 1000
            name = f"{r.check}[{r.subject}]" if r.subject else r.check
            case = ET.SubElement(
                suite, "testcase", classname=f"conformance.{group}", name=name, time=f"{seconds:.3f}"
            )
            text = "\n".join(f"{zh_line} / {en_line}" for zh_line, en_line in r.details)
            message = f"{check.title_zh} / {check.title_en}: {r.zh} / {r.en}"
            if r.status == "fail":
                ET.SubElement(case, "failure", message=message, type=check.severity).text = text
            elif r.status == "error":
                ET.SubElement(case, "error", message=message).text = text
            elif r.status == "skip":
                ET.SubElement(case, "skipped", message=f"{r.zh} / {r.en}")
            ET.SubElement(case, "system-out").text = f"evidence exchanges: {list(r.exchanges)}"
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"
