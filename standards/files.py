"""Streaming files of records: JSON (one record), JSONL (one record a line) and CSV with Chinese headers.

Nothing is loaded whole: lines are read with a bound (a line longer than the record limit is skipped
and reported), CSV is decoded line by line (UTF-8, UTF-8 with BOM, or GB18030 as real exports often
are: the choice is reported), and every problem becomes a finding with its line. One bad row never
stops the rest.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, Final

from standards.findings import Finding
from standards.model import Field
from standards.payload import DEFAULT_LIMITS, Limits, decode_record
from standards.validator import CompiledStandard, validate_record

__all__ = ["FILE_RULES", "FORMATS", "RecordResult", "judge_file", "judge_stream"]

FORMATS: Final = ("json", "jsonl", "csv")

FILE_RULES: Final[dict[str, tuple[str, str, str, str]]] = {
    "SC-17.R009": ("5.2", "error", "CSV 行的列数少于表头", "a CSV row has fewer cells than the header"),
    "SC-17.R010": ("5.2", "error", "CSV 行的列数多于表头", "a CSV row has more cells than the header"),
    "SC-17.R011": (
        "5.1",
        "warning",
        "CSV 表头含标准未定义的列（已忽略）",
        "a CSV header names a column the standard does not define (ignored)",
    ),
    "SC-17.R012": (
        "5.3",
        "warning",
        "文件不是 UTF-8 编码，已按 GB18030 读取",
        "the file is not UTF-8; it was read as GB18030",
    ),
}
_CHUNK: Final = 1 << 16
_BOOLEAN: Final = {
    "是": True,
    "否": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "Y": True,
    "N": False,
}
_LIST_SPLIT: Final = re.compile(r"[;；|]")
_INTEGER: Final = re.compile(r"-?[0-9]+")
_NUMBER: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _file_finding(rule_id: str, zh: str = "", en: str = "") -> Finding:
    clause, severity, base_zh, base_en = FILE_RULES[rule_id]
    return Finding(
        rule_id,
        f"SC-17 {clause}",
        severity,  # type: ignore[arg-type]
        "",
        base_zh + (f"：{zh}" if zh else ""),
        base_en + (f": {en}" if en else ""),
    )


@dataclass(frozen=True, slots=True)
class RecordResult:
    """The findings of one record (or of the file itself, record None) and the line it starts on."""

    line: int
    findings: list[Finding]
    record: bool = True


def _bounded_lines(
    stream: BinaryIO, limit: int, progress: Callable[[int], None] | None
) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) per line; None for a line longer than ``limit`` (skipped, never loaded)."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if progress:
            progress(len(line))
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # drain the rest of the oversized line in chunks
                rest = stream.readline(_CHUNK)
                if progress:
                    progress(len(rest))
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
        else:
            yield number, line


def _too_large(limits: Limits) -> list[Finding]:
    rule_zh, rule_en = "记录字节数超过上限", "the record is larger than the limit"
    return [
        Finding(
            "SC-17.R006",
            "SC-17 4.4",
            "error",
            "",
            f"{rule_zh}：超过 {limits.max_bytes} 字节",
            f"{rule_en}: over {limits.max_bytes} bytes",
        )
    ]


def _judge_json(
    stream: BinaryIO,
    target: CompiledStandard,
    on: date | None,
    destination: str | None,
    limits: Limits,
    progress: Callable[[int], None] | None,
) -> Iterator[RecordResult]:
    payload = stream.read(limits.max_bytes + 1)
    if progress:
        progress(len(payload))
    if len(payload) > limits.max_bytes:
        yield RecordResult(1, _too_large(limits))
        return
    yield RecordResult(1, _judge_bytes(payload, target, on, destination, limits))


def _judge_bytes(
    payload: bytes, target: CompiledStandard, on: date | None, destination: str | None, limits: Limits
) -> list[Finding]:
    record, findings = decode_record(payload, limits)
    if record is None:
        return findings
    return findings + validate_record(record, target, on=on, destination=destination)


def _judge_jsonl(
    stream: BinaryIO,
    target: CompiledStandard,
    on: date | None,
    destination: str | None,
    limits: Limits,
    progress: Callable[[int], None] | None,
) -> Iterator[RecordResult]:
    for number, line in _bounded_lines(stream, limits.max_bytes, progress):
        if line is None:
            yield RecordResult(number, _too_large(limits))
        elif line.strip():
            yield RecordResult(number, _judge_bytes(line.rstrip(b"\r\n"), target, on, destination, limits))


def _header_map(fields: Iterable[Field]) -> dict[str, Field]:
    names: dict[str, Field] = {}
    for row in fields:
        if "." in row.name or "[]" in row.name:
            continue
        for header in (row.label_zh, row.name, *row.aliases):
            names.setdefault(header, row)
    return names


def _cell(value: str, row: Field) -> Any:
    """A CSV cell as the JSON value the field table expects; text that does not convert stays text."""
    value = value.strip()
    if row.type == "integer" and _INTEGER.fullmatch(value):
        return int(value)
    if row.type == "number" and _NUMBER.fullmatch(value):
        return int(value) if _INTEGER.fullmatch(value) else float(value)
    if row.type == "boolean" and value in _BOOLEAN:
        return _BOOLEAN[value]
    if row.type == "array" and row.items != "object":
        return [part.strip() for part in _LIST_SPLIT.split(value) if part.strip()]
    if row.type in {"object", "array"}:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _decoded_lines(
    stream: BinaryIO, limits: Limits, progress: Callable[[int], None] | None, notes: list[RecordResult]
) -> Iterator[str]:
    """Text lines of a CSV file in the encoding it turns out to have; undecodable lines become findings."""
    encoding: str | None = None
    for number, raw in _bounded_lines(stream, limits.max_bytes, progress):
        if raw is None:
            notes.append(RecordResult(number, _too_large(limits)))
            yield "\n"
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw, encoding = raw[3:], "utf-8"  # noqa: PLW2901 (the BOM is not part of the first line)
        if encoding is None and not raw.isascii():
            try:
                raw.decode("utf-8")
                encoding = "utf-8"
            except UnicodeDecodeError:
                encoding = "gb18030"
                notes.append(
                    RecordResult(
                        number,
                        [_file_finding("SC-17.R012", f"自第 {number} 行", f"from line {number}")],
                        record=False,
                    )
                )
        try:
            yield raw.decode(encoding or "ascii")
        except UnicodeDecodeError as exc:
            _, findings = decode_record(raw, limits)
            notes.append(
                RecordResult(
                    number,
                    findings
                    or [
                        Finding("SC-17.R001", "SC-17 4.1", "error", "", "记录不是有效的 UTF-8 编码", str(exc))
                    ],
                )
            )
            yield "\n"


def _judge_csv(
    stream: BinaryIO,
    target: CompiledStandard,
    on: date | None,
    destination: str | None,
    limits: Limits,
    progress: Callable[[int], None] | None,
) -> Iterator[RecordResult]:
    notes: list[RecordResult] = []
    reader = csv.reader(_decoded_lines(stream, limits, progress, notes))
    known = _header_map(target.standard.fields)
    header: list[Field | None] | None = None
    last_line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if reader.line_num == last_line:
                break
            last_line = reader.line_num
            yield RecordResult(
                reader.line_num,
                [
                    Finding(
                        "SC-17.R002",
                        "SC-17 4.2",
                        "error",
                        "",
                        f"CSV 格式错误：{exc}",
                        f"malformed CSV: {exc}",
                    )
                ],
            )
            continue
        yield from notes
        notes.clear()
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [known.get(c.strip().lstrip("\ufeff")) for c in cells]
            unknown = [c for c, row in zip(cells, header, strict=True) if row is None]
            if unknown:
                shown = "、".join(unknown)
                yield RecordResult(
                    line, [_file_finding("SC-17.R011", shown, ", ".join(unknown))], record=False
                )
            continue
        if len(cells) != len(header):
            rule = "SC-17.R009" if len(cells) < len(header) else "SC-17.R010"
            detail = f"{len(cells)} ≠ {len(header)}"
            yield RecordResult(line, [_file_finding(rule, detail, detail)])
            continue
        record = {
            row.name: _cell(c, row)
            for c, row in zip(cells, header, strict=True)
            if row is not None and c.strip()
        }
        yield RecordResult(line, validate_record(record, target, on=on, destination=destination))
    yield from notes


_READERS: Final = {"json": _judge_json, "jsonl": _judge_jsonl, "csv": _judge_csv}


def judge_stream(
    stream: BinaryIO,
    fmt: str,
    target: CompiledStandard,
    *,
    on: date | None = None,
    destination: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> Iterator[RecordResult]:
    """Judge every record of an open binary stream in format ``json`` | ``jsonl`` | ``csv``."""
    return _READERS[fmt](stream, target, on, destination, limits, progress)


def judge_file(
    path: Path,
    target: CompiledStandard,
    *,
    fmt: str | None = None,
    on: date | None = None,
    destination: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> Iterator[RecordResult]:
    """Judge a file (format from its suffix unless given); raises OSError when it cannot be opened."""
    chosen = fmt or format_of(path)
    with path.open("rb") as stream:
        yield from judge_stream(
            stream, chosen, target, on=on, destination=destination, limits=limits, progress=progress
        )


def format_of(path: Path) -> str:
    """``json`` | ``jsonl`` | ``csv`` from the file name (``.ndjson`` is JSONL); ValueError otherwise."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "ndjson":
        return "jsonl"
    if suffix in FORMATS:
        return suffix
    raise ValueError(f"cannot tell the format of {path.name}: use .json, .jsonl or .csv, or --input-format")
