"""Code lists the standards refer to by name: GB/T 2260 regions, GB/T 4754-2017 industries and the rest.

The data lives in ``standards/codes/*.json`` (each file says its sources and what is recalled; the
national region table is written by ``tools/regions_gbt2260.py``);
this module loads it once at import into dictionaries, so every look-up is a hash probe. Names are
stable snake_case (``object_type``, ``penalty_kind``, ``region``, ``industry`` …): the standards'
field tables cite them.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from typing import Any, Final, Literal

__all__ = [
    "INDUSTRY_EDITION",
    "CodeList",
    "Industry",
    "Region",
    "RegionStatus",
    "UnknownCodeList",
    "code_list",
    "industry",
    "industry_division",
    "names",
    "region",
    "region_retired_before",
    "region_status",
    "region_valid",
    "regions",
]

def _load(name: str) -> Any:
    return json.loads(files("standards").joinpath("codes", name).read_text(encoding="utf-8"))


class UnknownCodeList(KeyError):
    """Raised when a code list is asked for by a name that does not exist."""

    def __init__(self, name: str) -> None:
        self.message_zh = f"不存在名为 {name!r} 的代码表"
        self.message_en = f"there is no code list named {name!r}"
        super().__init__(self.message_en)


@dataclass(frozen=True, slots=True)
class CodeList:
    """One code list: a name, titles, how sure its content is, and codes with Chinese and English labels."""

    name: str
    title_zh: str
    title_en: str
    basis: str
    labels: Mapping[str, tuple[str, str]]

    def contains(self, code: str) -> bool:
        """True when ``code`` is in the list."""
        return code in self.labels

    def label_zh(self, code: str) -> str | None:
        """The Chinese label of ``code``, or None when it is not in the list."""
        entry = self.labels.get(code)
        return None if entry is None else entry[0]

    def label_en(self, code: str) -> str | None:
        """The English label of ``code``, or None when it is not in the list."""
        entry = self.labels.get(code)
        return None if entry is None else entry[1]

    def codes(self) -> list[str]:
        """The codes in the list's own order."""
        return list(self.labels)


# --- GB/T 2260 regions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Region:
    """One row of the region table: a code with the name it had between two (inclusive) days."""

    code: str
    name_zh: str
    name_en: str | None
    level: Literal["country", "province", "prefecture", "county"]
    parent: str | None
    valid_from: date | None
    valid_to: date | None

    def valid_on(self, on: date) -> bool:
        """True when the code carried this name on ``on``."""
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )


class RegionStatus(enum.Enum):
    """What the region table can say about a 6-digit code."""

    VALID = "valid"  # listed (and in force on the date asked about, if one was given)
    NOT_IN_FORCE = "not_in_force"  # listed, but retired before or created after the date
    UNKNOWN = "unknown"  # not a code: absent from the national table of every code since 1980


_REGION_DOC: Final = _load("regions-gbt2260.json")


def _region_rows() -> dict[str, tuple[Region, ...]]:
    table: dict[str, list[Region]] = {}
    for row in _REGION_DOC["regions"]:
        table.setdefault(row["code"], []).append(
            Region(
                code=row["code"],
                name_zh=row["name_zh"],
                name_en=row.get("name_en"),
                level=row["level"],
                parent=row["parent"],
                valid_from=None if row["validFrom"] is None else date.fromisoformat(row["validFrom"]),
                valid_to=None if row["validTo"] is None else date.fromisoformat(row["validTo"]),
            )
        )
    return {code: tuple(rows) for code, rows in table.items()}


_REGIONS: Final = _region_rows()


def region(code: str, on: date | None = None) -> Region | None:
    """The region row of ``code`` in force on ``on`` (the latest row when no date), or None."""
    rows = _REGIONS.get(code)
    if rows is None:
        return None
    if on is None:
        return rows[-1]
    return next((r for r in rows if r.valid_on(on)), None)


def region_valid(code: str, on: date) -> bool:
    """True when ``code`` is a listed region code in force on ``on``."""
    return region(code, on) is not None


def region_status(code: str, on: date | None = None) -> RegionStatus:
    """Whether ``code`` is a known region (in force on ``on`` when given) or not a code at all."""
    rows = _REGIONS.get(code)
    if rows is None:
        return RegionStatus.UNKNOWN
    if on is None or any(r.valid_on(on) for r in rows):
        return RegionStatus.VALID
    return RegionStatus.NOT_IN_FORCE


