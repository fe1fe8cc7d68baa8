"""Strict decoding of one record's JSON bytes: UTF-8, no duplicate keys, no NaN/Infinity, bounded size,
depth and numbers (SC-17 clause 4). Bad bytes become findings, never exceptions.

The common case costs one pass of the C decoder: the object hook only compares two lengths, and the
depth is checked exactly only when the bracket count could exceed the limit.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from standards.findings import Finding, escape_pointer

__all__ = ["DEFAULT_LIMITS", "Limits", "decode_record", "parse_rule_messages"]

MAX_SAFE_INTEGER: Final = 2**53 - 1
_BOM: Final = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one record (SC-17 clause 4.4): bytes and nesting depth."""

    max_bytes: int = 1 << 20
    max_depth: int = 32


DEFAULT_LIMITS: Final = Limits()

# rule id -> (clause, severity, zh, en); the SC-17 standard.json carries the same rows for the docs.
_RULES: Final[dict[str, tuple[str, str, str, str]]] = {
    "SC-17.R001": ("4.1", "error", "记录不是有效的 UTF-8 编码", "the record is not valid UTF-8"),
    "SC-17.R002": ("4.2", "error", "记录不是语法正确的 JSON", "the record is not well-formed JSON"),
    "SC-17.R003": ("4.3", "error", "JSON 对象含重复的键", "a JSON object repeats a key"),
    "SC-17.R004": (
        "4.2",
        "error",
        "JSON 含 NaN 或 Infinity 等非标准数值",
        "the JSON contains NaN or Infinity",
    ),
    "SC-17.R005": ("4.4", "error", "JSON 嵌套层数超过上限", "the JSON nests deeper than the limit"),
    "SC-17.R006": ("4.4", "error", "记录字节数超过上限", "the record is larger than the limit"),
    "SC-17.R007": (
        "4.5",
        "error",
        "数值超出可互操作范围（整数绝对值不超过 2^53−1，须为有限数，且不超出双精度浮点数的精度）",
        "a number is outside the interoperable range (integers within ±(2^53−1), finite, and no more "
        "precise than a double keeps)",
    ),
    "SC-17.R008": (
        "4.1",
        "warning",
        "记录以字节顺序标记（BOM）开头，已忽略",
        "the record starts with a byte order mark (ignored)",
    ),
    "SC-17.R013": ("4.2", "error", "记录不是 JSON 对象", "the record is not a JSON object"),
    "SC-17.R014": (
        "4.1",
        "error",
        "字符串含孤立的 UTF-16 代理项（\\uD800–\\uDFFF），无法以 UTF-8 编码",
        "a string holds a lone UTF-16 surrogate (\\uD800-\\uDFFF) that cannot be encoded as UTF-8",
    ),
}


def parse_rule_messages() -> dict[str, tuple[str, str, str, str]]:
    """The decoding rules (id -> clause, severity, zh, en), for cross-checking with SC-17's data."""
    return dict(_RULES)


def _finding(rule_id: str, pointer: str = "", zh: str = "", en: str = "") -> Finding:
    clause, severity, base_zh, base_en = _RULES[rule_id]
    return Finding(
        rule_id,
        f"SC-17 {clause}",
        severity,  # type: ignore[arg-type]
        pointer,
        base_zh + (f"：{zh}" if zh else ""),
        base_en + (f": {en}" if en else ""),
    )


class _Duplicate(Exception):
    pass


class _BadNumber(Exception):
    def __init__(self, text: str) -> None:
        self.text = text


class _NonFinite(Exception):
    def __init__(self, text: str) -> None:
        self.text = text


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Duplicate
    return obj


def _constant(text: str) -> float:
    raise _NonFinite(text)


def _parse_int(text: str) -> int:
    if len(text) > 16:
        value = int(text) if len(text) < 4000 else None
        if value is None or abs(value) > MAX_SAFE_INTEGER:
            raise _BadNumber(text)
        return value
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise _BadNumber(text)
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _BadNumber(text)
    # A double keeps 15 significant digits; a longer number may say more than the decoded value does
    # (50000.00000000000001 decodes to 50000.0): rules would judge digits the record does not carry.
    if (len(text) > 16 or value == 0.0) and Decimal(text) != Decimal(repr(value)):
        raise _BadNumber(text)  # too precise, or so small it underflows to zero (1e-400)
    return value


_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_strict_object, parse_constant=_constant, parse_int=_parse_int, parse_float=_parse_float
)
_TOKENS: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _depth(text: str) -> int:
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":  # noqa: S105 (a bracket, not a password)
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":  # noqa: S105
            depth -= 1
    return deepest


