"""``jgx bridge check``: a dry run of a mapping on the live table, before anything is signed or sent.

`CheckReport` is pure (rows and their findings in, a report out); `dry_run` streams the table through
the same mapping and local validation a pass uses, in bounded batches, and sends nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import standards
from adapters.bridge.mapping import BridgeMapping, MappingError
from adapters.bridge.rows import MappedRow, map_row
from adapters.bridge.tables import FrontDatabase
from adapters.bridge.verdicts import local_findings, row_message, sealing_refusal
from gateway._time import utc_now
from gateway.errors import VerificationError
from gateway.trust import TrustConfig
from standards.findings import Finding, has_error

__all__ = ["CheckReport", "ColumnReport", "dry_run"]

_EXAMPLES = 20  # refused rows listed one by one; the rest are counted by rule


@dataclass(slots=True)
class ColumnReport:
    """What one mapped column held: empty cells, codes with no translation, values that did not parse."""

    target: str  # the standard's field
    column: str
    empty: int = 0
    untranslated: Counter[str] = field(default_factory=Counter)
    unparsed: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class CheckReport:
    """The dry run's findings on a mapping and the rows it read."""

    mapping: BridgeMapping
    unmapped_required: list[tuple[str, str]] = field(default_factory=list)  # (field, 数据项 label)
    columns: dict[str, ColumnReport] = field(default_factory=dict)
    rows: int = 0
    would_refuse: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (cd_id, cd_time, messages)
    whole_seconds: bool = False  # the cd_time column keeps whole seconds only (see `lines`)

    @classmethod
    def start(cls, mapping: BridgeMapping) -> CheckReport:
        """An empty report that already knows which required fields the mapping leaves out."""
        standard = standards.catalogue().get(mapping.standard, mapping.version)
        mapped = {rule.name for rule in mapping.fields}
        unmapped = [
            (f.name, f.label_zh) for f in standard.fields
            if f.required is True and "[]" not in f.name and "." not in f.name and f.name not in mapped
        ]  # fmt: skip
        columns = {r.name: ColumnReport(r.name, r.column) for r in mapping.fields if r.column is not None}
        return cls(mapping, unmapped, columns)

    def add(self, raw: dict[str, Any], row: MappedRow, findings: tuple[Finding, ...]) -> None:
        """Account one row: its columns, and whether (and why) it would be refused."""
        self.rows += 1
        for column in self.columns.values():
            value = raw.get(column.column)
            if value is None or (isinstance(value, str) and not value.strip()):
                column.empty += 1
        for problem in row.problems:
            faulty = self.columns.get(problem.pointer.lstrip("/").replace("/", "."))
            if faulty is None:
                continue
            value = str(raw.get(faulty.column))
            (faulty.untranslated if problem.rule_id == "BRIDGE.M001" else faulty.unparsed)[value] += 1
        if has_error(list(findings)):
            self.would_refuse += 1
            errors = [f for f in findings if f.severity == "error"]
            self.by_rule.update(f.rule_id for f in errors)
            if len(self.examples) < _EXAMPLES:
                self.examples.append(
                    (row.cd_id, row.cd_time_text, [f"{f.rule_id} {f.pointer} {f.message_zh}" for f in errors])
                )

    @property
    def clean(self) -> bool:
        """True when every required field is mapped and no row read would be refused."""
        return not self.unmapped_required and not self.would_refuse

    def to_json(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "table": self.mapping.table,
            "standard": f"{self.mapping.standard}@{self.mapping.version}",
            "rows": self.rows,
            "wouldRefuse": self.would_refuse,
            "unmappedRequired": [name for name, _ in self.unmapped_required],
            "columns": [
                {
                    "field": c.target,
                    "column": c.column,
                    "empty": c.empty,
                    "untranslated": dict(c.untranslated),
                    "unparsed": dict(c.unparsed),
                }
                for c in self.columns.values()
            ],
            "byRule": dict(self.by_rule),
            "cdTimeWholeSeconds": self.whole_seconds,
            "examples": [{"cdId": i, "cdTime": t, "messages": m} for i, t, m in self.examples],
        }

    def lines(self) -> list[str]:
        """The report for a person, Chinese and English."""
        out = [
            f"{self.mapping.table} → {self.mapping.standard}@{self.mapping.version}: "
            f"读取 / rows read {self.rows}, 将被拒收 / would be refused {self.would_refuse}"
        ]
        if self.whole_seconds:
            out.append(
                "  注意：cd_time 列只精确到秒，同一行在一秒内的两次变更会被视为同一变更，只发送第一次；"
                "请改用 DATETIME(6) / TIMESTAMP / warning: the cd_time column keeps whole seconds, so two "
                "changes of one row within a second are one change to the bridge and only the first is "
                "sent; use DATETIME(6) (MySQL) or TIMESTAMP (Oracle, 达梦)"
            )
        for name, label in self.unmapped_required:
            out.append(f"  未映射的必填字段 / required field not mapped: {name} ({label})")
        for c in self.columns.values():
            line = f"  {c.column:<16} → {c.target:<24} 空 / empty {c.empty}"
            if c.untranslated:
                codes = ", ".join(f"{v} ×{n}" for v, n in c.untranslated.most_common())
                line += f"; 无转换的代码 / codes with no translation: {codes}"
            if c.unparsed:
                values = ", ".join(f"{v} ×{n}" for v, n in c.unparsed.most_common(5))
                line += f"; 无法解析 / did not parse: {values}"
            out.append(line)
        for rule, count in self.by_rule.most_common():
            out.append(f"  规则 / rule {rule}: {count} 行 / rows")
        for cd_id, cd_time, messages in self.examples:
            out.append(f"  拒收 / refused  cd_id={cd_id} cd_time={cd_time}: " + "；".join(messages))
        return out


def dry_run(
    mapping: BridgeMapping,
    database: FrontDatabase,
    *,
    on: date,
    destination: str,
    limit: int,
    trust: TrustConfig | None = None,
) -> CheckReport:
    """Map and validate up to ``limit`` rows of the source table, in batches; nothing is written or sent.

    Each row is judged as a pass judges it: the fields the mapping's ``seal`` names are sealed for the
    recipient (its SM2 key from ``trust``) and the hub's step 8 runs on that payload, so the report is on
    the clear fields and on where sealing is allowed (wire.md §12).
    """
    if mapping.seal and trust is None:
        raise MappingError(
            "映射声明了 seal，需要节点目录中的信任配置（接收方的 SM2 密钥）",
            "the mapping seals fields: it needs the node directory's trust configuration",
        )
    report = CheckReport.start(mapping)
    report.whole_seconds = database.whole_seconds()
    fields = {f.name: f for f in standards.catalogue().get(mapping.standard, mapping.version).fields}
    after = None
    while report.rows < limit:
        page = database.read(since=None, after=after, limit=min(mapping.batch_size, limit - report.rows))
        for raw in page.rows:
            row = map_row(raw, mapping, fields)
            try:
                message = row_message(row, mapping, now=utc_now(), trust=trust) if mapping.seal else None
                findings = local_findings(
                    row, mapping, on=on, destination=destination, message=message, trust=trust
                )
            except VerificationError as exc:
                findings = sealing_refusal(exc)
            report.add(raw, row, findings)
        if not page.more:
            break
        after = page.cursor
    return report
