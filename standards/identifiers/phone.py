"""Telephone numbers: mainland mobile numbers and landlines with an area code.

Mobile: ``1[3-9]`` and nine more digits (11 in all), optionally prefixed ``+86``/``86``.
Landline: area code ``0`` + 2 or 3 digits, then a 7- or 8-digit number, optionally joined by ``-``
and followed by an extension ``-123``; ``(028)85551234`` is accepted too. A bare 7- or 8-digit local
number is a warning (it cannot be dialled from outside the city).
"""

from __future__ import annotations

import re
from typing import Final

from standards.identifiers.problem import IdProblem, error, warning

__all__ = ["is_valid_phone", "phone_problems"]

_MOBILE: Final = re.compile(r"(?:\+?86[ -]?)?1[3-9]\d{9}")
_LANDLINE: Final = re.compile(r"(?:0\d{2,3}-?|\(0\d{2,3}\))[2-9]\d{6,7}(?:-\d{1,6})?")
_LOCAL: Final = re.compile(r"[2-9]\d{6,7}")


def phone_problems(value: str) -> list[IdProblem]:
    """The problems of a telephone number; empty for a mobile number or a landline with area code."""
    if _MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value):
        return []
    if _LOCAL.fullmatch(value):
        return [
            warning(
                "PHONE_NO_AREA_CODE",
                f"固定电话 {value} 缺少区号",
                f"the landline number {value} has no area code",
            )
        ]
    return [
        error(
            "PHONE_FORMAT",
            f"{value!r} 既不是手机号（1[3-9] 开头 11 位）也不是带区号的固定电话",
            f"{value!r} is neither a mobile number (11 digits starting 1[3-9]) nor a landline with area code",
        )
    ]


def is_valid_phone(value: str) -> bool:
    """True when the number has no error-severity problem."""
    return not any(p.is_error for p in phone_problems(value))