def _duplicate_findings(text: str) -> list[Finding]:
    """Re-parse collecting every object that repeats a key, then locate each one by identity."""
    repeated: dict[int, list[str]] = {}

    def collect(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        dups: list[str] = []
        for key, value in pairs:
            if key in obj and key not in dups:
                dups.append(key)
            obj[key] = value
        if dups:
            repeated[id(obj)] = dups
        return obj

    tree = json.JSONDecoder(object_pairs_hook=collect, parse_constant=float).decode(text)
    found: list[Finding] = []

    def walk(node: object, pointer: str) -> None:
        if isinstance(node, dict):
            for key in repeated.get(id(node), ()):
                found.append(
                    _finding("SC-17.R003", f"{pointer}/{escape_pointer(key)}", f"“{key}”", repr(key))
                )
            for key, value in node.items():
                walk(value, f"{pointer}/{escape_pointer(key)}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{pointer}/{index}")

    walk(tree, "")
    return found


def decode_record(payload: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[Any, list[Finding]]:
    """Decode one record; returns (value, findings) and value None when the bytes cannot be used."""
    findings: list[Finding] = []
    if len(payload) > limits.max_bytes:
        return None, [
            _finding(
                "SC-17.R006",
                "",
                f"{len(payload)} 字节 > {limits.max_bytes}",
                f"{len(payload)} bytes > {limits.max_bytes}",
            )
        ]
    if payload.startswith(_BOM):
        findings.append(_finding("SC-17.R008"))
        payload = payload[len(_BOM) :]
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint_zh = hint_en = ""
        try:
            payload.decode("gb18030")
            hint_zh, hint_en = "（疑似 GBK/GB18030 编码）", " (looks like GBK/GB18030)"
        except UnicodeDecodeError:
            pass
        findings.append(
            _finding("SC-17.R001", "", f"第 {exc.start} 字节{hint_zh}", f"byte {exc.start}{hint_en}")
        )
        return None, findings
    if payload.count(b"[") + payload.count(b"{") > limits.max_depth:  # ASCII: as many bytes as characters
        deepest = _depth(text)
        if deepest > limits.max_depth:
            findings.append(
                _finding(
                    "SC-17.R005",
                    "",
                    f"{deepest} 层 > {limits.max_depth}",
                    f"{deepest} levels > {limits.max_depth}",
                )
            )
            return None, findings
    try:
        value = _DECODER.decode(text)
    except _Duplicate:
        findings.extend(_duplicate_findings(text))
    except _NonFinite as exc:
        findings.append(_finding("SC-17.R004", "", exc.text, exc.text))
    except _BadNumber as exc:
        shown = exc.text if len(exc.text) <= 40 else exc.text[:37] + "…"
        findings.append(_finding("SC-17.R007", "", shown, shown))
    except json.JSONDecodeError as exc:
        where_zh, where_en = (
            f"第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}",
            f"line {exc.lineno} column {exc.colno}: {exc.msg}",
        )
        findings.append(_finding("SC-17.R002", "", where_zh, where_en))
    except (RecursionError, ValueError) as exc:
        findings.append(_finding("SC-17.R002", "", str(exc)[:80], str(exc)[:80]))
    else:
        if type(value) is dict and "\\" not in text:  # the common case: an object, no escape to vet
            return value, findings
        return _usable(value, text, findings)
    return None, findings


# A \uD800-\uDFFF escape: the only way a lone surrogate gets into a string decoded from valid UTF-8.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89abAB-fF]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_JSON_TYPES: Final = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
}


def _usable(value: Any, text: str, findings: list[Finding]) -> tuple[Any, list[Finding]]:
    """The decoded value when it can be judged as a record: a JSON object whose strings are all text."""
    usable = True
    if "\\" in text and _SURROGATE_ESCAPE.search(text):  # a valid pair decodes to one character
        lone = _surrogate_findings(value, "")
        findings.extend(lone)
        usable = not lone
    if type(value) is not dict:
        kind = _JSON_TYPES.get(type(value), "value")
        findings.append(_finding("SC-17.R013", "", f"实为 {kind}", f"got {kind}"))
        usable = False
    return (value if usable else None), findings


def _surrogate_findings(node: Any, pointer: str) -> list[Finding]:
    """Every key and string value holding a lone surrogate, by pointer (the pointer shows it escaped)."""
    found: list[Finding] = []
    if type(node) is dict:
        for key, item in node.items():
            here = f"{pointer}/{escape_pointer(key)}"
            if _SURROGATE.search(key):
                found.append(_finding("SC-17.R014", here, "键名", "in a key"))
            found.extend(_surrogate_findings(item, here))
    elif type(node) is list:
        for index, item in enumerate(node):
            found.extend(_surrogate_findings(item, f"{pointer}/{index}"))
    elif type(node) is str and _SURROGATE.search(node):
        found.append(_finding("SC-17.R014", pointer))
    return found
