"""SC-16 rule kinds: identifiers (USCC, citizen ID, org code, phone), certificate-typed numbers, code lists,
regions (valid on the record's date) and industries (GB/T 4754-2017).

These rules belong to SC-16 and are joined to each record standard through its field table: a field
with a code list, an identifier type or a certificate-type field gets the matching SC-16 rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, Final

from standards import codelists
from standards.findings import Finding
from standards.identifiers import (
    IdProblem,
    citizen_id_problems,
    org_code_problems,
    phone_problems,
    uscc_problems,
)
from standards.rules.base import Check, Context, Emit, Values, kind, moment

__all__ = ["record_date"]

# The checks are pure, and real exports repeat the same codes on every row (the agency's USCC, the
# party's number): each distinct value is checked once.
_memo = functools.lru_cache(maxsize=16384)


@_memo
def _uscc(value: str, on: date | None) -> tuple[IdProblem, ...]:
    return tuple(uscc_problems(value))


@_memo
def _citizen_id(value: str, on: date | None) -> tuple[IdProblem, ...]:
    return tuple(citizen_id_problems(value, on=on))


@_memo
def _org_code(value: str, on: date | None) -> tuple[IdProblem, ...]:
    return tuple(org_code_problems(value))


@_memo
def _phone(value: str, on: date | None) -> tuple[IdProblem, ...]:
    return tuple(phone_problems(value))


_region_status = _memo(codelists.region_status)

_ID_CHECKS: Final[dict[str, Callable[[str, date | None], tuple[IdProblem, ...]]]] = {
    "uscc": _uscc,
    "citizen_id": _citizen_id,
    "org_code": _org_code,
    "phone": _phone,
}


#: The shapes SC-20 masking leaves (前3后4 phones, 前6后4 identity numbers, all-hidden short values):
#: the hidden digits cannot be checked, so a masked value is not held against the identifier rules.
_MASKED: Final = re.compile(r"^[0-9]{0,6}-?[0-9]{0,4}\*{3,}[0-9Xx]{0,4}$")


def masked(value: str) -> bool:
    """True when `value` has the shape an SC-20 mask gives (e.g. ``138****5678``, ``510104********1234``)."""
    return "*" in value and bool(_MASKED.match(value))


def record_date(record: Mapping[str, Any], field: str | list[str] | None, on: date | None) -> date | None:
    """The day a record speaks of (its first given act date field), else the validation day ``on``."""
    for name in [field] if isinstance(field, str) else field or []:
        found = moment(record.get(name))
        if isinstance(found, datetime):
            return found.date()
        if found is not None:
            return found
    return on


def _problems(emit: Emit, pointer: str, problems: tuple[IdProblem, ...]) -> Iterator[Finding]:
    for p in problems:
        yield emit(pointer, p.message_zh, p.message_en, p.severity)


@kind("identifier")
def _identifier(params: Mapping[str, Any], emit: Emit) -> Check:
    """Fields always holding one identifier type (``[[path, "uscc"], …]``)."""
    fields = [(Values(path), _ID_CHECKS[idtype]) for path, idtype in params["fields"]]

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for values, problems_of in fields:
            for pointer, value, _ in values(record):
                if isinstance(value, str) and value and not masked(value):
                    out.extend(_problems(emit, pointer, problems_of(value, ctx.act_day)))
        return out

    return check


@kind("certificate")
def _certificate(params: Mapping[str, Any], emit: Emit) -> Check:
    """Union fields: the number is checked by the algorithm its certificate type names (001 USCC, 111 ID)."""
    fields = [
        (Values(value_path), str(type_path).rsplit(".", 1)[-1]) for value_path, type_path in params["fields"]
    ]
    by_type = {code: _ID_CHECKS[idtype] for code, idtype in params["checks"].items()}

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for values, type_leaf in fields:
            for pointer, value, parent in values(record):
                code = parent.get(type_leaf)
                problems_of = by_type.get(code) if isinstance(code, str) else None
                if problems_of is not None and isinstance(value, str) and not masked(value):
                    out.extend(_problems(emit, pointer, problems_of(value, ctx.act_day)))
        return out

    return check


@kind("code_list")
def _code_list(params: Mapping[str, Any], emit: Emit) -> Check:
    """Fields whose values (or each value of a list) come from a named code list."""
    top = [
        (name, codelists.code_list(lst))
        for name, lst in params["fields"]
        if "." not in name and "[]" not in name
    ]
    nested = [
        (Values(name), codelists.code_list(lst))
        for name, lst in params["fields"]
        if "." in name or "[]" in name
    ]

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for name, codes in top:  # the common case, one probe per field
            value = record.get(name)
            if value is None or (type(value) is str and value in codes.labels):
                continue
            out.extend(_not_listed(emit, f"/{name}", value, codes))
        for values, codes in nested:
            for pointer, value, _ in values(record):
                out.extend(_not_listed(emit, pointer, value, codes))
        return out

    return check


def _not_listed(emit: Emit, pointer: str, value: Any, codes: codelists.CodeList) -> list[Finding]:
    items = value if isinstance(value, list) else [value]
    return [
        emit(
            f"{pointer}/{index}" if isinstance(value, list) else pointer,
            f"{item!r} 不在代码表“{codes.title_zh}”中",
            f"{item!r} is not in the code list {codes.name}",
        )
        for index, item in enumerate(items)
        if isinstance(item, str) and not codes.contains(item)
    ]


@kind("region")
def _region(params: Mapping[str, Any], emit: Emit) -> Check:
    """GB/T 2260 region codes that exist and are in force on the record's date (history-aware)."""
    fields = [Values(path) for path in params["fields"]]

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for values in fields:
            for pointer, value, _ in values(record):
                if not isinstance(value, str):
                    continue
                on = ctx.act_day
                status = _region_status(value, on)
                if status is codelists.RegionStatus.UNKNOWN:
                    out.append(
                        emit(
                            pointer,
                            f"{value} 不是 GB/T 2260 行政区划代码",
                            f"{value} is not a GB/T 2260 code",
                        )
                    )
                elif status is codelists.RegionStatus.NOT_IN_FORCE and on is not None:
                    out.append(
                        emit(
                            pointer,
                            f"{value} 在 {on.isoformat()} 不是有效的行政区划代码",
                            f"{value} is not in force on {on.isoformat()}",
                        )
                    )
        return out

    return check


@kind("industry")
def _industry(params: Mapping[str, Any], emit: Emit) -> Check:
    """GB/T 4754-2017 industry codes (with or without the section letter)."""
    fields = [Values(path) for path in params["fields"]]

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for values in fields:
            for pointer, value, _ in values(record):
                if (
                    isinstance(value, str)
                    and codelists.industry(value) is None
                    and codelists.industry_division(value) is None
                ):
                    out.append(
                        emit(pointer, f"{value} 不在 GB/T 4754-2017 中", f"{value} is not in GB/T 4754-2017")
                    )
        return out

    return check
