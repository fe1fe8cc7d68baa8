"""The one result type of every identifier check: a problem with a code, a severity and two messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["IdProblem", "InvalidIdentifier", "Severity"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class IdProblem:
    """One thing wrong with an identifier: a stable code (``USCC_CHECK``), its severity and messages."""

    code: str
    severity: Severity
    message_zh: str
    message_en: str

    @property
    def is_error(self) -> bool:
        """True when the problem makes the identifier invalid (not merely suspicious)."""
        return self.severity == "error"


def error(code: str, message_zh: str, message_en: str) -> IdProblem:
    """An error-severity problem."""
    return IdProblem(code, "error", message_zh, message_en)


def warning(code: str, message_zh: str, message_en: str) -> IdProblem:
    """A warning-severity problem."""
    return IdProblem(code, "warning", message_zh, message_en)


class InvalidIdentifier(ValueError):
    """Raised by the conversion helpers when given something they cannot work on; carries the problems."""

    def __init__(self, problems: list[IdProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.code}: {p.message_en}" for p in problems))
