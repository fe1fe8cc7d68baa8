"""SC-16 rule kinds: identifiers (USCC, citizen ID, org code, phone), certificate-typed numbers, code lists,
regions (valid on the record's date) and industries (GB/T 4754-2017).

These rules belong to SC-16 and are joined to each record standard through its field table: a field
with a code list, an identifier type or a certificate-type field gets the matching SC-16 rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any, Final

from standards import codelists
from standards.findings import Finding
from standards.identifiers import (
    IdProblem,
    citizen_id_problems,
    org_code_problems,
    parse_date,
    parse_datetime,
    phone_problems,
    uscc_problems,
)
from standards.rules.base import Check, Context, Emit, Path, iter_values, kind

__all__ = ["record_date"]

_ID_CHECKS: Final[dict[str, Callable[[str, date | None], list[IdProblem]]]] = {
    "uscc": lambda v, on: uscc_problems(v),
    "citizen_id": lambda v, on: citizen_id_problems(v, on=on),
    "org_code": lambda v, on: org_code_problems(v),
    "phone": lambda v, on: phone_problems(v),
}


#: The shapes SC-20 masking leaves (前3后4 phones, 前6后4 identity numbers, all-hidden short values):
#: the hidden digits cannot be checked, so a masked value is not held against the identifier rules.
_MASKED: Final = re.compile(r"^[0-9]{0,6}-?[0-9]{0,4}\*{3,}[0-9Xx]{0,4}$")


def masked(value: str) -> bool:
    """True when `value` has the shape an SC-20 mask gives (e.g. ``138****5678``, ``510104********1234``)."""
    return bool(_MASKED.match(value))


def record_date(record: Mapping[str, Any], field: str | list[str] | None, ctx: Context) -> date | None:
    """The day a record speaks of (its first given act date field), else the validation day."""
    for name in [field] if isinstance(field, str) else field or []:
        value = Path(name).get(record)
        if isinstance(value, str):
            day = parse_date(value[:10])
            if day is not None:
                return day
            moment = parse_datetime(value)
            if moment is not None:
                return moment.date()
    return ctx.on


def _problems(emit: Emit, pointer: str, problems: list[IdProblem]) -> Iterator[Finding]:
    for p in problems:
        yield emit(pointer, p.message_zh, p.message_en, p.severity)


@kind("identifier")
def _identifier(params: Mapping[str, Any], emit: Emit) -> Check:
    """Fields always holding one identifier type (``[[path, "uscc"], …]``)."""
    fields = [(str(path), _ID_CHECKS[idtype]) for path, idtype in params["fields"]]
    date_field = params.get("dateField")

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        on: date | None = None
        for path, problems_of in fields:
            for pointer, value, _ in iter_values(record, path):
                if isinstance(value, str) and value and not masked(value):
                    if on is None:
                        on = record_date(record, date_field, ctx)
                    yield from _problems(emit, pointer, problems_of(value, on))

    return check


@kind("certificate")
def _certificate(params: Mapping[str, Any], emit: Emit) -> Check:
    """Union fields: the number is checked by the algorithm its certificate type names (001 USCC, 111 ID)."""
    fields = [(str(value_path), str(type_path)) for value_path, type_path in params["fields"]]
    by_type = {code: _ID_CHECKS[idtype] for code, idtype in params["checks"].items()}
    date_field = params.get("dateField")

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        for value_path, type_path in fields:
            type_leaf = type_path.rsplit(".", 1)[-1]
            for pointer, value, parent in iter_values(record, value_path):
                code = parent.get(type_leaf)
                problems_of = by_type.get(code) if isinstance(code, str) else None
                if problems_of is not None and isinstance(value, str) and not masked(value):
                    on = record_date(record, date_field, ctx)
                    yield from _problems(emit, pointer, problems_of(value, on))

    return check


@kind("code_list")
def _code_list(params: Mapping[str, Any], emit: Emit) -> Check:
    """Fields whose values (or each value of a list) come from a named code list."""
    fields = [(str(path), codelists.code_list(name)) for path, name in params["fields"]]

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        for path, codes in fields:
            for pointer, value, _ in iter_values(record, path):
                values = value if isinstance(value, list) else [value]
                for index, item in enumerate(values):
                    if isinstance(item, str) and not codes.contains(item):
                        where = f"{pointer}/{index}" if isinstance(value, list) else pointer
                        yield emit(
                            where,
                            f"{item!r} 不在代码表“{codes.title_zh}”中",
                            f"{item!r} is not in the code list {codes.name}",
                        )

    return check


@kind("region")
def _region(params: Mapping[str, Any], emit: Emit) -> Check:
    """GB/T 2260 region codes that exist and are in force on the record's date (history-aware)."""
    fields = [str(path) for path in params["fields"]]
    date_field = params.get("dateField")

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        for path in fields:
            for pointer, value, _ in iter_values(record, path):
                if not isinstance(value, str):
                    continue
                on = record_date(record, date_field, ctx)
                status = codelists.region_status(value, on)
                if status is codelists.RegionStatus.UNKNOWN:
                    yield emit(
                        pointer, f"{value} 不是 GB/T 2260 行政区划代码", f"{value} is not a GB/T 2260 code"
                    )
                elif status is codelists.RegionStatus.NOT_IN_FORCE and on is not None:
                    yield emit(
                        pointer,
                        f"{value} 在 {on.isoformat()} 不是有效的行政区划代码",
                        f"{value} is not in force on {on.isoformat()}",
                    )

    return check


@kind("industry")
def _industry(params: Mapping[str, Any], emit: Emit) -> Check:
    """GB/T 4754-2017 industry codes (with or without the section letter)."""
    fields = [str(path) for path in params["fields"]]

    def check(record: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
        for path in fields:
            for pointer, value, _ in iter_values(record, path):
                if (
                    isinstance(value, str)
                    and codelists.industry(value) is None
                    and codelists.industry_division(value) is None
                ):
                    yield emit(
                        pointer, f"{value} 不在 GB/T 4754-2017 中", f"{value} is not in GB/T 4754-2017"
                    )

    return check
