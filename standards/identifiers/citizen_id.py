"""公民身份号码 (citizen identity number), GB 11643-1999, and the legacy 15-digit form.

Eighteen characters: 地址码 (GB/T 2260 county code, 6) + 出生日期 (YYYYMMDD, 8) + 顺序码 (3, odd for men)
+ 校验码 by ISO 7064 MOD 11-2 (weights ``2**(17-i) mod 11``, value ``(12 - Σ mod 11) mod 11``, 10 → X).
Numbers issued under GB 11643-1989 have 15 digits (YYMMDD, 19xx, no check character); they are
recognised, flagged as ``ID_LEGACY_15`` and convertible with :func:`citizen_id_to_18`.
"""

from __future__ import annotations

from datetime import date
from operator import mul
from typing import Final

from standards import codelists
from standards.identifiers.problem import IdProblem, InvalidIdentifier, error, warning

__all__ = [
    "citizen_id_check_char",
    "citizen_id_problems",
    "citizen_id_to_18",
    "is_valid_citizen_id",
]

_WEIGHTS: Final[tuple[int, ...]] = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK: Final = "10X98765432"
_DIGITS: Final[frozenset[str]] = frozenset("0123456789")
_DIGIT_VALUES: Final[dict[str, int]] = {c: int(c) for c in "0123456789"}
_EARLIEST_BIRTH: Final = date(1850, 1, 1)


def _check_char(first17: str) -> str:
    return _CHECK[sum(map(mul, map(_DIGIT_VALUES.__getitem__, first17), _WEIGHTS)) % 11]


def citizen_id_check_char(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits (``11010519491231002`` → ``X``)."""
    if len(first17) != 17 or not _DIGITS.issuperset(first17):
        raise InvalidIdentifier([_charset_problem()])
    return _check_char(first17)


def _charset_problem() -> IdProblem:
    return error(
        "ID_CHARSET",
        "身份证号前 17 位（15 位号码则全部）应为数字，末位为数字或 X",
        "a citizen ID number is digits (the 18-digit form may end in X)",
    )


def _birth_date(digits: str) -> date | None:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
    return born if born >= _EARLIEST_BIRTH else None


def _birth_and_region_problems(region: str, birth: str, on: date | None) -> list[IdProblem]:
    problems: list[IdProblem] = []
    born = _birth_date(birth)
    if born is None:
        problems.append(
            error(
                "ID_BIRTH_DATE",
                f"身份证号中的出生日期 {birth} 不是有效日期",
                f"the birth date {birth} in the citizen ID number is not a real date",
            )
        )
    elif on is not None and born > on:
        problems.append(
            error(
                "ID_BIRTH_FUTURE",
                f"身份证号中的出生日期 {born.isoformat()} 晚于 {on.isoformat()}",
                f"the birth date {born.isoformat()} in the citizen ID number is after {on.isoformat()}",
            )
        )
    status = codelists.region_status(region)
    if status is codelists.RegionStatus.UNKNOWN:
        problems.append(
            warning(
                "ID_REGION_UNKNOWN",
                f"身份证号地址码 {region} 不在 GB/T 2260 代码表中",
                f"the address code {region} of the citizen ID number is not in the GB/T 2260 table",
            )
        )
    elif (
        on is not None
        and codelists.region_status(region, on) is codelists.RegionStatus.NOT_IN_FORCE
        and not codelists.region_retired_before(region, on)
    ):
        problems.append(
            warning(
                "ID_REGION_NOT_YET",
                f"身份证号地址码 {region} 在 {on.isoformat()} 尚未设立",
                f"the address code {region} did not yet exist on {on.isoformat()}",
            )
        )
    elif born is not None and codelists.region_retired_before(region, born):
        problems.append(
            warning(
                "ID_REGION_RETIRED",
                f"身份证号地址码 {region} 在出生日期 {born.isoformat()} 之前已撤销",
                f"the address code {region} was retired before the birth date {born.isoformat()}",
            )
        )
    return problems


def citizen_id_problems(value: str, *, on: date | None = None) -> list[IdProblem]:
    """The problems of a citizen ID number; ``on`` (the record's date) bounds the birth date and region."""
    if len(value) == 15:
        if not _DIGITS.issuperset(value):
            return [_charset_problem()]
        legacy = warning(
            "ID_LEGACY_15",
            "15 位旧身份证号（GB 11643-1989），应换用 18 位号码",
            "a legacy 15-digit ID number (GB 11643-1989); the 18-digit number should be used",
        )
        return [legacy, *_birth_and_region_problems(value[:6], "19" + value[6:12], on)]
    if len(value) != 18:
        return [
            error(
                "ID_LENGTH",
                f"身份证号应为 18 位（旧号码 15 位），实为 {len(value)} 位",
                f"a citizen ID number has 18 digits (legacy: 15), got {len(value)}",
            )
        ]
    first17, last = value[:17], value[17]
    if not _DIGITS.issuperset(first17) or (last not in _CHECK and last != "x"):
        return [_charset_problem()]
    problems = _birth_and_region_problems(value[:6], value[6:14], on)
    if last == "x":
        problems.append(
            warning(
                "ID_LOWERCASE_X",
                "身份证号校验码应写作大写 X",
                "the check character X of a citizen ID number should be upper case",
            )
        )
        last = "X"
    expected = _check_char(first17)
    if last != expected:
        problems.append(
            error(
                "ID_CHECK",
                f"身份证号校验码错误：应为 {expected}，实为 {last}",
                f"citizen ID check character is wrong: expected {expected}, got {last}",
            )
        )
    return problems


def is_valid_citizen_id(value: str, *, on: date | None = None) -> bool:
    """True when the number has no error-severity problem (a legacy 15-digit number is a warning)."""
    return not any(p.is_error for p in citizen_id_problems(value, on=on))


def citizen_id_to_18(value: str) -> str:
    """The 18-digit form of a legacy 15-digit number (``19`` inserted before YYMMDD, check appended)."""
    if len(value) != 15 or not _DIGITS.issuperset(value):
        raise InvalidIdentifier(
            [
                error(
                    "ID_NOT_LEGACY",
                    "只能转换 15 位数字的旧身份证号",
                    "only a 15-digit legacy citizen ID number can be converted",
                )
            ]
        )
    errors = [p for p in citizen_id_problems(value) if p.is_error]
    if errors:
        raise InvalidIdentifier(errors)
    first17 = value[:6] + "19" + value[6:]
    return first17 + _check_char(first17)
