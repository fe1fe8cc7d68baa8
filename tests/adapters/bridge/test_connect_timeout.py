"""A front database host that does not answer is reported unavailable within ``connect_timeout``.

The host is a real listening socket whose accept queue is full (`Blackhole`): the kernel drops every SYN,
as a firewalled or powered-off host does. Without a connect timeout the drivers wait for the operating
system's TCP timeout (minutes); with it, `jgx bridge check`, `jgx bridge run --once` and
`jgx bridge national reconcile` each exit 3 saying the database is unavailable. (The child process runs
under the helper's own generous time limit; nothing here measures how long anything took.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.bridge.mapping import MappingError, parse_mapping
from adapters.bridge.national import NationalJournal
from adapters.bridge.national.config import parse_link
from tests.adapters.bridge.front import Front, RunningHub, guide_mapping
from tests.adapters.bridge.proxy import Blackhole
from tests.adapters.bridge.test_cli import jgx, write_mapping

URLS = {
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:{port}/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:{port}/test",
}


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    hole = Blackhole()
    yield hole
    hole.close()


def _mapping(url: str, hub: RunningHub, tmp_path: Path) -> Path:
    path = write_mapping(Front(url, None, tmp_path / "state.sqlite"), hub, tmp_path)
    text = path.read_text("utf-8").replace("retries = 8", "retries = 1")
    path.write_text(text.replace("connect_timeout = 5", "connect_timeout = 1"), "utf-8")
    return path


@pytest.mark.parametrize("dialect", sorted(URLS))
async def test_check_and_run_report_a_silent_host_as_unavailable(
    dialect: str, blackhole: Blackhole, hub: RunningHub, tmp_path: Path
) -> None:
    mapping = _mapping(URLS[dialect].format(port=blackhole.port), hub, tmp_path)
    for args in (("check", str(mapping)), ("run", str(mapping), "--once")):
        code, _, err = await jgx("bridge", *args)
        said = "错误: 不可用: 前置库不可用: " in err
        said = said and "error: unavailable: the front database is unavailable: " in err
        assert (3, True) == (code, said), (args, err)


@pytest.mark.parametrize("dialect", sorted(URLS))
async def test_reconcile_reports_a_silent_national_host_as_unavailable(
    dialect: str, blackhole: Blackhole, tmp_path: Path
) -> None:
    NationalJournal(tmp_path / "national-state.sqlite").close()
    config = tmp_path / "national.toml"
    config.write_text(
        '[national]\nnode = "sc.national-bridge"\nstate = "national-state.sqlite"\n'
        f'[database]\nurl = "{URLS[dialect].format(port=blackhole.port)}"\nconnect_timeout = 1\n',
        "utf-8",
    )
    code, _, err = await jgx("bridge", "national", "reconcile", str(config))
    said = "错误: 不可用: 国家前置库不可用: " in err
    said = said and "error: unavailable: the national front database is unavailable: " in err
    assert (3, True) == (code, said), err


def test_connect_timeout_defaults_to_five_seconds_and_must_be_a_number(tmp_path: Path) -> None:
    text = guide_mapping().replace("connect_timeout = 5", "")
    assert 5.0 == parse_mapping(text, base=tmp_path).connect_timeout
    with pytest.raises(MappingError, match="connect_timeout"):
        parse_mapping(guide_mapping().replace("connect_timeout = 5", 'connect_timeout = "5s"'), base=tmp_path)
    link = '[national]\nnode = "n"\n[database]\nurl = "sqlite://"\n'
    assert 5.0 == parse_link(link).connect_timeout
    assert 0.5 == parse_link(link + "connect_timeout = 0.5\n").connect_timeout
    with pytest.raises(MappingError, match="connect_timeout"):
        parse_link(link + "connect_timeout = -1\n")
