"""Asserting that a CLI failure speaks each language once: the cause's Chinese on the 错误 line, its English
on the error line, neither line carrying the other language's sentence."""

from __future__ import annotations

import re

from gateway.errors import CATALOGUE, ReasonCode

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def cause_of(code: ReasonCode) -> tuple[str, str]:
    """A reason code's Chinese and English sentences, as the catalogue words them."""
    entry = CATALOGUE[code]
    return entry.zh, entry.en


def assert_each_language_once(stderr: str, cause: tuple[str, str]) -> None:
    """One "错误:" line carrying the cause's Chinese and not its English, one "error:" line carrying its
    English and no CJK character at all, and no line carrying both sentences."""
    zh, en = cause
    lines = stderr.strip().splitlines()
    zh_lines = [line for line in lines if line.startswith("错误:")]
    en_lines = [line for line in lines if line.startswith("error:")]
    assert (1, 1) == (len(zh_lines), len(en_lines)), stderr
    assert (True, False) == (zh in zh_lines[0], en in zh_lines[0]), zh_lines[0]
    assert (True, None) == (en in en_lines[0], CJK.search(en_lines[0])), en_lines[0]
    assert not [line for line in lines if zh in line and en in line], stderr
