"""`jgx bridge` and `jgx bridge national` failures speak each language once (see
tests/gateway/test_cli_languages.py): an unavailable front database exits 3 with
"错误: 不可用: 前置库不可用: …" and "error: unavailable: the front database is unavailable: …"; it used to
print one line carrying both languages twice."""

from __future__ import annotations

from pathlib import Path

from adapters.bridge.national import NationalJournal
from tests.adapters.bridge.front import Front, RunningHub
from tests.adapters.bridge.test_cli import jgx, write_mapping
from tests.cli_languages import assert_each_language_once


async def test_bridge_check_and_run_on_an_unreachable_front_database(hub: RunningHub, tmp_path: Path) -> None:
    front = Front(f"sqlite:///{tmp_path / 'missing' / 'front.db'}", None, tmp_path / "state.sqlite")
    mapping = write_mapping(front, hub, tmp_path)
    mapping.write_text(mapping.read_text("utf-8").replace("retries = 8", "retries = 1"), "utf-8")
    for args in (("check", str(mapping)), ("run", str(mapping), "--once")):
        code, _, err = await jgx("bridge", *args)
        assert 3 == code, (args, err)
        assert_each_language_once(err, ("前置库不可用", "the front database is unavailable"))
        assert "错误: 不可用: 前置库不可用: " in err, err


async def test_bridge_national_reconcile_on_an_unreachable_national_database(tmp_path: Path) -> None:
    away = tmp_path / "away.toml"
    away.write_text(
        '[national]\nnode = "sc.national-bridge"\nstate = "state.sqlite"\n'
        '[database]\nurl = "postgresql+psycopg://postgres@127.0.0.1:1/test"\n',
        encoding="utf-8",
    )
    NationalJournal(tmp_path / "state.sqlite").close()
    code, _, err = await jgx("bridge", "national", "reconcile", str(away))
    assert 3 == code, err
    assert_each_language_once(err, ("国家前置库不可用", "the national front database is unavailable"))
