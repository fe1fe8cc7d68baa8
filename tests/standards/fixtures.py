"""The shipped fixtures of every standard, with their options (validation day, destination, limits)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from standards.catalogue import DATA_DIR
from standards.files import judge_file
from standards.findings import Finding
from standards.payload import DEFAULT_LIMITS, Limits
from standards.validator import compiled


@dataclass(frozen=True)
class Fixture:
    """One fixture file and how to validate it."""

    standard: str
    version: str
    path: Path
    good: bool
    on: date
    destination: str | None
    limits: Limits

    @property
    def rule_id(self) -> str:
        """The rule a bad fixture is named after (``SC-06.R004-…`` → ``SC-06.R004``)."""
        name = self.path.name
        return name[: name.index("-", 3)]

    @property
    def id(self) -> str:
        """A readable test id."""
        return f"{self.standard}@{self.version}/{self.path.parent.name}/{self.path.name}"

    def findings(self) -> list[Finding]:
        """Every finding of the fixture, read as a file (JSON, JSONL or CSV)."""
        target = compiled(self.standard, self.version)
        results = judge_file(self.path, target, on=self.on, destination=self.destination, limits=self.limits)
        return [f for r in results for f in r.findings]


def fixtures() -> Iterator[Fixture]:
    """Every fixture under standards/data."""
    for options_path in sorted(DATA_DIR.glob("*/*/fixtures/options.json")):
        options = json.loads(options_path.read_text(encoding="utf-8"))
        version_dir = options_path.parent.parent
        for path in sorted(options_path.parent.glob("*/*")):
            chosen = {**options["default"], **options.get(f"{path.parent.name}/{path.name}", {})}
            limits = Limits(max_bytes=chosen.get("maxBytes", DEFAULT_LIMITS.max_bytes))
            yield Fixture(
                version_dir.parent.name,
                version_dir.name,
                path,
                path.parent.name == "good",
                date.fromisoformat(chosen["on"]),
                chosen.get("destination"),
                limits,
            )
