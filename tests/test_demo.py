"""``jgx demo``: the whole federation scenario runs on loopback and checks itself (run once here)."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.demo import run_demo
from gateway.cli import main
from gateway.keys import Algorithm


async def test_the_federation_scenario_holds_every_expectation_and_leaves_auditable_logs(
    tmp_path: Path,
) -> None:
    """The scenario holds every expectation with the national front tables on the test PostgreSQL (the
    national system runs no gateway: the province's national bridge is an adapter behind the hub), and
    `jgx log verify` accepts the Chongqing gateway's log after."""
    out = io.StringIO()
    code = await run_demo(tmp_path, out=out)
    text = out.getvalue()
    assert (0, "✘" in text) == (code, False), text
    assert "the national system runs no jgx; its front database: PostgreSQL" in text
    summary = text[text.index("汇总 / summary per node") :]
    nodes = [line.split()[0] for line in summary.splitlines()[3:9]]
    assert ["sc.hub", "cq.hub", "sc.amr", "sc.12315", "sc.sjs", "sc.national-bridge"] == nodes
    assert ("KEY_UNKNOWN 1" in summary, "REPLAYED 1" in summary) == (True, True)
    args = ["log", "verify", "--dir", str(tmp_path / "cq.hub")]
    result = await asyncio.to_thread(CliRunner().invoke, main, args)
    assert (0, "log OK") == (result.exit_code, result.output.split(":")[0].split(" / ")[-1])


def test_demo_help_explains_with_an_example() -> None:
    """`jgx demo --help` describes the scenario and shows an example."""
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert (0, True, True) == (
        result.exit_code,
        "--keep-running" in result.output,
        "Example" in result.output,
    )


async def test_without_postgresql_the_national_front_tables_are_a_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no PostgreSQL at JGX_DEMO_POSTGRES the demo says so and runs on a SQLite file; every
    expectation holds and the national up-tables in that file hold the rows the bridge wrote."""
    import sqlalchemy as sa

    monkeypatch.setenv("JGX_DEMO_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:1/test")
    out = io.StringIO()
    code = await run_demo(tmp_path, out=out)
    text = out.getvalue()
    assert (0, False) == (code, "✘" in text), text
    assert f"its front database: SQLite: sqlite:///{tmp_path / 'national-front.db'}" in text
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'national-front.db'}")
    with engine.connect() as connection:
        statuses = connection.execute(
            sa.text("SELECT status FROM t_task_feedback ORDER BY cd_time")
        ).scalars()
        assert ["认领", "反馈"] == list(statuses)
    engine.dispose()


async def test_the_scenario_runs_on_a_federation_of_sm2_keys(tmp_path: Path) -> None:
    """`jgx demo --algorithm sm2`: every node and the trust admin sign with SM2; every expectation holds."""
    import json

    from gateway.trust import TrustConfig

    out = io.StringIO()
    code = await run_demo(tmp_path, out=out, algorithm=Algorithm.SM2_SM3)
    assert (0, False) == (code, "✘" in out.getvalue()), out.getvalue()
    envelope = json.loads((tmp_path / "sc.hub" / "trust.json").read_bytes())
    trust = TrustConfig.from_json_bytes(base64.b64decode(envelope["payload"]))
    algorithms = {record.algorithm for node in trust.nodes.values() for record in node.keys}
    assert {Algorithm.SM2_SM3} == algorithms
    assert {Algorithm.SM2_SM3} == {key.algorithm for key in trust.admin_keys}
    args = ["log", "verify", "--dir", str(tmp_path / "sc.hub")]
    result = await asyncio.to_thread(CliRunner().invoke, main, args)
    assert 0 == result.exit_code, result.output
