"""Field-level rule kinds: conditional presence, ranges, amounts and the item-code shapes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from standards.findings import Finding
from standards.rules.base import Check, Context, Emit, Path, condition, is_blank, kind, scoped

_USCC_SHAPE: Final = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")


def _places(value: int | float) -> int:
    """Decimal places of a JSON number as written by a serializer (``5.10`` → 1, ``1e-7`` → 7)."""
    if type(value) is int:
        return 0
    text = repr(value)
    if "e" in text or "E" in text:
        exponent = Decimal(text).normalize().as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return len(text.partition(".")[2].rstrip("0"))


def _elsewhere(params: Mapping[str, Any], emit: Emit) -> Check:
    """Rules checked outside the record rules: structure by the schema engine (``schema``), decoding by
    standards.payload (``decode``), file shape by standards.files (``file``)."""

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        return []

    return check


for _name in ("schema", "decode", "file"):
    kind(_name)(_elsewhere)


@kind("required_if")
def _required_if(params: Mapping[str, Any], emit: Emit) -> Check:
    """``field`` must be given when the ``when`` condition holds."""
    target, when, objects = Path(params["field"]), condition(params.get("when")), scoped(params.get("scope"))

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for base, obj in objects(record):
            if when(obj) and is_blank(target.get(obj)):
                out.append(emit(base + target.pointer, target.name, target.name))
        return out

    return check


@kind("absent_if")
def _absent_if(params: Mapping[str, Any], emit: Emit) -> Check:
    """``field`` must not be given when the ``when`` condition holds."""
    target, when, objects = Path(params["field"]), condition(params.get("when")), scoped(params.get("scope"))

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for base, obj in objects(record):
            if when(obj) and not is_blank(target.get(obj)):
                out.append(emit(base + target.pointer, target.name, target.name))
        return out

    return check


@kind("allowed_if")
def _allowed_if(params: Mapping[str, Any], emit: Emit) -> Check:
    """When ``when`` holds, ``field`` (if given) must take one of ``values``."""
    target, when = Path(params["field"]), condition(params.get("when"))
    values = list(params["values"])

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        value = target.get(record)
        if (
            when(record)
            and value is not None
            and not any(value == v and type(value) is type(v) for v in values)
        ):
            out.append(emit(target.pointer, f"{value!r}", f"{value!r}"))
        return out

    return check


@kind("range")
def _range(params: Mapping[str, Any], emit: Emit) -> Check:
    """A number within [min, max] (抽查比例 in [0, 1])."""
    target, objects = Path(params["field"]), scoped(params.get("scope"))
    low, high = params.get("min"), params.get("max")

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for base, obj in objects(record):
            value = target.get(obj)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if (low is not None and value < low) or (high is not None and value > high):
                out.append(
                    emit(
                        base + target.pointer, f"{value} ∉ [{low}, {high}]", f"{value} not in [{low}, {high}]"
                    )
                )
        return out

    return check


@kind("number_order")
def _number_order(params: Mapping[str, Any], emit: Emit) -> Check:
    """``smaller`` must not exceed ``larger`` when both are numbers."""
    smaller, larger = Path(params["smaller"]), Path(params["larger"])

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        a, b = smaller.get(record), larger.get(record)
        numbers = (int, float)
        if type(a) in numbers and type(b) in numbers and a > b:
            out.append(emit(smaller.pointer, f"{a} > {b}", f"{a} > {b}"))
        return out

    return check


@kind("money_unit")
def _money_unit(params: Mapping[str, Any], emit: Emit) -> Check:
    """An amount in the standard's unit: 元 (at most 2 decimals) or 万元 (at most 6), and plausible in size.

    A 元 amount with more than two decimals, or a 万元 amount above ``plausibleMax``, is the mark of a
    value entered in the other unit.
    """
    target, objects = Path(params["field"]), scoped(params.get("scope"))
    unit = params["unit"]
    decimals = int(params.get("maxDecimals", 2 if unit == "yuan" else 6))
    plausible = params.get("plausibleMax")
    unit_zh = "元" if unit == "yuan" else "万元"

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for base, obj in objects(record):
            amount = target.get(obj)
            if type(amount) is not float and type(amount) is not int:
                continue
            places = _places(amount)
            if places > decimals:
                out.append(
                    emit(
                        base + target.pointer,
                        f"单位为{unit_zh}，最多 {decimals} 位小数：{amount}",
                        f"unit {unit}, at most {decimals} decimals: {amount}",
                    )
                )
            elif plausible is not None and amount > plausible:
                out.append(
                    emit(
                        base + target.pointer,
                        f"单位为{unit_zh}，{amount} 大于 {plausible}，疑为按元填报",
                        f"unit {unit}, {amount} exceeds {plausible}: probably entered in yuan",
                    )
                )
        return out

    return check


@kind("item_code")
def _item_code(params: Mapping[str, Any], emit: Emit) -> Check:
    """监管事项目录编码: exactly 14 ASCII digits, not all zeros."""
    target, objects = Path(params["field"]), scoped(params.get("scope"))

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for base, obj in objects(record):
            value = target.get(obj)
            values = value if isinstance(value, list) else [value]
            for index, item in enumerate(values):
                if isinstance(item, str) and not (
                    len(item) == 14 and item.isascii() and item.isdigit() and item != "0" * 14
                ):
                    where = f"{base}{target.pointer}" + (f"/{index}" if isinstance(value, list) else "")
                    out.append(emit(where, item, item))
        return out

    return check


@kind("implement_code")
def _implement_code(params: Mapping[str, Any], emit: Emit) -> Check:
    """检查实施清单编码: characters 1–18 shaped like a USCC, character 19 a level digit 1–5."""
    target = Path(params["field"])

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        value = target.get(record)
        if not isinstance(value, str):
            return out
        if len(value) < 19 or _USCC_SHAPE.fullmatch(value[:18]) is None or value[18] not in "12345":
            out.append(emit(target.pointer, value[:24], value[:24]))
        return out

    return check


@kind("prefix_from_field")
def _prefix_from_field(params: Mapping[str, Any], emit: Emit) -> Check:
    """``field`` starts with the value of ``prefixField`` (when that one has the expected length)."""
    target, source = Path(params["field"]), Path(params["prefixField"])
    length = int(params.get("length", 18))

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        value, prefix = target.get(record), source.get(record)
        if (
            isinstance(value, str)
            and isinstance(prefix, str)
            and len(prefix) == length
            and not value.startswith(prefix)
        ):
            out.append(emit(target.pointer, f"{value[:length]} ≠ {prefix}", f"{value[:length]} != {prefix}"))
        return out

    return check


@kind("min_items")
def _min_items(params: Mapping[str, Any], emit: Emit) -> Check:
    """A list field, when given, has at least ``min`` distinct non-blank entries."""
    target, least, objects = Path(params["field"]), int(params["min"]), scoped(params.get("scope"))

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        for base, obj in objects(record):
            value = target.get(obj)
            if isinstance(value, list):
                distinct = {v for v in value if isinstance(v, str) and v.strip()}
                if len(distinct) < least:
                    out.append(
                        emit(
                            base + target.pointer, f"{len(distinct)} < {least}", f"{len(distinct)} < {least}"
                        )
                    )
        return out

    return check
