"""Reports stay well-formed whatever a record holds: JUnit XML parses, JSON decodes and every output can
be written as UTF-8, for control characters, lone surrogates and markup in values, keys and bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.cli import main
from standards.catalogue import DATA_DIR

GOOD = json.loads((DATA_DIR / "SC-06" / "1.0.0" / "fixtures" / "good" / "default.json").read_text("utf-8"))
HOSTILE = ["\x00", "\x01", "\x08", "\x0b", "\x1f", "\x7f", "\r", "\ud800", "\udfff", "\ufffe", "\uffff"]
MARKUP = ["&", "<", "]", ">", '"', "\U0001f600"]
hostile_text = st.text(st.one_of(st.sampled_from(HOSTILE + MARKUP), st.characters()), max_size=12)
# fields whose rules quote the value they judge, and free text
FIELDS = ["regionCode", "counterpartIdCode", "counterpartIdType", "punishActionName", "caseSource"]


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _write(tmp: Path, name: str, data: bytes) -> str:
    path = tmp / name
    path.write_bytes(data)
    return str(path)


@st.composite
def hostile_records(draw: st.DrawFn) -> bytes:
    """An SC-06 record with hostile text in some fields and in a key, as JSON with \\u escapes."""
    record: dict[str, Any] = dict(GOOD)
    for name in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True)):
        record[name] = draw(hostile_text)
    if draw(st.booleans()):
        record[draw(hostile_text)] = draw(hostile_text)
    return json.dumps(record, ensure_ascii=True).encode("ascii")


def _check_outputs(path: str) -> None:
    code, out = _cli("validate", "-s", "SC-06", "--on", "2025-06-30", "--format", "junit", path)
    assert code in (0, 1), out
    ET.fromstring(out.split("\n", 1)[1].encode("utf-8"))  # the XML parser refuses any ill-formed character
    code, out = _cli("validate", "-s", "SC-06", "--on", "2025-06-30", "--format", "json", path)
    assert code in (0, 1), out
    json.loads(out)
    out.encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=hostile_records())
def test_junit_and_json_reports_stay_well_formed_for_hostile_values(tmp_path: Path, payload: bytes) -> None:
    """Control characters, surrogates and markup in values and keys never break the XML or the JSON."""
    _check_outputs(_write(tmp_path, "hostile.json", payload))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(max_size=200))
def test_junit_and_json_reports_stay_well_formed_for_arbitrary_bytes(tmp_path: Path, payload: bytes) -> None:
    """Whatever bytes a JSON or JSONL file holds, the reports are well-formed."""
    _check_outputs(_write(tmp_path, "bytes.json", payload))
    _check_outputs(_write(tmp_path, "bytes.jsonl", payload))


@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
def test_the_cli_reports_a_lone_surrogate_without_crashing(tmp_path: Path, fmt: str) -> None:
    """The real jgx process (stdout UTF-8, strict) reports a \\ud800 value and key as SC-17.R014, exit 1."""
    payload = json.dumps(GOOD | {"punishActionName": "\ud800", "x\udfff": "\x01"}, ensure_ascii=True)
    path = _write(tmp_path, "surrogate.json", payload.encode("ascii"))
    jgx = [sys.executable, "-c", "from gateway.cli import main; main()"]
    result = subprocess.run(
        [*jgx, "validate", "-s", "SC-06", "--format", fmt, path],
        capture_output=True,
        env={"PYTHONIOENCODING": "utf-8:strict", "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert (1, b"") == (result.returncode, result.stderr)
    assert b"SC-17.R014" in result.stdout
