"""The coverage matrix: for every clause of the 20 standards, the checks covering it or why a person attests.

A clause is covered by a check when the check names it, when the check expects a reason code the
clause is enforced by (``enforcedBy``), or when the clause is enforced by rules of the validator
(its own rules and ``coveredBy``), which the export checks run on every record. A clause no check can
observe carries the standard's own attestation reason (as Inferno's "Not Tested Reason"); attestations
given for a run (who, what, when) are recorded in it and printed on the certificate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.checks import CATALOGUE

__all__ = ["ClauseCoverage", "clause_ref", "coverage_matrix", "summary"]

#: Reason codes observed by checks other than the negative ones.
_CODE_CHECKS: Mapping[str, tuple[str, ...]] = {
    "RECEIPT_INVALID": ("CF-DELIVER-RECEIPT-SIGNATURE", "CF-DELIVER-RECEIPT-BINDING"),
    "IDENTITY_MISMATCH": ("CF-TLS-NODE-CERT",),
    "SENDER_KEY_MISMATCH": ("CF-EXPORT-SIGNATURE",),
    "MALFORMED": ("CF-EXPORT-HEADER",),
    "SIGNATURE_MISSING": ("CF-EXPORT-SIGNATURE",),
    "ACL_DENIED": ("CF-EXPORT-HEADER", "CF-DESCRIBE-TRUST"),
    "KEY_NOT_VALID": ("CF-DESCRIBE-TRUST",),
    "RULE_VIOLATION": ("CF-EXPORT-RECORDS",),
}

#: Why a clause enforced only by codes no adapter call can provoke needs a person's attestation.
_UNOBSERVABLE = (
    "该条款由节点加载信任配置等内部过程执行，无法通过适配器接口观察，需由认证人员核查配置与日志。",
    "Enforced inside the node (e.g. when it loads a trust configuration) and not observable over the "
    "Adapter service; a certifier checks the configuration and logs.",
)


def clause_ref(standard: str, clause_id: str) -> str:
    """How checks name a clause: ``SC-17 §6.3``."""
    return f"{standard} §{clause_id.removeprefix('§')}"


@dataclass(frozen=True, slots=True)
class ClauseCoverage:
    """One row of the matrix."""

    standard: str
    version: str
    clause: str  # the clause id within its standard, e.g. "6.3"
    title_zh: str
    title_en: str
    checks: tuple[str, ...]
    attestation_zh: str = ""
    attestation_en: str = ""

    @property
    def ref(self) -> str:
        """``SC-17 §6.3``."""
        return clause_ref(self.standard, self.clause)

    @property
    def state(self) -> str:
        """``checked``, ``attestation`` or ``gap``."""
        if self.checks:
            return "checked"
        return "attestation" if self.attestation_en or self.attestation_zh else "gap"

    def to_json(self) -> dict[str, Any]:
        """The row as JSON."""
        return {
            "standard": self.standard,
            "version": self.version,
            "clause": self.clause,
            "ref": self.ref,
            "titleZh": self.title_zh,
            "titleEn": self.title_en,
            "checks": list(self.checks),
            "state": self.state,
            "attestationZh": self.attestation_zh,
            "attestationEn": self.attestation_en,
        }


def _rule_checks(rule_ids: Iterable[str]) -> tuple[str, ...]:
    found: set[str] = set()
    for rule in rule_ids:
        found.add("CF-EXPORT-MASKING" if rule.startswith("SC-20.") else "CF-EXPORT-RECORDS")
    return tuple(sorted(found))


def coverage_matrix(standards_list: Sequence[Any] | None = None) -> list[ClauseCoverage]:
    """Every clause of the newest version of each standard, with its covering checks or attestation."""
    if standards_list is None:
        import standards

        cat = standards.catalogue()
        standards_list = [cat.get(sid) for sid in cat.ids()]
    by_clause: dict[str, set[str]] = {}
    for check in CATALOGUE:
        for ref in check.clauses:
            by_clause.setdefault(ref, set()).add(check.id)
    rows: list[ClauseCoverage] = []
    for std in standards_list:
        for clause in std.clauses:
            ref = clause_ref(std.id, clause.id)
            checks = set(by_clause.get(ref, set()))
            for code in clause.enforced_by:
                checks.update(c.id for c in CATALOGUE if code in c.expects)
                checks.update(_CODE_CHECKS.get(code, ()))
            rules = [r.id for r in std.rules if r.clause.removeprefix("§") == clause.id] + list(
                clause.covered_by
            )
            checks.update(_rule_checks(rules))
            zh, en = clause.attestation_zh, clause.attestation_en
            if not checks and not (zh or en) and clause.enforced_by:
                zh, en = _UNOBSERVABLE
            row = ClauseCoverage(
                std.id,
                std.version,
                clause.id,
                clause.title_zh,
                clause.title_en,
                tuple(sorted(checks)),
                zh,
                en,
            )
            rows.append(row)
    return rows


def summary(rows: Sequence[ClauseCoverage], attested: Iterable[str] = ()) -> dict[str, int]:
    """How many clauses are checked, need attestation (and how many of those were attested), or are gaps."""
    done = set(attested)
    needing = [r for r in rows if r.state == "attestation"]
    return {
        "clauses": len(rows),
        "checked": sum(1 for r in rows if r.state == "checked"),
        "attestation": len(needing),
        "attested": sum(1 for r in needing if r.ref in done),
        "gaps": sum(1 for r in rows if r.state == "gap"),
    }
