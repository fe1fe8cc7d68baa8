"""Verdicts on completeness: every claimed standard received, every declared record exported. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.evidence import Exchange
from conformance.grouping import failing_result
from conformance.judging_export import claims_of, manifest_of
from conformance.results import Result, RunInfo
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

__all__ = ["DESTINATION_CLASSES", "judge_claimed", "judge_export_count", "tested_scope"]

#: The SC-20 destination classes (standards/masking.py profiles).
DESTINATION_CLASSES = ("internal", "national", "partner", "public")


def _accepted(x: Exchange) -> bool:
    from conformance.judging import parse_receipt

    parsed = parse_receipt(x)
    return parsed is not None and parsed[1].outcome == exchange_pb2.OUTCOME_ACCEPTED


def judge_claimed(info: RunInfo, trust: TrustConfig, exchanges: Sequence[Exchange]) -> list[Result]:
    """CF-DELIVER-CLAIMED, one result per claimed standard the hub may send the department."""
    from conformance.judging import said_zh

    _, manifest = manifest_of(exchanges)
    results = []
    for standard, version in claims_of(manifest):
        if not trust.allows(info.hub, standard, info.department):
            continue
        subject = f"{standard}@{version}"
        calls = [
            x for x in exchanges
            if x.rpc == "Deliver" and x.subject == subject and x.probe in ("valid", "claimed")
        ]  # fmt: skip
        if not calls:
            skipped = next((x for x in exchanges if x.rpc == "Skip" and x.subject == subject), None)
            why = dict(skipped.response) if skipped is not None else {}
            zh = why.get("zh", "未投递该标准的报文")
            en = why.get("en", "no envelope of this standard was delivered")
            results.append(Result("CF-DELIVER-CLAIMED", "error", subject, zh, en))
            continue
        problems = [
            (f"#{x.seq} {said_zh(x)}，应为接收", f"#{x.seq} delivery of {subject} not accepted")
            for x in calls
            if not _accepted(x)
        ]
        seqs = [x.seq for x in calls]
        results.append(
            failing_result("CF-DELIVER-CLAIMED", problems, seqs, subject)
            if problems
            else Result("CF-DELIVER-CLAIMED", "pass", subject, "通过", "passed", (), tuple(seqs))
        )
    return results


def judge_export_count(info: RunInfo, trust: TrustConfig, exchanges: Sequence[Exchange]) -> list[Result]:  # noqa: ARG001
    """CF-EXPORT-COUNT, one result per claimed standard: the full export holds the declared count."""
    declared = info.extra.get("expectedCounts")
    _, manifest = manifest_of(exchanges)
    claims = claims_of(manifest)
    if not isinstance(declared, dict):
        why = ("部门未申报测试导出的记录条数（--expect-counts）",
               "the department declared no record counts for its test export (--expect-counts)")  # fmt: skip
        return [Result("CF-EXPORT-COUNT", "skip", f"{s}@{v}", *why) for s, v in claims]
    results = []
    for standard, version in claims:
        subject = f"{standard}@{version}"
        expected = int(declared.get(standard, 0))
        calls = [x for x in exchanges if x.rpc == "Export" and x.probe == "export-count"
                 and x.request.get("standard") == standard]  # fmt: skip
        if not calls:
            why = ("未执行完整导出", "no full export was made")
            results.append(Result("CF-EXPORT-COUNT", "error", subject, *why))
            continue
        x = calls[0]
        got = len(x.response.get("envelopes", []))
        if x.response.get("status") == "OK" and got == expected:
            results.append(Result("CF-EXPORT-COUNT", "pass", subject, "通过", "passed", (), (x.seq,)))
            continue
        problem = (
            f"#{x.seq} 导出 {got} 条，申报 {expected} 条（状态 {x.response.get('status')}）",
            f"#{x.seq} exported {got} records, {expected} declared (status {x.response.get('status')})",
        )
        results.append(failing_result("CF-EXPORT-COUNT", [problem], [x.seq], subject))
    return results


def tested_scope(info: RunInfo, exchanges: Sequence[Exchange]) -> dict[str, object]:  # noqa: ARG001
    """What the run actually exercised: SC-20 destination classes per exported standard, the standards
    delivered and accepted, and the refusal probes sent (for the certificate)."""
    classes: dict[str, set[str]] = {}
    for x in exchanges:
        if x.rpc == "Export" and x.response.get("status") == "OK" and x.response.get("envelopes"):
            subject = f"{x.request.get('standard')}@{x.request.get('version')}"
            classes.setdefault(subject, set()).add(str(x.request.get("destination", "")))
    delivered = sorted({x.subject for x in exchanges if x.rpc == "Deliver" and x.probe in ("valid", "claimed")
                        and _accepted(x)})  # fmt: skip
    probes = sorted({x.probe for x in exchanges if x.rpc == "Deliver"})
    tested = {c for cs in classes.values() for c in cs}
    return {
        "exportedFor": {s: sorted(c) for s, c in sorted(classes.items())},
        "destinationClasses": sorted(tested),
        # SC-20 classes no export went to (the ACL lets the department send there nowhere): not certified.
        "untestedDestinationClasses": [c for c in DESTINATION_CLASSES if c not in tested],
        "deliveredStandards": delivered,
        "probes": probes,
    }
