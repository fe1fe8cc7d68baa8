"""Reading a department's native export: CSV with Chinese headers (and the aliases real exports use), JSON.

A native export is not in the standard's layout: its columns have the department system's own names,
dates are written three ways, money may be in 万元, codes may be labels. A `Column` says which
standard field a column feeds, under which headers it may appear, and how a cell converts. Each row
either becomes a `NativeRow` (field → value) or a `RowProblem` with its line number and the reason in
Chinese and English; one bad row never stops the others.

Encodings: UTF-8 (with or without BOM) and GBK/GB18030, as exports from older systems are. The
encoding is chosen per file from its first non-ASCII line; a line that does not decode in it is a
row problem of its own.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from adapters.sdk.department import RowProblem

__all__ = [
    "CellError",
    "Column",
    "NativeRow",
    "boolean",
    "code",
    "day",
    "listed",
    "listed_many",
    "moment",
    "number",
    "ratio",
    "read_csv",
    "read_json",
    "text",
    "text_list",
    "wan_yuan",
]


class CellError(ValueError):
    """A cell that does not convert; carries the reason in Chinese and English."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


Convert = Callable[[str], Any]


@dataclass(frozen=True, slots=True)
class Column:
    """A standard field fed by a native column known under `headers` (the first is the system's own)."""

    field: str
    headers: tuple[str, ...]
    convert: Convert = str
    required: bool = False


@dataclass(frozen=True, slots=True)
class NativeRow:
    """A converted native row: standard field -> value, and the line it came from."""

    source: str
    line: int
    values: Mapping[str, Any]


# -- converters -----------------------------------------------------------------------------------


def text(max_length: int) -> Convert:
    """Text of at most `max_length` characters, trimmed."""

    def convert(value: str) -> str:
        if len(value) > max_length:
            raise CellError(
                f"长度 {len(value)} 超过 {max_length}", f"{len(value)} characters, at most {max_length}"
            )
        return value

    return convert


def text_list(value: str) -> list[str]:
    """A list written as ``张三、李四`` or ``张三;李四`` (Chinese and ASCII separators)."""
    return [part.strip() for part in re.split(r"[、,，;；|/]", value) if part.strip()]


_DATE_FORMATS: Final = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y.%m.%d")
_TIME_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
)


def day(value: str) -> str:
    """A date in any of the usual native forms, as ``YYYY-MM-DD``."""
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(value, form).date().isoformat()
        except ValueError:
            continue
    raise CellError(f"“{value}”不是日期", f"{value!r} is not a date")


def moment(value: str) -> str:
    """A date and time (or a bare date, taken as midnight) as ``YYYY-MM-DD HH:MM:SS`` (China time)."""
    for form in _TIME_FORMATS:
        try:
            return datetime.strptime(value, form).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            continue
    return f"{day(value)} 00:00:00"


def number(value: str) -> float | int:
    """A number, allowing thousands separators (``12,345.50``)."""
    cleaned = value.replace(",", "").replace("，", "")
    try:
        parsed = float(cleaned)
    except ValueError:
        raise CellError(f"“{value}”不是数字", f"{value!r} is not a number") from None
    if not math.isfinite(parsed):
        raise CellError(f"“{value}”不是数字", f"{value!r} is not a number")
    return int(parsed) if parsed.is_integer() and "." not in cleaned else parsed


def ratio(value: str) -> float:
    """A share written as ``5%`` or ``0.05``, as a number between 0 and 1."""
    share = float(number(value.removesuffix("%"))) / (100 if value.endswith("%") else 1)
    if not 0 <= share <= 1:
        raise CellError(f"“{value}”不在 0–100% 之间", f"{value!r} is not between 0 and 100%")
    return share


def wan_yuan(value: str) -> float:
    """An amount in 万元 (10,000 yuan), as yuan rounded to the fen."""
    return round(float(number(value)) * 10_000, 2)


_TRUE: Final = frozenset({"是", "Y", "y", "1", "true", "TRUE", "有"})
_FALSE: Final = frozenset({"否", "N", "n", "0", "false", "FALSE", "无"})


def boolean(value: str) -> bool:
    """是/否, Y/N, 1/0."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError(f"“{value}”应为“是”或“否”", f"{value!r} is not yes/no")


def code(table: Mapping[str, str], *, name_zh: str, name_en: str) -> Convert:
    """A code given either as the code itself or as its label (``一般程序`` -> ``02``)."""
    codes = frozenset(table.values())

    def convert(value: str) -> str:
        if value in codes:
            return value
        if value in table:
            return table[value]
        raise CellError(f"“{value}”不是有效的{name_zh}", f"{value!r} is not a valid {name_en}")

    return convert


def listed(name: str) -> Convert:
    """A code of the standards' code list `name`, given as the code or as its Chinese label."""
    from standards.codelists import code_list

    codes = code_list(name)
    by_label = {codes.label_zh(c) or c: c for c in codes.codes()}
    return code(by_label, name_zh=f"“{codes.title_zh}”代码", name_en=f"{codes.title_en} code")


