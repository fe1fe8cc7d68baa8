"""Failure details a department can act on: repeated lines grouped, evidence only for what failed. Pure.

Judges write one (中文, English) line per problem, starting with where it was seen (``#12 →sc.hub [3]``:
exchange 12, the export for sc.hub, its third record). One wrong key makes the same line for every
record; `condense` folds such lines into one that counts them and names the first few places, and
`failing_result` keeps as evidence only the exchanges a problem was seen in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from conformance.results import Result

__all__ = ["condense", "failing_result", "seqs_of"]

_WHERE: Final = re.compile(r"^#(\d+)((?: →\S+)?(?: \[\d+\*?\])?) ?")
_SHOWN: Final = 5


def _split(line: str) -> tuple[str, int | None, str]:
    found = _WHERE.match(line)
    if found is None:
        return "", None, line
    return f"#{found.group(1)}{found.group(2)}", int(found.group(1)), line[found.end() :]


def seqs_of(problems: Iterable[tuple[str, str]]) -> list[int]:
    """The exchange sequence numbers the problem lines name, in order, each once."""
    seen: dict[int, None] = {}
    for _, en in problems:
        seq = _split(en)[1]
        if seq is not None:
            seen.setdefault(seq)
    return list(seen)


def condense(problems: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The problems with lines that differ only in where they were seen folded into one counted line."""
    groups: dict[tuple[str, str], list[str]] = {}
    for zh, en in problems:
        where_en, _, rest_en = _split(en)
        rest_zh = _split(zh)[2] if where_en else zh
        groups.setdefault((rest_zh, rest_en), []).append(where_en)
    lines: list[tuple[str, str]] = []
    for (rest_zh, rest_en), places in groups.items():
        if len(places) == 1:
            where = places[0]
            lines.append((f"{where} {rest_zh}".strip(), f"{where} {rest_en}".strip()))
            continue
        shown = [p for p in places if p][:_SHOWN]
        more = "…" if len(places) > len(shown) else ""
        lines.append(
            (
                f"共 {len(places)} 处（{'、'.join(shown)}{more}）：{rest_zh}",
                f"{len(places)}× ({', '.join(shown)}{more}): {rest_en}",
            )
        )
    return tuple(lines)


def failing_result(
    check: str, problems: Sequence[tuple[str, str]], seqs: Iterable[int], subject: str = ""
) -> Result:
    """A failed result: its lines condensed, its evidence the exchanges the problems were seen in."""
    cited = seqs_of(problems)
    return Result(
        check, "fail", subject, "未通过", "failed", condense(problems), tuple(cited or list(seqs))
    )
