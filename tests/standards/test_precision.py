"""Every clause that states a precision is checked for every amount it names, and for every kind of record
it speaks of: 元 amounts have at most two decimals, 万元 amounts at most six, as written in the record."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest

import standards
from standards import catalogue
from standards.catalogue import DATA_DIR
from standards.payload import decode_record

DAY = date(2025, 6, 30)
_UNIT = re.compile(r"（(元|万元)）")
AMOUNTS = [
    (s, row, _UNIT.search(row.label_zh).group(1))  # type: ignore[union-attr]
    for s in catalogue()
    if s.kind == "record"
    for row in s.fields
    if row.type == "number" and _UNIT.search(row.label_zh)
]


def _good(standard: str, name: str = "default") -> dict[str, Any]:
    path = DATA_DIR / standard / "1.0.0" / "fixtures" / "good" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize(("s", "row", "unit"), AMOUNTS, ids=[f"{s.id}/{row.name}" for s, row, _ in AMOUNTS])
def test_every_amount_with_a_unit_has_its_precision_checked(s: Any, row: Any, unit: str) -> None:
    """A number field labelled （元） or （万元） has a money_unit rule capping its decimals (2 or 6)."""
    cap = 2 if unit == "元" else 6
    caps = [
        r.params.get("maxDecimals")
        for r in s.rules
        if r.kind == "money_unit" and r.params["field"] == row.name
    ]
    assert cap in caps, (s.id, row.name, caps)


def test_the_amounts_are_found() -> None:
    """The table of amounts holds the SC-06 fine, confiscated and paid amounts and the SC-10 万元 amounts."""
    names = {(s.id, row.name) for s, row, _ in AMOUNTS}
    assert {("SC-06", "confiscatedAmount"), ("SC-06", "paidFineAmount"), ("SC-10", "CF_NR_WFFF")} <= names


@pytest.mark.parametrize(
    ("field", "value"),
    [("confiscatedAmount", 1.234), ("fineAmount", 50000.001), ("paidFineAmount", 0.125)],
)
def test_a_penalty_amount_with_three_decimals_is_refused(field: str, value: float) -> None:
    """SC-06 5.6: fines, confiscated and paid amounts are in yuan to the fen."""
    record = _good("SC-06") | {field: value}
    found = standards.validate(json.dumps(record).encode(), "SC-06", "1.0.0", on=DAY)
    clauses = ("SC-06 5.5", "SC-06 5.6")
    assert f"/{field}" in {f.pointer for f in found if f.severity == "error" and f.clause in clauses}


def test_digits_a_double_cannot_keep_are_refused_not_rounded_away() -> None:
    """50000.00000000000001 would decode to 50000.0 and pass the two-decimal rule: refused as written."""
    text = json.dumps(_good("SC-06")).replace('"fineAmount": 50000.0', '"fineAmount": 50000.00000000000001')
    found = standards.validate(text.encode(), "SC-06", "1.0.0", on=DAY)
    assert ["SC-17.R007"] == [f.rule_id for f in found]
    for text in ("0.1", "0.30000000000000004", "5.10", "1.0000000000000000000", "0.0"):
        value, findings = decode_record(f'{{"a": {text}}}'.encode())
        assert ({"a": float(text)}, []) == (value, findings)


@pytest.mark.parametrize(
    ("edit", "rule_id"),
    [
        ({"XK_XDR_LB": "1", "XK_XDR_SHXYM": None}, "SC-10.R010"),
        ({"XK_XDR_LB": "3", "XK_XDR_SHXYM": "  "}, "SC-10.R010"),
        ({"XK_XDR_LB": "2", "XK_XDR_MC": "赵六", "XK_XDR_SHXYM": None}, "SC-10.R011"),
    ],
)
def test_clauses_5_5_and_5_6_apply_to_licence_records(edit: dict[str, Any], rule_id: str) -> None:
    """SC-10 5.5/5.6 hold for an XK (行政许可) record as for a CF one: the licensee's USCC or number."""
    record = {k: v for k, v in (_good("SC-10", "XK") | edit).items() if v is not None}
    found = standards.validate(json.dumps(record, ensure_ascii=False).encode(), "SC-10", "1.0.0", on=DAY)
    assert rule_id in {f.rule_id for f in found}
    assert {"5.5", "5.6"} >= {f.clause.split()[1] for f in found if f.rule_id == rule_id}
