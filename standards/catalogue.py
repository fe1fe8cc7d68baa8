"""The catalogue of standards SC-01 … SC-20: every version of every standard, loaded from ``data/``.

Version choice follows phive's VESID idea: a standard id plus a semver version, each version with
``validFrom`` (inclusive) and ``validTo`` (exclusive); asking without a version gives the newest one
in force on the given day.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from standards.errors import UnknownStandard, VersionNotInForce
from standards.model import Standard, parse_standard

__all__ = ["DATA_DIR", "Catalogue", "catalogue", "load_catalogue", "sample"]

DATA_DIR = Path(__file__).resolve().parent / "data"


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class Catalogue:
    """All standards, by id and version."""

    def __init__(self, standards: list[Standard]) -> None:
        self._by_id: dict[str, list[Standard]] = {}
        for s in sorted(standards, key=lambda s: (s.id, _semver(s.version))):
            self._by_id.setdefault(s.id, []).append(s)

    def __iter__(self) -> Iterator[Standard]:
        for versions in self._by_id.values():
            yield from versions

    def ids(self) -> list[str]:
        """The standard ids, in order."""
        return sorted(self._by_id)

    def versions(self, standard_id: str) -> list[Standard]:
        """Every version of one standard, oldest first (UnknownStandard when the id is unknown)."""
        try:
            return list(self._by_id[standard_id])
        except KeyError:
            raise UnknownStandard(f"{standard_id!r} is not one of {', '.join(self.ids())}") from None

    def get(self, standard_id: str, version: str | None = None) -> Standard:
        """One version of a standard; without a version, the newest one."""
        versions = self.versions(standard_id)
        if version is None:
            return versions[-1]
        for s in versions:
            if s.version == version:
                return s
        known = ", ".join(s.version for s in versions)
        raise UnknownStandard(f"{standard_id} has no version {version!r} (known: {known})")

    def resolve(self, standard_id: str, version: str | None, on: date | None) -> Standard:
        """The version to validate against: the one named (in force on ``on``), else the newest in force."""
        if version is not None:
            chosen = self.get(standard_id, version)
            if on is not None and not chosen.in_force(on):
                until = chosen.valid_to.isoformat() if chosen.valid_to else "…"
                raise VersionNotInForce(
                    f"{chosen.key} is in force {chosen.valid_from.isoformat()} – {until}, "
                    f"not on {on.isoformat()}"
                )
            return chosen
        versions = self.versions(standard_id)
        if on is None:
            return versions[-1]
        for s in reversed(versions):
            if s.in_force(on):
                return s
        raise VersionNotInForce(f"no version of {standard_id} is in force on {on.isoformat()}")


def load_catalogue(root: Path = DATA_DIR) -> Catalogue:
    """Read every ``<id>/<version>/standard.json`` (and ``schema.json``) under ``root``."""
    standards: list[Standard] = []
    for doc_path in sorted(root.glob("*/*/standard.json")):
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
        schema_path = doc_path.with_name("schema.json")
        schema = json.loads(schema_path.read_text(encoding="utf-8")) if schema_path.exists() else None
        standards.append(parse_standard(doc, schema))
    return Catalogue(standards)


@functools.cache
def catalogue() -> Catalogue:
    """The catalogue shipped with jgx (loaded once)."""
    return load_catalogue()


def sample(standard_id: str, name: str | None = None, version: str | None = None) -> bytes:
    """The JSON bytes of a shipped good record (``default`` or the first variant), for demos and tests."""
    chosen = catalogue().get(standard_id, version)
    good = DATA_DIR / chosen.id / chosen.version / "fixtures" / "good"
    if chosen.kind != "record":
        raise UnknownStandard(f"{chosen.key} holds no records")
    path = good / f"{name}.json" if name else min(good.glob("*.json"))
    if not path.exists():
        raise UnknownStandard(f"{chosen.key} has no sample {name!r}")
    return path.read_bytes()
