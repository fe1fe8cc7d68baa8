"""Verdicts on the manifest (Describe) and on exported records (Export), from recorded exchanges. Pure."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from conformance.assess import Assessment, assess_envelope
from conformance.evidence import Exchange, unb64
from conformance.grouping import failing_result
from conformance.results import Override, Result, RunInfo
from gateway.errors import VerificationError
from gateway.trust import TrustConfig

__all__ = ["claims_of", "judge_describe", "judge_export", "manifest_of"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIELD_ZH = {"sender": "发送方", "recipient": "接收方", "standard": "标准", "standard_version": "标准版本"}


def manifest_of(exchanges: Sequence[Exchange]) -> tuple[Exchange | None, Mapping[str, Any] | None]:
    """The Describe exchange of the run and the manifest it returned (None when it failed)."""
    for x in exchanges:
        if x.rpc == "Describe" and x.probe == "describe":
            manifest = x.response.get("manifest")
            return x, manifest if x.response.get("status") == "OK" and isinstance(manifest, Mapping) else None
    return None, None


def claims_of(manifest: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(standard, version) pairs the manifest claims."""
    if manifest is None:
        return []
    return [
        (str(c.get("standard", "")), str(c.get("standard_version", "")))
        for c in manifest.get("standards", [])
    ]


def _r(
    check: str, ok: bool, problems: Sequence[tuple[str, str]], seqs: Iterable[int], subject: str = ""
) -> Result:
    if ok and not problems:
        return Result(check, "pass", subject, "通过", "passed", (), tuple(seqs))
    return failing_result(check, problems, seqs, subject)


def judge_describe(info: RunInfo, trust: TrustConfig, exchanges: Sequence[Exchange]) -> list[Result]:
    """CF-DESCRIBE-MANIFEST and CF-DESCRIBE-TRUST."""
    x, manifest = manifest_of(exchanges)
    if x is None:
        return [
            Result(c, "error", "", "未取得清单", "no Describe exchange was recorded")
            for c in ("CF-DESCRIBE-MANIFEST", "CF-DESCRIBE-TRUST")
        ]
    if manifest is None:
        why = (
            f"Describe 调用失败: {x.response.get('status')}",
            f"Describe failed: {x.response.get('status')} "
            f"{x.response.get('reason', '')} {x.response.get('detail', '')}",
        )
        return [
            Result(c, "fail", "", "未取得清单", "no manifest", (why,), (x.seq,))
            for c in ("CF-DESCRIBE-MANIFEST", "CF-DESCRIBE-TRUST")
        ]
    missing: list[tuple[str, str]] = []
    for name in ("node_id", "software_name", "software_version", "build_digest"):
        if not str(manifest.get(name, "")).strip():
            missing.append((f"缺少 {name}", f"{name} is missing"))
    if manifest.get("build_digest") and not _HEX64.fullmatch(str(manifest["build_digest"])):
        missing.append(("build_digest 不是 64 位小写十六进制", "build_digest is not 64 lowercase hex digits"))
    if not manifest.get("standards"):
        missing.append(("未声明任何标准", "no standard is claimed"))
    if not manifest.get("key_ids"):
        missing.append(("未列出签名密钥标识", "no key id is listed"))
    for standard, version in claims_of(manifest):
        if not standard or not version:
            missing.append(("标准声明不完整", f"incomplete claim {standard!r}@{version!r}"))
    results = [_r("CF-DESCRIBE-MANIFEST", True, missing, (x.seq,))]
    results.append(_r("CF-DESCRIBE-TRUST", True, _trust_problems(info, trust, manifest), (x.seq,)))
    return results


