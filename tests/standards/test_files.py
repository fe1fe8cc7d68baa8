"""Streaming files: JSONL and CSV (Chinese headers, aliases, GB18030); bad rows reported by line."""

from __future__ import annotations

import io
import json
from datetime import date

from standards.catalogue import DATA_DIR
from standards.files import judge_stream
from standards.payload import DEFAULT_LIMITS, Limits
from standards.validator import compiled

DAY = date(2025, 6, 30)
GOOD = DATA_DIR / "SC-05" / "1.0.0" / "fixtures" / "good"


def lines(data: bytes, fmt: str, limits: Limits = DEFAULT_LIMITS) -> list[tuple[int, list[str]]]:
    """(line, rule ids) for every record or file-level note of a stream."""
    results = judge_stream(io.BytesIO(data), fmt, compiled("SC-05", "1.0.0"), on=DAY, limits=limits)
    return [(r.line, [f.rule_id for f in r.findings]) for r in results]


def test_jsonl_reports_each_bad_line_and_goes_on() -> None:
    """An oversized line, a broken line and a good line each get their own result, by line number."""
    good = json.dumps(
        json.loads((GOOD / "default.json").read_text(encoding="utf-8")), ensure_ascii=False
    ).encode()
    data = b"\n".join([good, b'{"a": ' + b"1" * 5000 + b"}", b"{broken", b"", good]) + b"\n"
    assert [(1, []), (2, ["SC-17.R006"]), (3, ["SC-17.R002"]), (5, [])] == lines(
        data, "jsonl", Limits(max_bytes=4096)
    )


def test_csv_header_aliases_and_chinese_labels_are_understood() -> None:
    """The shipped CSV export (Chinese headers, 委托部门 for 受委托部门) yields two clean records."""
    assert [(2, []), (3, [])] == lines((GOOD / "export.csv").read_bytes(), "csv")


def test_csv_rows_with_missing_or_extra_cells_are_reported_by_line() -> None:
    """Rows with too few or too many cells get SC-17.R009 / R010 at their line; later rows are judged."""
    header, row = (GOOD / "export.csv").read_text(encoding="utf-8").splitlines()[:2]
    cells = row.split(",")
    data = "\n".join([header, ",".join(cells[:-2]), row + ",x", row]).encode()
    assert [(2, ["SC-17.R009"]), (3, ["SC-17.R010"]), (4, [])] == lines(data, "csv")


def test_gb18030_csv_is_read_with_a_warning() -> None:
    """A GBK/GB18030 export is decoded as such; the choice is reported once as a warning."""
    data = (GOOD / "export.csv").read_text(encoding="utf-8").encode("gb18030")
    assert [(1, ["SC-17.R012"]), (2, []), (3, [])] == lines(data, "csv")


def test_an_undecodable_line_does_not_stop_the_file() -> None:
    """A line in another encoding inside a UTF-8 file is one finding; the rest of the file is judged."""
    text = (GOOD / "export.csv").read_text(encoding="utf-8").splitlines()
    data = "\n".join(text[:2]).encode() + b"\n" + text[1].encode("gb18030") + b"\n" + text[1].encode() + b"\n"
    assert [(2, []), (3, ["SC-17.R001"]), (4, [])] == lines(data, "csv")


def test_unknown_csv_header_is_a_warning_and_ignored() -> None:
    """A column the standard does not define is named once and ignored."""
    header, row = (GOOD / "export.csv").read_text(encoding="utf-8").splitlines()[:2]
    data = f"{header},内部备注\n{row},无\n".encode()
    assert [(1, ["SC-17.R011"]), (2, [])] == lines(data, "csv")
