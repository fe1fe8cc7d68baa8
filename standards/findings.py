"""What the validator says about a record: findings, each naming a rule, its clause and a JSON pointer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["SEVERITIES", "Finding", "Severity", "escape_pointer", "has_error", "printable"]

Severity = Literal["error", "warning", "info"]
SEVERITIES: Final[tuple[Severity, ...]] = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Finding:
    """One judgement on a record: rule id, clause, severity, JSON pointer (RFC 6901) and both messages."""

    rule_id: str
    clause: str
    severity: Severity
    pointer: str
    message_zh: str
    message_en: str

    def __post_init__(self) -> None:
        # A finding may quote the value it is about; a value that is not text (a lone surrogate from a
        # \\uD800 escape) is shown escaped, so every finding can be printed, stored and signed as UTF-8.
        for name in ("pointer", "message_zh", "message_en"):
            text = getattr(self, name)
            shown = printable(text)
            if shown is not text:
                object.__setattr__(self, name, shown)

    def to_json(self) -> dict[str, str]:
        """The finding as a JSON object (the shape receipts and reports carry)."""
        return {
            "ruleId": self.rule_id,
            "clause": self.clause,
            "severity": self.severity,
            "pointer": self.pointer,
            "messageZh": self.message_zh,
            "messageEn": self.message_en,
        }


def printable(text: str) -> str:
    """``text`` itself when it can be encoded as UTF-8, else with each lone surrogate written ``\\udXXX``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def escape_pointer(token: str | int) -> str:
    """One reference token of a JSON pointer, escaped per RFC 6901."""
    return str(token).replace("~", "~0").replace("/", "~1")


def has_error(findings: list[Finding]) -> bool:
    """True when any finding has error severity (the record is rejected)."""
    return any(f.severity == "error" for f in findings)
