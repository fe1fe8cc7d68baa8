"""Strict decoding of record bytes (SC-17 clause 4): every kind of bad bytes has its own rule id."""

from __future__ import annotations

import pytest

from standards.payload import Limits, decode_record

CASES = [
    ("gbk", '{"a": "中文"}'.encode("gb18030"), "SC-17.R001"),
    ("truncated", b'{"a": ', "SC-17.R002"),
    ("not-json", b"hello", "SC-17.R002"),
    ("duplicate", b'{"a": 1, "a": 2}', "SC-17.R003"),
    ("nan", b'{"a": NaN}', "SC-17.R004"),
    ("infinity", b'{"a": -Infinity}', "SC-17.R004"),
    ("deep", b"[" * 40 + b"]" * 40, "SC-17.R005"),
    ("size", b'{"a": "' + b"x" * 9000 + b'"}', "SC-17.R006"),
    ("big-int", b'{"a": 9007199254740992}', "SC-17.R007"),
    ("huge-int", b'{"a": ' + b"9" * 5000 + b"}", "SC-17.R007"),
    ("float-overflow", b'{"a": 1e400}', "SC-17.R007"),
]


@pytest.mark.parametrize(("name", "payload", "rule_id"), CASES, ids=[c[0] for c in CASES])
def test_bad_bytes_become_one_finding_with_their_rule(name: str, payload: bytes, rule_id: str) -> None:
    """Bad bytes give no value and an error finding of their own rule id."""
    value, findings = decode_record(payload, Limits(max_bytes=8192, max_depth=32))
    assert value is None
    assert [rule_id] == [f.rule_id for f in findings]
    assert all(f.severity == "error" and f.message_zh and f.message_en for f in findings)


def test_duplicate_keys_are_located_by_pointer() -> None:
    """Every repeated key is reported with the JSON pointer of where it repeats, however deep."""
    _, findings = decode_record(b'{"a": {"b": [1, {"c": 1, "c": 2}]}, "d": 1, "d": 2}')
    assert ["/a/b/1/c", "/d"] == sorted(f.pointer for f in findings)


def test_bom_is_a_warning_and_the_record_still_decodes() -> None:
    """A UTF-8 byte order mark is ignored with a warning."""
    value, findings = decode_record(b'\xef\xbb\xbf{"a": 1}')
    assert {"a": 1} == value
    assert [("SC-17.R008", "warning")] == [(f.rule_id, f.severity) for f in findings]


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    """Many brackets inside a string are text, not nesting."""
    value, findings = decode_record(b'{"a": "' + b"[" * 100 + b'"}', Limits(max_depth=4))
    assert [] == findings
    assert {"a": "[" * 100} == value


def test_gbk_bytes_are_named_as_such() -> None:
    """A GBK/GB18030 record is reported as not UTF-8, with a hint at its real encoding."""
    _, findings = decode_record('{"名称": "成都"}'.encode("gb18030"))
    assert "GB18030" in findings[0].message_en
