"""组织机构代码 (organisation code), GB 11714-1997: 8-character body and a MOD 11 check character.

The body uses digits and the full Latin alphabet (A=10 … Z=35, unlike the USCC alphabet); weights
3, 7, 9, 10, 5, 8, 4, 2; check value ``11 - (Σ mod 11)`` written 0-9, ``X`` for 10 and ``0`` for 11.
The display form is ``XXXXXXXX-X``; ``PDY00001``-``PDY99999`` is a self-defined range not meant for
exchange between systems.
"""

from __future__ import annotations

import string
from operator import mul
from typing import Final

from standards.identifiers.problem import IdProblem, InvalidIdentifier, error, warning

__all__ = ["is_valid_org_code", "org_code_check_char", "org_code_problems"]

_VALUES: Final[dict[str, int]] = {c: i for i, c in enumerate(string.digits + string.ascii_uppercase)}
_WEIGHTS: Final[tuple[int, ...]] = (3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS: Final[frozenset[str]] = frozenset(string.digits + "X")
_BODY_CHARS: Final[frozenset[str]] = frozenset(_VALUES)


def _check_char(body: str) -> str:
    value = 11 - sum(map(mul, map(_VALUES.__getitem__, body), _WEIGHTS)) % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def org_code_check_char(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation-code body (``M000100Y`` → ``4``)."""
    if len(body) != 8 or not _BODY_CHARS.issuperset(body):
        raise InvalidIdentifier([_bad_body(body)])
    return _check_char(body)


def _bad_body(body: str) -> IdProblem:
    return error(
        "ORG_CODE_FORMAT",
        f"组织机构代码本体应为 8 位数字或大写字母，实为 {body!r}",
        f"an organisation-code body is 8 digits or upper-case letters, got {body!r}",
    )


def org_code_problems(code: str) -> list[IdProblem]:
    """The problems of an organisation code written ``XXXXXXXX-X`` or ``XXXXXXXXX``; empty when valid."""
    compact = code[:8] + code[9:] if len(code) == 10 and code[8] == "-" else code
    if len(compact) != 9:
        return [
            error(
                "ORG_CODE_LENGTH",
                f"组织机构代码应为 9 位（可写作 XXXXXXXX-X），实为 {len(code)} 位",
                f"an organisation code has 9 characters (or XXXXXXXX-X), got {len(code)}",
            )
        ]
    body, check = compact[:8], compact[8]
    if not _BODY_CHARS.issuperset(body) or check not in _CHECK_CHARS:
        return [
            error(
                "ORG_CODE_CHARSET",
                "组织机构代码只能含数字和大写字母，校验码只能是数字或 X",
                "an organisation code holds digits and upper-case letters; "
                "its check character is a digit or X",
            )
        ]
    problems: list[IdProblem] = []
    expected = _check_char(body)
    if check != expected:
        problems.append(
            error(
                "ORG_CODE_CHECK",
                f"组织机构代码校验码错误：应为 {expected}，实为 {check}",
                f"organisation code check character is wrong: expected {expected}, got {check}",
            )
        )
    if body.startswith("PDY"):
        problems.append(
            warning(
                "ORG_CODE_RESERVED",
                "PDY 开头的组织机构代码属自定义区，不用于系统间交换",
                "organisation codes starting PDY are a self-defined range, not for exchange between systems",
            )
        )
    return problems


def is_valid_org_code(code: str) -> bool:
    """True when the organisation code has no error-severity problem."""
    return not any(p.is_error for p in org_code_problems(code))