def listed_many(name: str) -> Convert:
    """Several codes of code list `name` in one cell (``警告;罚款`` -> ``["01", "02"]``)."""
    one = listed(name)
    return lambda value: [one(part) for part in text_list(value)]


# -- readers ----------------------------------------------------------------------------------------


def _lines(raw: bytes, source: str, problems: list[RowProblem]) -> Iterator[str]:
    """Decoded lines (with their newline); a line that does not decode becomes a problem and a blank line."""
    encoding: str | None = None
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number_, line in enumerate(lines, start=1):
        if number_ == 1 and line.startswith(b"\xef\xbb\xbf"):
            line, encoding = line[3:], "utf-8"  # noqa: PLW2901 - the BOM is not part of the header
        if encoding is None and not line.isascii():
            try:
                line.decode("utf-8")
                encoding = "utf-8"
            except UnicodeDecodeError:
                encoding = "gb18030"
        try:
            yield line.decode(encoding or "ascii").rstrip("\r") + "\n"
        except UnicodeDecodeError:
            problems.append(
                RowProblem(
                    source,
                    number_,
                    f"该行不是 {encoding} 编码，无法读取",
                    f"the line is not valid {encoding}",
                )
            )
            yield "\n"


def _resolve(header: Sequence[str], columns: Sequence[Column]) -> dict[int, Column]:
    by_header = {h: c for c in columns for h in c.headers}
    return {i: by_header[h.strip()] for i, h in enumerate(header) if h.strip() in by_header}


def _convert(
    cells: Mapping[Column, str], columns: Sequence[Column], source: str, line: int
) -> NativeRow | RowProblem:
    values: dict[str, Any] = {}
    for column in columns:
        value = cells.get(column, "").strip()
        if not value:
            if column.required:
                return RowProblem(source, line, "必填项为空", "a required cell is empty", column.headers[0])
            continue
        try:
            values[column.field] = column.convert(value)
        except CellError as exc:
            return RowProblem(source, line, exc.zh, exc.en, column.headers[0])
    return NativeRow(source, line, values)


def read_csv(path: Path, columns: Sequence[Column]) -> Iterator[NativeRow | RowProblem]:
    """The rows of a native CSV export, converted; problems carry the 1-based line (the header is line 1)."""
    source = path.name
    problems: list[RowProblem] = []
    reader = csv.reader(_lines(path.read_bytes(), source, problems))
    header: dict[int, Column] | None = None
    width = 0
    for cells in reader:
        yield from problems
        problems.clear()
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header, width = _resolve(cells, columns), len(cells)
            missing = [c.headers[0] for c in columns if c.required and c not in header.values()]
            if missing:
                yield RowProblem(
                    source,
                    line,
                    f"缺少必需的列：{'、'.join(missing)}",
                    f"missing columns: {', '.join(missing)}",
                )
                return
            continue
        if len(cells) != width:
            yield RowProblem(
                source,
                line,
                f"列数 {len(cells)} 与表头的 {width} 列不符",
                f"{len(cells)} cells, header has {width}",
            )
            continue
        yield _convert({column: cells[i] for i, column in header.items()}, columns, source, line)
    yield from problems


def read_json(path: Path, columns: Sequence[Column], *, items: str = "") -> Iterator[NativeRow | RowProblem]:
    """The objects of a native JSON export (a list, or the list under `items`); line = item number."""
    source = path.name
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        yield RowProblem(source, 1, f"文件不是有效的 JSON：{exc}", f"the file is not valid JSON: {exc}")
        return
    rows = doc.get(items, []) if items and isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        yield RowProblem(source, 1, "JSON 中没有记录列表", "the JSON holds no list of records")
        return
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            yield RowProblem(source, index, "记录不是 JSON 对象", "the record is not a JSON object")
            continue
        cells = {c: _json_cell(row, c) for c in columns}
        yield _convert(cells, columns, source, index)


def _json_cell(row: Mapping[str, Any], column: Column) -> str:
    for key in column.headers:
        if key in row and row[key] is not None:
            value = row[key]
            if isinstance(value, bool):
                return "是" if value else "否"
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return ""
