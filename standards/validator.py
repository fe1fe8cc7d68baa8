"""The validator: JSON bytes in, findings out.

For one record standard@version it compiles, once: the structure check (JSON Schema through the fast
engine), the standard's own rules, the SC-16 code and identifier rules its field table calls for, the
SC-18 quality rules that join every record standard (timeliness…) and the SC-20 masking rules. Then
`validate` decodes strictly (SC-17), checks structure, runs the rules, and returns every finding; it
never stops at the first one and never raises for bad bytes.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from standards.catalogue import Catalogue, catalogue
from standards.errors import UnknownStandard
from standards.findings import Finding
from standards.masking import MaskingPolicy
from standards.model import RuleSpec, Standard
from standards.payload import DEFAULT_LIMITS, Limits, decode_record
from standards.rules import Check, Context, compile_rule
from standards.rules.codes import record_date
from standards.rules.fused import Fused, fuse
from standards.structure import Engine, Structure

__all__ = ["CompiledStandard", "compiled", "validate", "validate_record"]


@dataclass(frozen=True, slots=True)
class CompiledStandard:
    """Everything needed to judge records of one standard version, built once."""

    standard: Standard
    structure: Structure
    checks: tuple[tuple[RuleSpec, Check], ...]
    policy: MaskingPolicy | None

    run: tuple[Check, ...]  # the checks alone, in order (the interpreted path)
    fused: Fused  # the same checks as one generated function with clean tests (the hot path)
    # rule id -> the fields a requirement rule demands (one for S001 and required_if: the finding's own)
    requirements: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    @property
    def rules(self) -> tuple[RuleSpec, ...]:
        """Every rule that can fire for this standard (structure, own and joined)."""
        own = tuple(r for r in self.standard.rules if r.kind == "schema")
        return own + tuple(rule for rule, _ in self.checks)


def _with(rule: RuleSpec, params: Mapping[str, Any]) -> RuleSpec:
    return RuleSpec(
        rule.id,
        rule.clause,
        rule.severity,
        rule.kind,
        params,
        rule.message_zh,
        rule.message_en,
        rule.applies_to,
    )


def _code_rules(standard: Standard, codes: Standard) -> list[RuleSpec]:
    """SC-16 rules, each given the fields of ``standard`` it applies to."""
    act = standard.extra.get("actDateField")
    joined: list[RuleSpec] = []
    for rule in codes.rules:
        fields: list[Any]
        if rule.kind == "identifier":
            fields = [[f.name, f.identifier] for f in standard.fields if f.identifier == rule.params["type"]]
        elif rule.kind == "certificate":
            fields = [[f.name, f.certificate_type_field] for f in standard.fields if f.certificate_type_field]
        elif rule.kind == "region":
            fields = [f.name for f in standard.fields if f.code_list == "region"]
        elif rule.kind == "industry":
            fields = [f.name for f in standard.fields if f.code_list == "industry"]
        elif rule.kind == "code_list":
            fields = [
                [f.name, f.code_list]
                for f in standard.fields
                if f.code_list and f.code_list not in {"region", "industry"}
            ]
        else:
            continue
        if fields:
            joined.append(_with(rule, {**rule.params, "fields": fields, "dateField": act}))
    return joined


def _quality_rules(standard: Standard, quality: Standard) -> list[RuleSpec]:
    """SC-18 rules that join every record standard with an act date and a report time."""
    act, report = standard.extra.get("actDateField"), standard.extra.get("reportField")
    joined: list[RuleSpec] = []
    for rule in quality.rules:
        if rule.applies_to and standard.id not in rule.applies_to:
            continue
        if rule.kind == "timeliness" and act and report:
            days = rule.params["workingDays"]
            joined.append(
                _with(
                    rule,
                    {"act": act, "report": report, "workingDays": days.get(standard.id, days["default"])},
                )
            )
        elif rule.kind == "not_after_validation_day" and report:
            joined.append(_with(rule, {**rule.params, "fields": [report]}))
    return joined


def _compile(cat: Catalogue, standard: Standard, on: date | None) -> CompiledStandard:
    if standard.kind != "record" or standard.schema is None:
        raise UnknownStandard(
            f"{standard.key} is a {standard.kind} standard; records are judged against SC-01…SC-15"
        )
    specs = [r for r in standard.rules if r.kind != "schema"]
    specs += _code_rules(standard, cat.resolve("SC-16", None, on))
    specs += _quality_rules(standard, cat.resolve("SC-18", None, on))
    privacy = cat.resolve("SC-20", None, on)
    policy = MaskingPolicy.from_data(privacy.extra)
    specs += [
        _with(r, {**r.params, "policy": policy, "standard": standard.id})
        for r in privacy.rules
        if r.kind == "masked"
    ]
    checks = tuple((r, compile_rule(r)) for r in specs)
    structure = Structure(standard)
    fused = fuse(
        checks,
        label=standard.key,
        act=standard.extra.get("actDateField"),
        dates=structure.date_fields,
        calendar=structure.calendar_findings,
    )
    requirements: dict[str, tuple[str, ...]] = {f"{standard.id}.S001": ()}
    requirements |= {r.id: () for r in specs if r.kind == "required_if"}
    requirements |= {r.id: tuple(r.params["fields"]) for r in specs if r.kind == "at_least_one"}
    return CompiledStandard(
        standard, structure, checks, policy, tuple(c for _, c in checks), fused, requirements
    )


@functools.lru_cache(maxsize=64)
def _cached(standard_id: str, version: str) -> CompiledStandard:
    # The joined standards (SC-16, SC-18, SC-20) are taken at their newest version: one compiled
    # rule set per standard@version, whatever the validation day.
    cat = catalogue()
    return _compile(cat, cat.get(standard_id, version), None)


def compiled(standard: str, version: str | None = None, on: date | None = None) -> CompiledStandard:
    """The compiled checks of ``standard@version`` (the version in force on ``on`` when none is named)."""
    chosen = catalogue().resolve(standard, version, on)
    return _cached(chosen.id, chosen.version)


def validate_record(
    record: Any,
    target: CompiledStandard,
    *,
    on: date | None = None,
    destination: str | None = None,
    engine: Engine = "fast",
    interpreted: bool = False,
) -> list[Finding]:
    """Judge an already decoded record (a CSV row, a JSONL line) against a compiled standard.

    ``interpreted`` runs each rule's check in turn instead of the generated function (the reference
    path the tests compare it with); the findings are the same.
    """
    if destination is not None and target.policy is not None:
        target.policy.profile(destination)  # UnknownDestination before any work
    if not interpreted and type(record) is dict:
        findings = target.structure.findings(record, engine, calendar=False)
        target.fused(record, on, destination, findings)  # the calendar findings first, then the rules
    else:
        findings = target.structure.findings(record, engine)
        if type(record) is dict:
            ctx = Context(on, destination, record_date(record, target.standard.extra.get("actDateField"), on))
            for check in target.run:
                found = check(record, ctx)
                if found:
                    findings.extend(found)
    if destination is not None and findings and type(record) is dict:
        return _waive_removed(findings, record, target, destination)
    return findings


def _waive_removed(
    findings: list[Finding], record: Mapping[str, Any], target: CompiledStandard, destination: str
) -> list[Finding]:
    """Drop the requirement findings about fields SC-20 removes for ``destination``: a record masked
    for a destination passes for it (the complainant's phone is required, but not in a public record)."""
    policy, standard = target.policy, target.standard.id
    if policy is None:
        return findings

    def removed(finding: Finding) -> bool:
        fields = target.requirements.get(finding.rule_id)
        if fields is None:
            return False
        if not fields:
            return policy.removes(record, finding.pointer, destination, standard)
        return all(
            policy.removes(record, "/" + name.replace(".", "/"), destination, standard) for name in fields
        )

    return [f for f in findings if not removed(f)]


def validate(
    payload: bytes,
    standard: str,
    version: str | None = None,
    *,
    on: date | None = None,
    destination: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Finding]:
    """Validate one record's JSON bytes against ``standard`` (``SC-06``) at ``version`` (default: the one
    in force on ``on``).

    Raises `UnknownStandard` / `VersionNotInForce` / `UnknownDestination`; bad bytes are findings.
    """
    target = compiled(standard, version, on)
    if destination is not None and target.policy is not None:
        target.policy.profile(destination)
    record, findings = decode_record(payload, limits)
    if record is None:
        return findings
    return findings + validate_record(record, target, on=on, destination=destination)
