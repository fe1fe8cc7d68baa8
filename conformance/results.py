"""Results of checks and of a run: pass / fail / skip / error per check, with evidence, and the roll-up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from gateway._time import format_time, parse_time

__all__ = ["STATUSES", "Override", "Result", "RunInfo", "Status", "Verdict", "overall"]

Status = Literal["pass", "fail", "skip", "error"]
STATUSES: Final[tuple[Status, ...]] = ("pass", "fail", "skip", "error")
Verdict = Literal["pass", "fail", "incomplete"]


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one check on one subject (a standard, or "" for the adapter as a whole)."""

    check: str
    status: Status
    subject: str = ""
    zh: str = ""
    en: str = ""
    details: tuple[tuple[str, str], ...] = ()  # (中文, English) lines: what went wrong where
    exchanges: tuple[int, ...] = ()  # seq numbers of the exchanges that are the evidence

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "check": self.check,
            "subject": self.subject,
            "status": self.status,
            "zh": self.zh,
            "en": self.en,
            "details": [list(d) for d in self.details],
            "exchanges": list(self.exchanges),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Result:
        """Read back what `to_json` wrote."""
        return cls(
            check=str(doc["check"]),
            status=doc["status"],
            subject=str(doc.get("subject", "")),
            zh=str(doc.get("zh", "")),
            en=str(doc.get("en", "")),
            details=tuple((str(a), str(b)) for a, b in doc.get("details", [])),
            exchanges=tuple(int(s) for s in doc.get("exchanges", [])),
        )

    @property
    def key(self) -> tuple[str, str]:
        """(check id, subject): what identifies a result within a run."""
        return self.check, self.subject


class InputError(ValueError):
    """An input the suite cannot use; ``message_zh`` / ``message_en`` say why, one language each."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        self.message_zh, self.message_en = message_zh, message_en
        super().__init__(message_en)


@dataclass(frozen=True, slots=True)
class Override:
    """A rule re-levelled for this certification (phive customError, KoSIT customLevel), with its reason."""

    rule: str
    severity: str  # "warning" | "info" | "off"
    reason: str

    def to_json(self) -> dict[str, str]:
        """The override as a JSON object (run description and certificate)."""
        return {"rule": self.rule, "severity": self.severity, "reason": self.reason}

    @classmethod
    def parse(cls, text: str) -> Override:
        """``RULE=LEVEL:reason`` (e.g. ``SC-06.R012=warning:口径差异 / local reading``); ValueError if not."""
        rule, sep, rest = text.partition("=")
        level, _, reason = rest.partition(":")
        if not sep or not rule.strip() or level not in {"warning", "info", "off"} or not reason.strip():
            raise InputError(
                f"覆盖 {text!r} 应为 RULE=warning|info|off:理由",
                f"override {text!r} must look like RULE=warning|info|off:reason",
            )
        return cls(rule.strip(), level, reason.strip())


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What a run was asked to do; everything judging needs besides the exchanges and the trust bytes."""

    mode: str  # "live" | "export"
    department: str
    now: datetime
    budget_ms: float = 2000.0
    concurrency: int = 50
    overrides: tuple[Override, ...] = ()
    tls: bool = False  # whether the TLS checks ran
    target: str = ""
    hub: str = ""
    evidence_profile: str = "partner"
    attestations: tuple[Mapping[str, str], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The run description written to ``run.json``."""
        return {
            "mode": self.mode,
            "department": self.department,
            "now": format_time(self.now),
            "budgetMs": self.budget_ms,
            "concurrency": self.concurrency,
            "overrides": [o.to_json() for o in self.overrides],
            "tls": self.tls,
            "target": self.target,
            "hub": self.hub,
            "evidenceProfile": self.evidence_profile,
            "attestations": [dict(a) for a in self.attestations],
            **self.extra,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RunInfo:
        """Read back what `to_json` wrote."""
        known = {
            "mode",
            "department",
            "now",
            "budgetMs",
            "concurrency",
            "overrides",
            "tls",
            "target",
            "hub",
            "evidenceProfile",
            "attestations",
        }
        return cls(
            mode=str(doc["mode"]),
            department=str(doc["department"]),
            now=parse_time(str(doc["now"])),
            budget_ms=float(doc.get("budgetMs", 2000.0)),
            concurrency=int(doc.get("concurrency", 50)),
            overrides=tuple(
                Override(o["rule"], o["severity"], o["reason"]) for o in doc.get("overrides", [])
            ),
            tls=bool(doc.get("tls", False)),
            target=str(doc.get("target", "")),
            hub=str(doc.get("hub", "")),
            evidence_profile=str(doc.get("evidenceProfile", "partner")),
            attestations=tuple(dict(a) for a in doc.get("attestations", [])),
            extra={k: v for k, v in doc.items() if k not in known},
        )


def overall(results: Iterable[Result], severities: Mapping[str, str]) -> Verdict:
    """``fail`` if a must-check failed or erred, ``incomplete`` if one was skipped, else ``pass``."""
    verdict: Verdict = "pass"
    for result in results:
        if severities.get(result.check, "must") != "must":
            continue
        if result.status in ("fail", "error"):
            return "fail"
        if result.status == "skip":
            verdict = "incomplete"
    return verdict


def counts(results: Sequence[Result]) -> dict[str, int]:
    """How many results have each status."""
    return {status: sum(1 for r in results if r.status == status) for status in STATUSES}
