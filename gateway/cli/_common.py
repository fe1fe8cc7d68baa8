"""Shared pieces of the CLI: reading and writing files with the right exit codes, bilingual failures."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

from gateway._time import parse_time
from gateway.errors import JgxError, os_reason
from gateway.keys import PrivateKey, PublicKey, load_private_key, load_public_key

EXIT_OK, EXIT_VERDICT, EXIT_USAGE = 0, 1, 2


def io_error(message_zh: str, message_en: str) -> NoReturn:
    """Print a usage / I-O failure in both languages and exit 2."""
    click.echo(f"错误: {message_zh}\nerror: {message_en}", err=True)
    sys.exit(EXIT_USAGE)


def in_languages(exc: BaseException) -> tuple[str, str]:
    """The cause's text for the Chinese line and for the English line of a failure.

    An exception that already speaks both languages (``message_zh`` and ``message_en``: LogProfileMismatch,
    MappingError, DatabaseUnavailable, …; a `JgxError` through its reason code's catalogue entry, and its
    ``detail_zh`` / ``detail_en`` where its detail is bilingual, as ConfigError's) gives each line its own
    half, so neither line repeats both; a JSON, decoding or OS error gives the Chinese line its position or
    errno; any other exception gives its one text to both lines.
    """
    if isinstance(exc, JgxError):
        code = exc.reason.value
        detail_zh, detail_en = (getattr(exc, f"detail_{lang}", exc.detail) for lang in ("zh", "en"))
        cause_zh = f"{code}: {exc.entry.zh}" + (f" — {detail_zh}" if detail_zh else "")
        return cause_zh, f"{code}: {exc.entry.en}" + (f" — {detail_en}" if detail_en else "")
    zh, en = getattr(exc, "message_zh", None), getattr(exc, "message_en", None)
    if isinstance(zh, str) and isinstance(en, str):
        return zh, en
    if isinstance(exc, json.JSONDecodeError):
        return f"第 {exc.lineno} 行第 {exc.colno} 列不是有效的 JSON", str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"第 {exc.start} 字节不是有效的 {exc.encoding}", str(exc)
    if isinstance(exc, OSError) and exc.errno is not None:
        where = f" {exc.filename}" if exc.filename else ""
        return f"{os_reason(exc)[0]}{where}", str(exc)
    text = str(exc)
    return text, text


def failure_lines(context_zh: str, context_en: str, exc: BaseException) -> str:
    """The lines "错误: context: cause" and "error: context: cause", each cause in its line's language
    (`in_languages`); an empty context leaves just the cause."""
    zh, en = in_languages(exc)
    return (
        f"错误: {context_zh + ': ' if context_zh else ''}{zh}\n"
        f"error: {context_en + ': ' if context_en else ''}{en}"
    )


def io_failure(context_zh: str, context_en: str, exc: BaseException, *, code: int = EXIT_USAGE) -> NoReturn:
    """Print a failure caused by ``exc`` ("context: cause" in each language, `failure_lines`) and exit
    ``code`` (2 unless told: a usage / I-O failure)."""
    click.echo(failure_lines(context_zh, context_en, exc), err=True)
    sys.exit(code)


def os_failure(context_zh: str, context_en: str, exc: OSError) -> NoReturn:
    """`io_error` for an OS error: "context: reason" with the reason in each language (`os_reason`)."""
    zh, en = os_reason(exc)
    io_error(f"{context_zh}: {zh}", f"{context_en}: {en}")


def verdict_error(error: JgxError) -> NoReturn:
    """Print a refusal (reason code, each language on its own line) and exit 1."""
    io_failure("", "", error, code=EXIT_VERDICT)


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, or exit 2 with a clear message."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        os_failure(f"无法读取文件 {path}", f"cannot read {path}", exc)


def write_bytes(path: str | Path, data: bytes, *, private: bool = False) -> None:
    """Write the file (mode 0600 when `private`), or exit 2 with a clear message."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if private:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        else:
            target.write_bytes(data)
    except OSError as exc:
        os_failure(f"无法写入文件 {path}", f"cannot write {path}", exc)


def private_key_from(path: str | Path) -> PrivateKey:
    """Load a PKCS#8 PEM private key file, or exit 2."""
    try:
        return load_private_key(read_bytes(path))
    except JgxError as exc:
        io_failure(f"{path} 不是可用的私钥", f"{path} is not a usable private key", exc)


def public_key_from(path: str | Path) -> PublicKey:
    """Load an SPKI PEM/DER public key file (or the public half of a private key file), or exit 2."""
    data = read_bytes(path)
    try:
        if b"PRIVATE KEY" in data:
            return load_private_key(data).public_key
        return load_public_key(data)
    except JgxError as exc:
        io_failure(f"{path} 不是可用的公钥", f"{path} is not a usable public key", exc)


def when(value: str | None) -> datetime:
    """`--at` as an aware UTC time (RFC 3339 with Z), or now."""
    if value is None:
        return datetime.now(UTC)
    try:
        return parse_time(value)
    except JgxError:
        io_error(
            f"时间格式应为 2026-11-28T09:00:00Z: {value}",
            f"time must look like 2026-11-28T09:00:00Z: {value}",
        )


AT_OPTION = click.option(
    "--at", "at", metavar="TIME", help="Judge as of this UTC time (e.g. 2026-11-28T09:00:00Z); default: now."
)
