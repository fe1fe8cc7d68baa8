"""Write standards/data from the declarations in tools/standards_src (``--check``: fail if they differ).

python tools/author_standards.py           # regenerate standard.json, schema.json and fixtures
python tools/author_standards.py --check   # CI: the checked-in data matches the declarations
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from standards_src import acts, cross, flows, registry  # noqa: E402
from standards_src.build import add_joined_clauses, add_structure, outputs  # noqa: E402
from standards_src.common import Std  # noqa: E402

DATA = ROOT / "standards" / "data"


def declared() -> list[Std]:
    """Every standard, finished: structure rules, joined clauses."""
    records = [
        registry.sc01(),
        registry.sc02(),
        registry.sc03(),
        registry.sc04(),
        acts.sc05(),
        acts.sc06(),
        acts.sc07(),
        acts.sc08(),
        registry.sc09(),
        registry.sc10(),
        flows.sc11(),
        flows.sc12(),
        flows.sc13(),
        flows.sc14(),
        registry.sc15(),
    ]
    by_id = {s.id: s for s in records}
    sc16, sc17, sc18, sc19, sc20 = (
        cross.sc16(),
        cross.sc17(by_id["SC-05"], by_id["SC-06"]),
        cross.sc18(),
        cross.sc19(),
        cross.sc20(),
    )
    for s in records:
        add_structure(s)
        add_joined_clauses(s, sc16, sc18, sc20)
    return [*records, sc16, sc17, sc18, sc19, sc20]


def extra_files(standards: list[Std]) -> dict[Path, bytes]:
    """Good fixtures in other formats: SC-05 as a CSV export (with the 委托部门 alias) and as JSONL."""
    sc05 = next(s for s in standards if s.id == "SC-05")
    header, row = cross.csv_table(
        sc05, {**sc05.good["default"], "entrustedDepartment": "成都市武侯区市场监督管理局"}
    )
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, row, row])
    base = DATA / "SC-05" / sc05.version / "fixtures" / "good"
    import json

    line = json.dumps(sc05.good["default"], ensure_ascii=False)
    return {
        base / "export.csv": text.getvalue().encode("utf-8"),
        base / "batch.jsonl": f"{line}\n{line}\n".encode(),
    }


def main() -> int:
    """Write (or with --check compare) every generated file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    standards = declared()
    files = {**outputs(standards, DATA), **extra_files(standards)}
    existing = {p for p in DATA.rglob("*") if p.is_file()}
    if args.check:
        stale = sorted(
            str(p.relative_to(ROOT)) for p, data in files.items() if not p.exists() or p.read_bytes() != data
        )
        extra = sorted(str(p.relative_to(ROOT)) for p in existing - set(files))
        for name in stale:
            print(f"differs: {name}")
        for name in extra:
            print(f"not generated: {name}")
        return 1 if stale or extra else 0
    for path in existing - set(files):
        path.unlink()
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(files)} files under {DATA.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
