"""The bilingual HTML report: summary, a matrix per standard, coverage, and every failure with its evidence.

Server-side string templating; every value from the run passes through `html.escape`. No scripts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, Final

from conformance.checks import CATALOGUE, GROUPS, SUITE_NAME, SUITE_VERSION, by_id
from conformance.coverage import ClauseCoverage, summary
from conformance.evidence import Exchange
from conformance.report import describe_exchange, severities
from conformance.results import Result, RunInfo, counts, overall

__all__ = ["report_html"]

_STATUS: Final = {
    "pass": ("通过", "pass"),
    "fail": ("未通过", "fail"),
    "skip": ("跳过", "skip"),
    "error": ("出错", "error"),
}
_VERDICT: Final = {
    "pass": ("通过", "PASS"),
    "fail": ("未通过", "FAIL"),
    "incomplete": ("未完成", "INCOMPLETE"),
}
_STYLE: Final = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:14px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}
.pass{background:#e6f4ea}.fail{background:#fce8e6}.error{background:#fde2c8}
.skip{background:#eee}.mono{font-family:ui-monospace,monospace;font-size:12px}pre{white-space:pre-wrap;margin:0}
.verdict{font-size:1.6em;padding:.3em .6em;display:inline-block}small{color:#666}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _badge(status: str) -> str:
    zh, en = _STATUS.get(status, (status, status))
    return f'<td class="{_e(status)}">{_e(zh)} / {_e(en)}</td>'


def _summary(
    info: RunInfo,
    results: Sequence[Result],
    manifest: Mapping[str, Any] | None,
    evidence: str,
    certificate: str | None,
) -> str:
    verdict = overall(results, severities())
    zh, en = _VERDICT[verdict]
    tally = counts(results)
    m = manifest or {}
    rows = [
        ("受认证部门", "department", info.department),
        ("适配器", "adapter", f"{m.get('software_name', '?')} {m.get('software_version', '?')}"),
        ("构建摘要", "build digest", m.get("build_digest", "")),
        (
            "所声明标准",
            "claimed standards",
            ", ".join(f"{c.get('standard')}@{c.get('standard_version')}" for c in m.get("standards", [])),
        ),
        ("方式", "mode", f"{info.mode} {info.target}"),
        ("时间", "time", info.now.isoformat()),
        ("时延预算", "latency budget", f"{info.budget_ms:.0f} ms, {info.concurrency} concurrent"),
        ("传输安全", "transport", "mTLS" if info.tls else "未检验 / not tested (--insecure)"),
        ("证据包摘要", "evidence SHA-256", evidence),
        ("证书", "certificate", certificate or "未签发 / not issued"),
        (
            "规则调整",
            "rule overrides",
            "; ".join(f"{o.rule}→{o.severity} ({o.reason})" for o in info.overrides) or "无 / none",
        ),
    ]
    table = "".join(f"<tr><th>{_e(a)} / {_e(b)}</th><td class=mono>{_e(v)}</td></tr>" for a, b, v in rows)
    counts_row = " · ".join(f"{_e(_STATUS[s][0])} / {_e(s)}: {n}" for s, n in tally.items())
    css = "pass" if verdict == "pass" else "skip" if verdict == "incomplete" else "fail"
    return (
        f'<p class="verdict {css}">结论 {_e(zh)} / verdict {_e(en)}</p><p>{counts_row}</p>'
        f"<table>{table}</table>"
    )


def _checks_table(results: Sequence[Result]) -> str:
    rows = []
    for group, (gzh, gen) in GROUPS.items():
        members = [r for r in results if by_id(r.check).group == group]
        if not members:
            continue
        rows.append(f'<tr><th colspan="5">{_e(gzh)} / {_e(gen)}</th></tr>')
        for r in members:
            c = by_id(r.check)
            rows.append(
                f"<tr><td class=mono>{_e(r.check)}</td><td>{_e(r.subject)}</td>"
                f"<td>{_e(c.title_zh)}<br><small>{_e(c.title_en)}</small></td>"
                f"<td class=mono>{_e(', '.join(c.clauses))}<br>{_e(c.severity)}</td>{_badge(r.status)}</tr>"
            )
    head = (
        "<tr><th>检查 / check</th><th>对象 / subject</th><th>内容 / what</th>"
        "<th>条款 / clauses</th><th>结果 / result</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _standard_matrix(results: Sequence[Result]) -> str:
    subjects = sorted({r.subject for r in results if r.subject})
    checks = [c.id for c in CATALOGUE if c.group == "export"]
    if not subjects:
        return "<p>无导出记录 / no exported records</p>"
    by_key = {(r.check, r.subject): r.status for r in results}
    head = "".join(f"<th class=mono>{_e(c.removeprefix('CF-EXPORT-'))}</th>" for c in checks)
    rows = "".join(
        f"<tr><th class=mono>{_e(s)}</th>"
        + "".join(_badge(by_key[(c, s)]) if (c, s) in by_key else "<td>—</td>" for c in checks)
        + "</tr>"
        for s in subjects
    )
    return f"<table><tr><th>标准 / standard</th>{head}</tr>{rows}</table>"


def _coverage(coverage: Sequence[ClauseCoverage], results: Sequence[Result], info: RunInfo) -> str:
    attested = {str(a.get("clause", "")): a for a in info.attestations}
    status: dict[str, set[str]] = {}
    for r in results:
        status.setdefault(r.check, set()).add(r.status)
    s = summary(coverage, attested)
    parts = [
        f"<p>条款 / clauses {s['clauses']} · 自动检查 / checked {s['checked']} · 需人工证明 / attestation "
        f"{s['attestation']}（已证明 / attested {s['attested']}）· 缺口 / gaps {s['gaps']}</p>"
    ]
    for standard in sorted({c.standard for c in coverage}):
        rows = []
        for c in (c for c in coverage if c.standard == standard):
            if c.checks:
                cell = ", ".join(f"{ck} ({'/'.join(sorted(status.get(ck, {'not run'})))})" for ck in c.checks)
            elif c.ref in attested:
                a = attested[c.ref]
                cell = f"已证明 / attested: {a.get('by', '')} — {a.get('statement', '')}"
            elif c.state == "attestation":
                cell = f"需人工证明 / attestation needed: {c.attestation_zh} / {c.attestation_en}"
            else:
                cell = "缺口 / gap"
            rows.append(
                f"<tr><td class=mono>{_e(c.ref)}</td><td>{_e(c.title_zh)} / {_e(c.title_en)}</td>"
                f"<td class=mono>{_e(cell)}</td></tr>"
            )
        parts.append(f"<details><summary>{_e(standard)}</summary><table>{''.join(rows)}</table></details>")
    return "".join(parts)


def _failures(results: Sequence[Result], exchanges: Sequence[Exchange]) -> str:
    by_seq = {x.seq: x for x in exchanges}
    blocks = []
    for r in results:
        if r.status not in ("fail", "error"):
            continue
        c = by_id(r.check)
        details = "".join(f"<li>{_e(zh)}<br><small>{_e(en)}</small></li>" for zh, en in r.details)
        evidence = []
        for seq in r.exchanges[:6]:
            if seq in by_seq:
                text = json.dumps(describe_exchange(by_seq[seq]), ensure_ascii=False, indent=1)
                evidence.append(f"<pre class=mono>{_e(text)}</pre>")
        more = f"<p>… {len(r.exchanges) - 6} more in the evidence bundle</p>" if len(r.exchanges) > 6 else ""
        blocks.append(
            f'<section class="{_e(r.status)}"><h3 class=mono>{_e(r.check)} {_e(r.subject)}</h3>'
            f"<p>{_e(c.description_zh)}<br><small>{_e(c.description_en)}</small></p><ul>{details}</ul>"
            f"<h4>发送与返回 / sent and returned</h4>{''.join(evidence)}{more}</section>"
        )
    return "".join(blocks) or "<p>无 / none</p>"


def report_html(
    info: RunInfo,
    results: Sequence[Result],
    *,
    manifest: Mapping[str, Any] | None,
    coverage: Sequence[ClauseCoverage],
    evidence_sha256: str,
    exchanges: Sequence[Exchange],
    certificate: str | None = None,
) -> bytes:
    """The whole page as UTF-8 bytes."""
    title = f"{SUITE_NAME} {SUITE_VERSION} — {info.department}"
    body = (
        f"<h1>接入符合性测试报告 / Conformance report</h1><p class=mono>{_e(title)}</p>"
        f"<h2>概要 / Summary</h2>{_summary(info, results, manifest, evidence_sha256, certificate)}"
        f"<h2>检查结果 / Checks</h2>{_checks_table(results)}"
        f"<h2>按标准 / Per standard</h2>{_standard_matrix(results)}"
        f"<h2>未通过项 / Failures</h2>{_failures(results, exchanges)}"
        f"<h2>条款覆盖 / Clause coverage</h2>{_coverage(coverage, results, info)}"
    )
    page = (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )
    return page.encode("utf-8")
