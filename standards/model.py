"""The data model of a standard: metadata, clauses, the field table and rules declared as data.

A standard lives in ``standards/data/<id>/<version>/standard.json`` (and ``schema.json`` for record
standards). This module turns that JSON into frozen values; it reads no files itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from standards.findings import SEVERITIES, Severity

__all__ = ["Clause", "Field", "RuleSpec", "Standard", "StandardKind", "parse_standard"]

StandardKind = Literal["record", "codes", "interface", "quality", "security"]
_KINDS: tuple[StandardKind, ...] = ("record", "codes", "interface", "quality", "security")


@dataclass(frozen=True, slots=True)
class Clause:
    """A numbered clause in Chinese and English, and how conformance to it is established."""

    id: str
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    origin: str  # "national-layout" | "statute" | "project-defined"
    covered_by: tuple[str, ...] = ()  # rule ids of other standards that enforce this clause
    enforced_by: tuple[str, ...] = ()  # gateway reason codes that enforce this clause
    attestation_zh: str = ""  # why a person must attest to it (no automatic check)
    attestation_en: str = ""


@dataclass(frozen=True, slots=True)
class Field:
    """One row of a record standard's field table (数据项)."""

    name: str  # JSON path: "checkDate", "superviseObjects[].credentialsValue"
    label_zh: str
    label_en: str
    type: str  # string | integer | number | boolean | date | datetime | array | object
    required: bool | tuple[str, ...]  # True, False, or the variants where it is required
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    code_list: str | None = None
    items: str | None = None  # element type of an array: string | object
    max_items: int | None = None
    enum: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()  # variants (actions, layouts) where the field may appear; () = all
    description_zh: str = ""
    description_en: str = ""
    minimum: float | None = None
    maximum: float | None = None
    aliases: tuple[str, ...] = ()  # other CSV headers seen in real exports (委托部门 ≡ 受委托部门)
    identifier: str | None = None  # uscc | citizen_id | org_code | phone (SC-16 check)
    certificate_type_field: str | None = None  # union field: the sibling naming its certificate type

    @property
    def top(self) -> str:
        """The top-level property this row belongs to."""
        return self.name.split("[]", 1)[0].split(".", 1)[0]

    def required_in(self, variant: str | None) -> bool:
        """Whether the field is required in the given variant (or at all, for a single-shape standard)."""
        if isinstance(self.required, bool):
            return self.required
        return variant in self.required


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule declared as data: a kind interpreted by code, its parameters, clause and messages."""

    id: str
    clause: str
    severity: Severity
    kind: str
    params: Mapping[str, Any]
    message_zh: str
    message_en: str
    applies_to: tuple[str, ...] = ()  # for cross-cutting standards: the record standards it joins


@dataclass(frozen=True, slots=True)
class Standard:
    """One version of one standard, with everything the validator and the docs need."""

    id: str
    version: str
    valid_from: date
    valid_to: date | None
    status: str
    kind: StandardKind
    title_zh: str
    title_en: str
    scope_zh: str
    scope_en: str
    clauses: tuple[Clause, ...]
    fields: tuple[Field, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    variant_field: str | None = None
    variants: tuple[str, ...] = ()
    schema: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # kind-specific data (masking profiles…)

    @property
    def key(self) -> str:
        """``SC-06@1.0.0``."""
        return f"{self.id}@{self.version}"

    def in_force(self, on: date) -> bool:
        """Whether this version is in force on the given day (validTo is exclusive)."""
        return self.valid_from <= on and (self.valid_to is None or on < self.valid_to)

    def clause(self, clause_id: str) -> Clause:
        """The clause with this id (KeyError when absent)."""
        for c in self.clauses:
            if c.id == clause_id:
                return c
        raise KeyError(f"{self.key} has no clause {clause_id}")

    def field(self, name: str) -> Field | None:
        """The field-table row with this name, if any."""
        for f in self.fields:
            if f.name == name:
                return f
        return None


def _date(value: object) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected a date string, got {value!r}")
    return date.fromisoformat(value)


def _clause(doc: Mapping[str, Any]) -> Clause:
    return Clause(
        id=doc["id"],
        title_zh=doc["titleZh"],
        title_en=doc["titleEn"],
        text_zh=doc["textZh"],
        text_en=doc["textEn"],
        origin=doc.get("origin", "project-defined"),
        covered_by=tuple(doc.get("coveredBy", ())),
        enforced_by=tuple(doc.get("enforcedBy", ())),
        attestation_zh=doc.get("attestation", {}).get("reasonZh", ""),
        attestation_en=doc.get("attestation", {}).get("reasonEn", ""),
    )


def _field(doc: Mapping[str, Any]) -> Field:
    required = doc.get("required", False)
    return Field(
        name=doc["name"],
        label_zh=doc["labelZh"],
        label_en=doc["labelEn"],
        type=doc["type"],
        required=required if isinstance(required, bool) else tuple(required),
        max_length=doc.get("maxLength"),
        min_length=doc.get("minLength"),
        pattern=doc.get("pattern"),
        code_list=doc.get("codeList"),
        items=doc.get("items"),
        max_items=doc.get("maxItems"),
        enum=tuple(doc.get("enum", ())),
        variants=tuple(doc.get("variants", ())),
        description_zh=doc.get("descriptionZh", ""),
        description_en=doc.get("descriptionEn", ""),
        minimum=doc.get("minimum"),
        maximum=doc.get("maximum"),
        aliases=tuple(doc.get("aliases", ())),
        identifier=doc.get("identifier"),
        certificate_type_field=doc.get("certificateTypeField"),
    )


def _rule(doc: Mapping[str, Any]) -> RuleSpec:
    severity = doc["severity"]
    if severity not in SEVERITIES:
        raise ValueError(f"rule {doc['id']}: severity {severity!r}")
    return RuleSpec(
        id=doc["id"],
        clause=doc["clause"],
        severity=severity,
        kind=doc["kind"],
        params=doc.get("params", {}),
        message_zh=doc["messageZh"],
        message_en=doc["messageEn"],
        applies_to=tuple(doc.get("appliesTo", ())),
    )


def parse_standard(doc: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> Standard:
    """Build a `Standard` from its ``standard.json`` document (and ``schema.json`` for records)."""
    kind = doc["kind"]
    if kind not in _KINDS:
        raise ValueError(f"{doc['id']}: kind {kind!r}")
    known = {
        "id",
        "version",
        "validFrom",
        "validTo",
        "status",
        "kind",
        "titleZh",
        "titleEn",
        "scopeZh",
        "scopeEn",
        "clauses",
        "fields",
        "rules",
        "variantField",
        "variants",
    }
    return Standard(
        id=doc["id"],
        version=doc["version"],
        valid_from=_date(doc["validFrom"]) or date.min,
        valid_to=_date(doc.get("validTo")),
        status=doc["status"],
        kind=kind,
        title_zh=doc["titleZh"],
        title_en=doc["titleEn"],
        scope_zh=doc.get("scopeZh", ""),
        scope_en=doc.get("scopeEn", ""),
        clauses=tuple(_clause(c) for c in doc["clauses"]),
        fields=tuple(_field(f) for f in doc.get("fields", ())),
        rules=tuple(_rule(r) for r in doc.get("rules", ())),
        variant_field=doc.get("variantField"),
        variants=tuple(doc.get("variants", ())),
        schema=schema,
        extra={k: v for k, v in doc.items() if k not in known},
    )