def region_retired_before(code: str, day: date) -> bool:
    """True when every row of ``code`` ended before ``day`` (the code no longer existed then)."""
    rows = _REGIONS.get(code, ())
    return bool(rows) and all(r.valid_to is not None and r.valid_to < day for r in rows)


def regions(province: str = "51", *, on: date | None = None) -> list[Region]:
    """The rows under a province (``"51"`` or ``"510000"``), in force on ``on`` when given, by code."""
    prefix = province[:2]
    rows = [r for code, rs in _REGIONS.items() if code.startswith(prefix) for r in rs]
    if on is not None:
        rows = [r for r in rows if r.valid_on(on)]
    return sorted(rows, key=lambda r: (r.code, r.valid_from or date.min))


# --- GB/T 4754-2017 industries ---------------------------------------------------------------------

INDUSTRY_EDITION: Final = "GB/T 4754-2017"


@dataclass(frozen=True, slots=True)
class Industry:
    """A 门类 (section, one letter) or 大类 (division, two digits) of GB/T 4754-2017."""

    code: str
    name_zh: str
    name_en: str
    level: Literal["section", "division"]
    section: str


def _industry_rows() -> dict[str, Industry]:
    doc = _load("industry-gbt4754-2017.json")
    if doc["edition"] != INDUSTRY_EDITION:
        raise RuntimeError(f"industry table is {doc['edition']}, expected {INDUSTRY_EDITION}")
    table: dict[str, Industry] = {}
    for s in doc["sections"]:
        table[s["code"]] = Industry(s["code"], s["name_zh"], s["name_en"], "section", s["code"])
        for d in s["divisions"]:
            table[d["code"]] = Industry(d["code"], d["name_zh"], d["name_en"], "division", s["code"])
    return table


_INDUSTRIES: Final = _industry_rows()


def industry(code: str) -> Industry | None:
    """The section (``"C"``) or division (``"13"`` or ``"C13"``) of GB/T 4754-2017, or None."""
    found = _INDUSTRIES.get(code)
    if found is None and len(code) == 3 and code[0].isalpha():
        found = _INDUSTRIES.get(code[1:])
        if found is not None and found.section != code[0]:
            return None
    return found


def industry_division(code: str) -> Industry | None:
    """The division of a 2-4 digit code (``1311``, ``C1311``); None if unknown or the letter disagrees."""
    letter, digits = (code[0], code[1:]) if code[:1].isalpha() else ("", code)
    if not (2 <= len(digits) <= 4 and digits.isdigit()):
        return None
    found = _INDUSTRIES.get(digits[:2])
    if found is None or (letter and found.section != letter):
        return None
    return found


# --- named code lists ------------------------------------------------------------------------------


def _named_lists() -> dict[str, CodeList]:
    lists = {
        name: CodeList(
            name,
            spec["title_zh"],
            spec["title_en"],
            spec["basis"],
            {c["code"]: (c["label_zh"], c["label_en"]) for c in spec["codes"]},
        )
        for name, spec in _load("code-lists.json")["lists"].items()
    }
    lists["region"] = CodeList(
        "region",
        "行政区划代码（GB/T 2260）",
        "administrative division code (GB/T 2260)",
        "see regions-gbt2260.json",
        {code: (rows[-1].name_zh, rows[-1].name_en or rows[-1].name_zh) for code, rows in _REGIONS.items()},
    )
    lists["industry"] = CodeList(
        "industry",
        f"国民经济行业分类（{INDUSTRY_EDITION}）门类和大类",
        f"industry sections and divisions ({INDUSTRY_EDITION})",
        "see industry-gbt4754-2017.json",
        {code: (i.name_zh, i.name_en) for code, i in _INDUSTRIES.items()},
    )
    return lists


_LISTS: Final = _named_lists()


def code_list(name: str) -> CodeList:
    """The code list called ``name``; raises :class:`UnknownCodeList` for a name that does not exist."""
    try:
        return _LISTS[name]
    except KeyError:
        raise UnknownCodeList(name) from None


def names() -> list[str]:
    """The names of every code list, sorted."""
    return sorted(_LISTS)
