"""Strict JSON for signed documents: duplicate keys, NaN and Infinity are refused (I-JSON, RFC 7493).

Python's ``json`` silently keeps the last of two duplicate keys; a signer and a verifier that disagree
on which one counts is a classic signature bypass, so jgx refuses such documents outright.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.errors import ReasonCode, VerificationError

__all__ = ["loads_strict"]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise VerificationError(ReasonCode.MALFORMED, f"duplicate JSON key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise VerificationError(ReasonCode.MALFORMED, f"{name} is not allowed in JSON")


def loads_strict(data: bytes | str, *, what: str = "document") -> Any:
    """Parse UTF-8 JSON, refusing duplicate keys, NaN/Infinity, bad UTF-8 and deep nesting."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except VerificationError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise VerificationError(ReasonCode.MALFORMED, f"{what} is not valid JSON: {exc}") from None
