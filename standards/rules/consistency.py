"""Rule kinds that tie fields together: slices of codes, lifecycle states, one-of-several, ID consistency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standards.findings import Finding
from standards.identifiers import parse_date
from standards.rules.base import Check, Context, Emit, Path, is_blank, kind


@kind("slice_equals_field")
def _slice_equals_field(params: Mapping[str, Any], emit: Emit) -> Check:
    """Characters ``start:end`` of ``field`` equal ``other`` (the level digit, the embedded item code)."""
    target, other = Path(params["field"]), Path(params["other"])
    start, end = int(params["start"]), int(params["end"])

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        value, expected = target.get(record), other.get(record)
        if not isinstance(value, str) or len(value) < end:
            return out
        wanted = expected if isinstance(expected, str) else None
        if isinstance(expected, list) and len(expected) == 1 and isinstance(expected[0], str):
            wanted = expected[0]
        if wanted is not None and value[start:end] != wanted:
            out.append(
                emit(
                    target.pointer,
                    f"第 {start + 1}–{end} 位 {value[start:end]} ≠ {other.name} {wanted}",
                    f"characters {start + 1}-{end} {value[start:end]} != {other.name} {wanted}",
                )
            )
        return out

    return check


@kind("prefix_in")
def _prefix_in(params: Mapping[str, Any], emit: Emit) -> Check:
    """``field`` starts with one of ``prefixes`` (a region code of 四川 51 or 重庆 50)."""
    target, prefixes = Path(params["field"]), tuple(params["prefixes"])

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        value = target.get(record)
        if isinstance(value, str) and not value.startswith(prefixes):
            out.append(emit(target.pointer, value, value))
        return out

    return check


@kind("field_map")
def _field_map(params: Mapping[str, Any], emit: Emit) -> Check:
    """``field`` takes a value ``mapping`` allows for the value of ``key`` (status follows action)."""
    key, target = Path(params["key"]), Path(params["field"])
    mapping = {k: tuple(v) for k, v in params["mapping"].items()}

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        k, value = key.get(record), target.get(record)
        if isinstance(k, str) and k in mapping and isinstance(value, str) and value not in mapping[k]:
            allowed = "/".join(mapping[k])
            out.append(
                emit(
                    target.pointer,
                    f"{key.name}={k} 时应为 {allowed}，实为 {value}",
                    f"{key.name}={k} requires {allowed}, got {value}",
                )
            )
        return out

    return check


@kind("at_least_one")
def _at_least_one(params: Mapping[str, Any], emit: Emit) -> Check:
    """At least one of ``fields`` is given (when the ``key`` field has one of ``when`` values)."""
    targets = [Path(name) for name in params["fields"]]
    key = Path(params["key"]) if "key" in params else None
    when = tuple(params.get("when", ()))

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        if key is not None and key.get(record) not in when:
            return out
        if all(is_blank(t.get(record)) for t in targets):
            names = ", ".join(t.name for t in targets)
            out.append(emit(targets[0].pointer.rsplit("/", 1)[0] or "", names, names))
        return out

    return check


@kind("not_only")
def _not_only(params: Mapping[str, Any], emit: Emit) -> Check:
    """A list field does not consist only of ``values`` (仅受到警告处罚的不予公示)."""
    target, values = Path(params["field"]), frozenset(params["values"])

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        value = target.get(record)
        if isinstance(value, list) and value and all(type(v) is str and v in values for v in value):
            out.append(emit(target.pointer, "/".join(map(str, value)), "/".join(map(str, value))))
        return out

    return check


@kind("citizen_id_consistency")
def _citizen_id_consistency(params: Mapping[str, Any], emit: Emit) -> Check:
    """The birth date or the sex written beside a citizen ID agrees with the one encoded in it."""
    id_field, aspect = Path(params["idField"]), params["aspect"]
    other = Path(params["field"])

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        number, stated = id_field.get(record), other.get(record)
        if not (
            isinstance(number, str)
            and len(number) == 18
            and number[:17].isdigit()
            and isinstance(stated, str)
        ):
            return out
        if aspect == "birth":
            encoded = parse_date(f"{number[6:10]}-{number[10:12]}-{number[12:14]}")
            if encoded is not None and stated != encoded.isoformat():
                out.append(
                    emit(
                        other.pointer,
                        f"{stated} ≠ {encoded.isoformat()}",
                        f"{stated} != {encoded.isoformat()}",
                    )
                )
        else:
            encoded_sex = "1" if int(number[16]) % 2 else "2"
            if stated in {"1", "2"} and stated != encoded_sex:
                out.append(emit(other.pointer, f"{stated} ≠ {encoded_sex}", f"{stated} != {encoded_sex}"))
        return out

    return check
