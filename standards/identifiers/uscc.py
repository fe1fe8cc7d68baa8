"""统一社会信用代码 (unified social credit code, USCC), GB 32100-2015.

Eighteen characters: 登记管理部门 (registration department, 1) + 机构类别 (institution type, 1) +
登记管理机关行政区划码 (GB/T 2260 region of the registering authority, 6) + 主体标识码 (the GB 11714
organisation code: 8-character body and its own check character, 9) + 校验码 (check character, 1).
The alphabet has 31 symbols (digits and upper-case letters without I, O, S, V, Z); weights are
``3**(i-1) mod 31``; the check value is ``(31 - Σ mod 31) mod 31``.
"""

from __future__ import annotations

from operator import mul
from typing import Final

from standards import codelists
from standards.identifiers.org_code import org_code_check_char
from standards.identifiers.problem import IdProblem, InvalidIdentifier, error, warning

__all__ = ["ALPHABET", "is_valid_uscc", "uscc_check_char", "uscc_problems"]

ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES: Final[dict[str, int]] = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS: Final[tuple[int, ...]] = tuple(pow(3, i, 31) for i in range(17))
_DEPARTMENTS: Final = codelists.code_list("uscc_registration_department")
_INSTITUTION_TYPES: Final = codelists.code_list("uscc_institution_type")
_DIGITS: Final[frozenset[str]] = frozenset("0123456789")
_ALPHABET_SET: Final[frozenset[str]] = frozenset(ALPHABET)


def _check_char(first17: str) -> str:
    total = sum(map(mul, map(_VALUES.__getitem__, first17), _WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters (``91350100M000100Y4`` → ``3``)."""
    if len(first17) != 17 or any(c not in _VALUES for c in first17):
        raise InvalidIdentifier(
            [
                error(
                    "USCC_FORMAT",
                    f"统一社会信用代码前 17 位应取自 31 个字符（不含 I、O、S、V、Z），实为 {first17!r}",
                    f"the first 17 USCC characters come from the 31-symbol alphabet "
                    f"(no I, O, S, V, Z), got {first17!r}",
                )
            ]
        )
    return _check_char(first17)


def _shape_problem(code: str) -> IdProblem | None:
    if len(code) != 18:
        return error(
            "USCC_LENGTH",
            f"统一社会信用代码应为 18 位，实为 {len(code)} 位",
            f"a unified social credit code has 18 characters, got {len(code)}",
        )
    if not _ALPHABET_SET.issuperset(code):
        bad = sorted({c for c in code if c not in _VALUES})
        shown = "、".join(bad)
        return error(
            "USCC_CHARSET",
            f"统一社会信用代码含非法字符 {shown}（只允许数字和大写字母，不含 I、O、S、V、Z）",
            f"the unified social credit code contains {', '.join(bad)}; only digits and upper-case "
            f"letters without I, O, S, V, Z are allowed",
        )
    return None


def _structure_problems(code: str) -> list[IdProblem]:
    problems: list[IdProblem] = []
    if not _DEPARTMENTS.contains(code[0]):
        problems.append(
            error(
                "USCC_REGISTRATION_DEPARTMENT",
                f"登记管理部门代码 {code[0]} 不在 GB 32100 代码表中",
                f"registration department code {code[0]} is not in the GB 32100 table",
            )
        )
    elif not _INSTITUTION_TYPES.contains(code[:2]):
        problems.append(
            error(
                "USCC_INSTITUTION_TYPE",
                f"机构类别代码 {code[1]} 不属于登记管理部门 {code[0]}（{_DEPARTMENTS.label_zh(code[0])}）",
                f"institution type {code[1]} does not exist for registration department {code[0]} "
                f"({_DEPARTMENTS.label_en(code[0])})",
            )
        )
    region = code[2:8]
    if not _DIGITS.issuperset(region):
        problems.append(
            error(
                "USCC_REGION_FORMAT",
                f"第 3–8 位行政区划码应为 6 位数字，实为 {region}",
                f"characters 3-8 (the region code) must be 6 digits, got {region}",
            )
        )
    elif codelists.region_status(region) is codelists.RegionStatus.UNKNOWN:
        problems.append(
            warning(
                "USCC_REGION_UNKNOWN",
                f"登记管理机关行政区划码 {region} 不在 GB/T 2260 代码表中",
                f"the registering authority's region code {region} is not in the GB/T 2260 table",
            )
        )
    return problems


def uscc_problems(code: str) -> list[IdProblem]:
    """The problems of a unified social credit code; an empty list means it is valid."""
    shape = _shape_problem(code)
    if shape is not None:
        return [shape]
    problems = _structure_problems(code)
    expected = _check_char(code[:17])
    if code[17] != expected:
        problems.append(
            error(
                "USCC_CHECK",
                f"统一社会信用代码校验码错误：应为 {expected}，实为 {code[17]}",
                f"unified social credit code check character is wrong: expected {expected}, got {code[17]}",
            )
        )
    embedded = org_code_check_char(code[8:16])
    if code[16] != embedded:
        problems.append(
            warning(
                "USCC_ORG_CODE_CHECK",
                f"第 9–17 位主体标识码不符合 GB 11714 校验：第 17 位应为 {embedded}，实为 {code[16]}",
                f"characters 9-17 fail the GB 11714 organisation-code check: "
                f"character 17 should be {embedded}, got {code[16]}",
            )
        )
    return problems


def is_valid_uscc(code: str) -> bool:
    """True when the code has no error-severity problem (warnings allowed)."""
    return not any(p.is_error for p in uscc_problems(code))