def _trust_problems(info: RunInfo, trust: TrustConfig, manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    node_id = str(manifest.get("node_id", ""))
    if node_id != info.department:
        problems.append(
            (
                f"清单节点 {node_id} 不是受认证部门 {info.department}",
                f"manifest node {node_id!r} is not the department under test {info.department!r}",
            )
        )
    node = trust.nodes.get(info.department)
    if node is None:
        return [
            *problems,
            (
                f"信任配置中没有节点 {info.department}",
                f"the trust configuration has no node {info.department}",
            ),
        ]
    if node.role != "department":
        problems.append((f"节点角色为 {node.role}", f"node role is {node.role!r}, not department"))
    for key_id in manifest.get("key_ids", []):
        try:
            owner, record = trust.key(str(key_id))
        except VerificationError:
            problems.append(
                (f"密钥 {str(key_id)[:16]}… 未登记", f"key {str(key_id)[:16]}… is not registered")
            )
            continue
        if owner.node_id != info.department:
            problems.append(
                (
                    f"密钥 {record.key_id[:16]}… 属于 {owner.node_id}",
                    f"key {record.key_id[:16]}… belongs to {owner.node_id}",
                )
            )
        elif record.revoked or not record.valid_at(info.now):
            problems.append(
                (
                    f"密钥 {record.key_id[:16]}… 已吊销或不在有效期",
                    f"key {record.key_id[:16]}… is revoked or not valid",
                )
            )
    try:
        import standards

        cat = standards.catalogue()
    except ImportError:  # pragma: no cover
        return [*problems, ("标准库不可用", "the standards package is unavailable")]
    for standard, version in claims_of(manifest):
        try:
            chosen = cat.get(standard, version)
        except Exception:  # noqa: BLE001 - the catalogue's own error family; any failure means "unknown"
            problems.append((f"未知标准 {standard}@{version}", f"unknown standard {standard}@{version}"))
            continue
        if not chosen.in_force(info.now.date()):
            problems.append((f"{standard}@{version} 不在有效期", f"{standard}@{version} is not in force"))
        others = [n for n in trust.nodes if n != info.department]
        sends = any(trust.allows(info.department, standard, r) for r in others)
        receives = any(trust.allows(s, standard, info.department) for s in others)
        if not (sends or receives):
            problems.append(
                (
                    f"访问控制既不允许发送也不允许接收 {standard}",
                    f"the ACL neither lets the department send nor receive {standard}",
                )
            )
    return problems


def _level(finding: Mapping[str, str], overrides: Sequence[Override]) -> str:
    for override in overrides:
        if override.rule == finding.get("ruleId"):
            return override.severity
    return finding.get("severity", "error")


def _facts(x: Exchange, item: Mapping[str, Any], trust: TrustConfig, info: RunInfo) -> tuple[Assessment, str]:
    """The facts about one recorded export item and how they were obtained ("verified" or "recorded")."""
    if "envelopeB64" in item:
        facts, _ = assess_envelope(
            unb64(str(item["envelopeB64"])),
            trust,
            now=info.now,
            destination=str(x.request.get("destination")),
        )
        return facts, "verified"
    return Assessment.from_json(dict(item.get("atRun", {}))), "recorded"


def judge_export(info: RunInfo, trust: TrustConfig, exchanges: Sequence[Exchange]) -> list[Result]:
    """CF-EXPORT-STREAM, -SIGNATURE, -HEADER, -RECORDS and -MASKING, one result per claimed standard."""
    _, manifest = manifest_of(exchanges)
    claims = claims_of(manifest)
    key_ids = {str(k) for k in (manifest or {}).get("key_ids", [])}
    checks = (
        "CF-EXPORT-STREAM",
        "CF-EXPORT-SIGNATURE",
        "CF-EXPORT-HEADER",
        "CF-EXPORT-RECORDS",
        "CF-EXPORT-MASKING",
    )
    if not claims:
        return [Result(c, "skip", "", "清单未声明标准", "the manifest claims no standard") for c in checks]
    problems: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    seqs: dict[str, list[int]] = defaultdict(list)
    seen_ids: set[str] = set()
    records: dict[str, int] = defaultdict(int)
    for standard, version in claims:
        subject = f"{standard}@{version}"
        calls = [x for x in exchanges if x.rpc == "Export" and x.request.get("standard") == standard]
        if not calls:
            problems[("CF-EXPORT-STREAM", subject)].append(("未导出", "no export was recorded"))
        for x in calls:
            seqs[subject].append(x.seq)
            recipient = str(x.request.get("recipient", ""))
            where = f"#{x.seq} →{recipient}"
            if x.response.get("status") != "OK":
                problems[("CF-EXPORT-STREAM", subject)].append(
                    (
                        f"{where} 导出失败 {x.response.get('reason', '')}",
                        f"{where} Export failed: {x.response.get('status')} {x.response.get('reason', '')}",
                    )
                )
                continue
            items = list(x.response.get("envelopes", []))
            records[subject] += len(items)
            for n, item in enumerate(items, start=1):
                facts, how = _facts(x, item, trust, info)
                # "*": judged from the facts recorded at run time (the payload is masked in the evidence).
                at = f"{where} [{n}{'' if how == 'verified' else '*'}]"
                note = ""
                _judge_item(
                    info, trust, facts, at, note, (standard, version, recipient), key_ids, seen_ids, problems
                )
    results: list[Result] = []
    if not any(records.values()):
        why = ("所声明的标准均未导出任何记录", "no claimed standard exported any record")
        results.append(Result("CF-EXPORT-STREAM", "fail", "", "未通过", "failed", (why,), ()))
    for check in checks:
        for standard, version in claims:
            subject = f"{standard}@{version}"
            if check != "CF-EXPORT-STREAM" and not records[subject]:
                continue  # nothing exported (a standard the department only receives): nothing to judge
            found = problems.get((check, subject), [])
            result = _r(check, True, found, seqs[subject], subject)
            if check == "CF-EXPORT-STREAM" and not found and not records[subject]:
                empty = (
                    "0 条记录（该部门仅接收此标准）",
                    "0 records (a standard the department only receives)",
                )
                result = Result(check, "pass", subject, "通过", "passed", (empty,), tuple(seqs[subject]))
            results.append(result)
    return results


def _judge_item(
    info: RunInfo,
    trust: TrustConfig,
    facts: Assessment,
    at: str,
    note: str,
    asked: tuple[str, str, str],
    key_ids: set[str],
    seen_ids: set[str],
    problems: dict[tuple[str, str], list[tuple[str, str]]],
) -> None:
    standard, version, recipient = asked
    subject = f"{standard}@{version}"

    def add(check: str, zh: str, en: str) -> None:
        problems[(check, subject)].append((f"{at} {zh}", f"{at} {en}{note}"))

    if facts.signature != "ok":
        add("CF-EXPORT-SIGNATURE", f"签名无效 {facts.signature}", f"signature: {facts.signature}")
    elif facts.signer != info.department:
        add(
            "CF-EXPORT-SIGNATURE", f"签名者为 {facts.signer}", f"signed by {facts.signer}, not the department"
        )
    elif key_ids and facts.key_id not in key_ids:
        add("CF-EXPORT-SIGNATURE", "签名密钥不在清单中", f"key {facts.key_id[:16]}… is not in the manifest")
    header = facts.header
    if header is None:
        add("CF-EXPORT-HEADER", "报文无法解析", "the body is not a Message")
        return
    expected = {
        "sender": info.department,
        "recipient": recipient,
        "standard": standard,
        "standard_version": version,
    }
    for name, value in expected.items():
        if header.get(name, "") != value:
            add(
                "CF-EXPORT-HEADER",
                f"{_FIELD_ZH[name]}为 {header.get(name, '')}，应为 {value}",
                f"{name} is {header.get(name, '')!r}, expected {value!r}",
            )
    if facts.fields_problem:
        add("CF-EXPORT-HEADER", "报文头格式错误", f"MALFORMED: {facts.fields_problem}")
    message_id = str(header.get("message_id", ""))
    if message_id in seen_ids:
        add("CF-EXPORT-HEADER", f"报文标识重复 {message_id}", f"message id {message_id} repeats")
    seen_ids.add(message_id)
    try:
        issued = _time(header.get("issued_at"))
        expires = _time(header.get("expires_at"))
        if not issued - trust.clock_skew <= info.now <= expires:
            add(
                "CF-EXPORT-HEADER",
                "报文不在有效期",
                f"not fresh: issued {issued:%F %T}, expires {expires:%F %T}",
            )
    except (TypeError, ValueError):
        add("CF-EXPORT-HEADER", "缺少签发或过期时间", "issued_at / expires_at missing")
    if not trust.allows(info.department, standard, recipient):
        add(
            "CF-EXPORT-HEADER", "访问控制不允许", f"the ACL denies {info.department} → {recipient} {standard}"
        )
    for finding in facts.findings:
        if _level(finding, info.overrides) == "error":
            add(
                "CF-EXPORT-RECORDS",
                f"{finding['ruleId']} {finding['pointer']} {finding['messageZh']}",
                f"{finding['ruleId']} {finding['pointer']} {finding['messageEn']}",
            )
    for finding in facts.masking:
        if _level(finding, info.overrides) == "error":
            add(
                "CF-EXPORT-MASKING",
                f"{finding['ruleId']} {finding['pointer']} {finding['messageZh']}",
                f"{finding['ruleId']} {finding['pointer']} {finding['messageEn']}",
            )


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError("no time")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
