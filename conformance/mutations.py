"""Payload mutations for negative probes: a record that keeps its schema but breaks a semantic rule.

The suite must send something a conforming adapter refuses with RULE_VIOLATION (wire.md §7 step 8) and
not SCHEMA_INVALID; a unified social credit code (GB 32100) with a wrong check character is the classic
case: the right shape for the schema, caught only by the identifier rule. The mutation is confirmed with
the standards validator before it is sent, so the probe never asks for a refusal the standard does not
demand.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Final

from gateway.errors import JgxError

__all__ = ["wrong_check_character"]

# GB 32100: 18 characters from this alphabet (no I, O, S, V, Z); the last is the check character.
_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC: Final = re.compile(rf"[{_ALPHABET}]{{18}}")


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, string) for every USCC-shaped string in `value`, depth first."""
    if isinstance(value, Mapping):
        for key in sorted(value):
            yield from _paths(value[key], (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))
    elif isinstance(value, str) and _USCC.fullmatch(value):
        yield path, value


def _with(record: Mapping[str, Any], path: tuple[Any, ...], text: str) -> dict[str, Any]:
    changed: Any = copy.deepcopy(dict(record))
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = text
    return dict(changed)


def wrong_check_character(
    record: Mapping[str, Any], standard: str, version: str, now: datetime
) -> bytes | None:
    """`record` with one USCC's check character changed, as UTF-8 JSON, when the standard then finds
    only rule errors (no schema error); None when no such mutation exists for this record."""
    import standards

    for path, value in _paths(record):
        other = _ALPHABET[(_ALPHABET.index(value[-1]) + 1) % len(_ALPHABET)]
        payload = json.dumps(_with(record, path, value[:-1] + other), ensure_ascii=False).encode("utf-8")
        try:
            findings = standards.validate(payload, standard, version, on=now.date(), destination="internal")
        except JgxError:  # the standard or version is unknown: no rule to break
            return None
        errors = [f for f in findings if f.severity == "error"]
        schema = [f for f in errors if ".S" in f.rule_id or f.rule_id.endswith("SCHEMA")]
        if errors and not schema:
            return payload
    return None
