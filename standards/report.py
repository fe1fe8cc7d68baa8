"""Validation results for people and machines: text (bilingual), JSON and JUnit XML."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final
from xml.etree import ElementTree as ET

from standards.findings import Finding, printable

__all__ = ["FileResult", "LocatedFinding", "json_report", "junit", "summary", "text_line", "xml_text"]


@dataclass(frozen=True, slots=True)
class LocatedFinding:
    """A finding with the file and line of the record it is about (line 0: the file itself)."""

    path: str
    line: int
    finding: Finding


@dataclass
class FileResult:
    """Everything about one file: how many records it held and what was found."""

    path: str
    records: int = 0
    findings: list[LocatedFinding] = field(default_factory=list)
    error: str = ""  # an I/O or usage problem that stopped the file

    def count(self, severity: str) -> int:
        """How many findings have this severity."""
        return sum(1 for f in self.findings if f.finding.severity == severity)


def text_line(item: LocatedFinding) -> str:
    """``file:line: error SC-06.R004 [SC-06 5.4] /reportTime`` and the two messages, indented."""
    f = item.finding
    where = f" {f.pointer}" if f.pointer else ""
    return (
        f"{printable(item.path)}:{item.line}: {f.severity} {f.rule_id} [{f.clause}]{where}\n"
        f"    {f.message_zh}\n    {f.message_en}"
    )


def summary(results: Iterable[FileResult]) -> str:
    """One bilingual closing line."""
    items = list(results)
    records = sum(r.records for r in items)
    errors = sum(r.count("error") for r in items)
    warnings = sum(r.count("warning") for r in items)
    failed = sum(1 for r in items if r.error)
    zh = f"{len(items)} 个文件，{records} 条记录，{errors} 个错误，{warnings} 个警告"
    en = f"{len(items)} file(s), {records} record(s), {errors} error(s), {warnings} warning(s)"
    if failed:
        zh, en = f"{zh}，{failed} 个文件无法读取", f"{en}, {failed} unreadable"
    return f"{zh} / {en}"


def json_report(results: Iterable[FileResult], standard: str) -> str:
    """The results as one JSON document."""
    items = list(results)
    doc = {
        "standard": standard,
        "files": [
            {
                "path": printable(r.path),
                "records": r.records,
                "error": printable(r.error) or None,
                "findings": [{"line": f.line, **f.finding.to_json()} for f in r.findings],
            }
            for r in items
        ],
        "summary": {
            "records": sum(r.records for r in items),
            "errors": sum(r.count("error") for r in items),
            "warnings": sum(r.count("warning") for r in items),
            "infos": sum(r.count("info") for r in items),
        },
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


# Characters XML 1.0 does not allow (C0 controls but tab and newlines, surrogates, U+FFFE/U+FFFF), and a
# carriage return, which a parser would turn into a newline anyway.
_NOT_XML: Final = re.compile("[^\t\n\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry written as ``\\uXXXX`` (well-formed whatever
    a record held)."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def junit(results: Iterable[FileResult], standard: str) -> str:
    """JUnit XML: a test suite per file, a test case per record with findings (and one for the rest)."""
    suites = ET.Element("testsuites", name=xml_text(f"jgx validate {standard}"))
    for r in results:
        by_line: dict[int, list[Finding]] = {}
        for item in r.findings:
            by_line.setdefault(item.line, []).append(item.finding)
        failing = {line for line, found in by_line.items() if any(f.severity == "error" for f in found)}
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=xml_text(r.path),
            tests=str(max(r.records, 1)),
            failures=str(len(failing)),
            errors="1" if r.error else "0",
        )
        if r.error:
            case = ET.SubElement(suite, "testcase", classname=xml_text(r.path), name="read")
            ET.SubElement(case, "error", message=xml_text(r.error))
        for line, found in sorted(by_line.items()):
            case = ET.SubElement(suite, "testcase", classname=xml_text(r.path), name=f"line {line}")
            text = xml_text(
                "\n".join(
                    f"{f.severity} {f.rule_id} [{f.clause}] {f.pointer}\n{f.message_zh}\n{f.message_en}"
                    for f in found
                )
            )
            if line in failing:
                first = next(f for f in found if f.severity == "error")
                message = xml_text(f"{first.rule_id}: {first.message_en}")
                failure = ET.SubElement(case, "failure", message=message, type=first.rule_id)
                failure.text = text
            else:
                ET.SubElement(case, "system-out").text = text
        clean = r.records - len({line for line in by_line if line > 0})
        if clean > 0:
            name = f"{clean} record(s) without findings"
            ET.SubElement(suite, "testcase", classname=xml_text(r.path), name=name)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)
