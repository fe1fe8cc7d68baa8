"""``jgx standards`` and ``jgx validate`` from the command line: output in both languages, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from click.testing import CliRunner

from gateway.cli import main
from standards.catalogue import DATA_DIR

SC06 = DATA_DIR / "SC-06" / "1.0.0" / "fixtures"
SC05 = DATA_DIR / "SC-05" / "1.0.0" / "fixtures"


def run(*args: str) -> tuple[int, str]:
    """Exit code and output of ``jgx ARGS``."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_good_file_exits_zero() -> None:
    """A clean record exits 0 and says so in the summary."""
    code, out = run("validate", "-s", "SC-06", "--on", "2025-06-30", str(SC06 / "good" / "default.json"))
    assert 0 == code
    assert "0 个错误" in out
    assert "0 error(s)" in out


def test_bad_fixture_prints_findings_in_both_languages_and_exits_one() -> None:
    """A record breaking a rule prints file, line, rule, clause, pointer and both messages, and exits 1."""
    bad = SC06 / "bad" / "SC-06.R004-reported-before-closed.json"
    code, out = run("validate", "--standard", "SC-06@1.0.0", "--on", "2025-06-30", str(bad))
    assert 1 == code
    assert f"{bad}:1: error SC-06.R004 [SC-06 5.4] /reportTime" in out
    assert "报送时间不得早于结案日期" in out
    assert "the report time is not before the closing date" in out


def test_csv_jsonl_and_json_files_in_one_run() -> None:
    """CSV exports, JSONL batches and JSON records are validated in one run."""
    code, out = run(
        "validate",
        "-s",
        "SC-05",
        "--on",
        "2025-06-30",
        str(SC05 / "good" / "export.csv"),
        str(SC05 / "good" / "batch.jsonl"),
        str(SC05 / "good" / "default.json"),
    )
    assert 0 == code
    assert "5 条记录" in out


def test_usage_and_io_errors_exit_two(tmp_path: Path) -> None:
    """An unknown standard, a version not in force or a missing file exit 2 with a clear message."""
    good = str(SC06 / "good" / "default.json")
    code, out = run("validate", "-s", "SC-99", good)
    assert 2 == code
    assert "STANDARD_UNKNOWN" in out
    code, out = run("validate", "-s", "SC-06@1.0.0", "--on", "2020-01-01", good)
    assert 2 == code
    assert "VERSION_NOT_IN_FORCE" in out
    code, out = run("validate", "-s", "SC-06", str(tmp_path / "missing.json"), good)
    assert 2 == code
    assert "missing.json" in out
    code, _ = run("validate", "-s", "SC-06", str(tmp_path / "records.xlsx"))
    assert 2 == code


def test_json_and_junit_reports() -> None:
    """--format json gives a parseable document; --format junit JUnit XML with a failure per bad record."""
    bad = str(SC06 / "bad" / "SC-06.R001-letters.json")
    code, out = run("validate", "-s", "SC-06", "--on", "2025-06-30", "--format", "json", bad)
    doc = json.loads(out)
    assert (1, ["SC-06.R001"]) == (code, [f["ruleId"] for f in doc["files"][0]["findings"]])
    code, out = run("validate", "-s", "SC-06", "--on", "2025-06-30", "--format", "junit", bad)
    suites = ET.fromstring(out.split("\n", 1)[1])
    assert ["SC-06.R001"] == [f.get("type") for f in suites.iter("failure")]


def test_destination_option_checks_masking() -> None:
    """--destination public flags personal information that must be removed."""
    complaint = str(DATA_DIR / "SC-11" / "1.0.0" / "fixtures" / "good" / "complaint.json")
    code, out = run("validate", "-s", "SC-11", "--on", "2025-06-30", "--destination", "public", complaint)
    assert 1 == code
    assert "SC-20.R001" in out


def test_standards_list_and_show() -> None:
    """``jgx standards list`` names all twenty; ``show`` prints clauses, fields and rules."""
    code, out = run("standards", "list", "--format", "json")
    assert 0 == code
    assert 20 == len({s["id"] for s in json.loads(out)})
    code, out = run("standards", "show", "SC-06")
    assert 0 == code
    assert "punishDocumentCode" in out
    assert "SC-06.R002" in out
    assert "条款 / Clauses" in out
    code, out = run("standards", "show", "SC-42")
    assert 2 == code


def test_a_null_line_or_record_is_an_error(tmp_path: Path) -> None:
    """A JSON null record, or a null line of a JSONL file, exits 1 with SC-17.R013."""
    (tmp_path / "null.json").write_bytes(b"null")
    good = (SC06 / "good" / "default.json").read_bytes().replace(b"\n", b"")
    (tmp_path / "batch.jsonl").write_bytes(good + b"\nnull\n")
    for name in ("null.json", "batch.jsonl"):
        code, out = run("validate", "-s", "SC-06", "--on", "2025-06-30", str(tmp_path / name))
        assert (1, True) == (code, "SC-17.R013" in out)


def test_a_complaint_masked_for_public_passes_for_public(tmp_path: Path) -> None:
    """The record standards.mask gives for public release passes --destination public (exit 0)."""
    import standards

    good = DATA_DIR / "SC-11" / "1.0.0" / "fixtures" / "good" / "complaint.json"
    masked = standards.mask(json.loads(good.read_text("utf-8")), "public", standard="SC-11")
    path = tmp_path / "public.json"
    path.write_text(json.dumps(masked, ensure_ascii=False), "utf-8")
    code, out = run("validate", "-s", "SC-11", "--on", "2025-06-30", "--destination", "public", str(path))
    assert 0 == code, out
