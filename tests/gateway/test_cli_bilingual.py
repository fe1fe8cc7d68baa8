"""A failure that already speaks both languages is printed once in each, not twice in both.

`jgx serve` and `jgx log verify` on a log created with another hash profile: the store's
LogProfileMismatch carries its Chinese and English text, and the CLI's "database not usable" line puts
each half on its own line instead of the whole bilingual text on both.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli._common import in_languages
from gateway.config import CONFIG_FILE, load_config, render_config
from gateway.errors import ReasonCode, VerificationError
from gateway.storage import LogProfileMismatch
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from gateway.treehash import SHA256, SM3
from tests.gateway.nodes import jgx, write_node

SERVE = ("--listen", "127.0.0.1:0", "--console", "off")


def test_a_bilingual_cause_gives_each_line_its_own_language() -> None:
    assert ("日志哈希方案不符: 日志创建时为 sm3，jgx.toml [log] hash 为 sha256，不可更改",
            "log hash profile mismatch: the log was created with sm3, jgx.toml [log] hash says sha256; "
            "a log's profile cannot change") == in_languages(LogProfileMismatch("sm3", "sha256"))  # fmt: skip
    refused = VerificationError(ReasonCode.MALFORMED, "bad")
    zh, en = in_languages(refused)
    assert (f"MALFORMED: {refused.entry.zh} — bad", f"MALFORMED: {refused.entry.en} — bad") == (zh, en)
    plain = OSError("disk full")
    assert ("disk full", "disk full") == in_languages(plain)


@pytest.mark.parametrize("command", [("log", "verify"), ("serve", *SERVE)])
def test_a_profile_mismatch_is_printed_once_per_language(tmp_path: Path, command: tuple[str, ...]) -> None:
    node = write_node(tmp_path / "node", Federation.create(datetime.now(UTC)))
    config = load_config(node / CONFIG_FILE)
    url = f"sqlite:///{node / 'jgx.db'}"

    async def create_sm3_log() -> None:
        store = SqliteStore(node / "jgx.db", hasher=SM3)
        await store.open()
        await store.close()

    asyncio.run(create_sm3_log())
    (node / CONFIG_FILE).write_text(
        render_config(replace(config, storage_url=url, log_hash=SHA256)), encoding="utf-8"
    )
    refused = jgx(*command, "--dir", str(node))
    assert 2 == refused.returncode, refused.stdout + refused.stderr
    lines = refused.stderr.strip().splitlines()
    zh = [line for line in lines if line.startswith("错误:")]
    en = [line for line in lines if line.startswith("error:")]
    assert ["错误: 数据库不可用: 日志哈希方案不符: 日志创建时为 sm3，jgx.toml [log] hash 为 sha256，"
            "不可更改"] == zh  # fmt: skip
    assert [
        "error: the database is not usable: log hash profile mismatch: the log was created with sm3, "
        "jgx.toml [log] hash says sha256; a log's profile cannot change"
    ] == en
