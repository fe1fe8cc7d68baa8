"""The province's national bridge on a real national front database (SQLite file, PostgreSQL schema) and a
real federation over gRPC with mTLS: the national system runs no jgx, it only reads and writes its tables."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from adapters.bridge.national import (
    NationalDesk,
    NationalDownward,
    NationalJournal,
    NationalTables,
    load_link,
    reconcile,
)
from adapters.bridge.state import BridgeState
from adapters.demo import samples
from adapters.demo.national import DemoBridge, NationalDatabase, NationalSide, national_desk, national_link
from adapters.demo.network import DEMO_RETRY, LoopbackNetwork, default_validator
from adapters.departments import MarketRegulation
from adapters.links.national import report_upward
from adapters.sdk import HubClient, Submitted
from gateway.cli import main
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.testing import BRIDGE_ACL, BRIDGE_NODES, DEFAULT_ACL, DEFAULT_NODES, NATIONAL_BRIDGE, Federation
from tests.adapters.bridge.conftest import PG_SERVER
from tests.adapters.bridge.front import GUIDE
from tests.gateway.storage.pgschema import fresh_schema

TASK = "LHJG-51-NB-0001"


async def until(condition: Callable[[], Awaitable[bool] | bool], timeout: float = 60.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                held = condition()
                if await held if isinstance(held, Awaitable) else held:
                    return True
                await asyncio.sleep(0.05)
    except TimeoutError:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def national_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NationalDatabase]:
    """The national front database: a SQLite file, or a fresh schema on the real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'national.db'}"
        database = NationalDatabase("SQLite", url, None, sa.create_engine(url))
        yield database
        database.engine.dispose()
        return
    async with fresh_schema("gj") as url:
        database = NationalDatabase(
            "PostgreSQL", PG_SERVER, url.rpartition("schema=")[2], sa.create_engine(PG_SERVER)
        )
        yield database
        database.engine.dispose()


@pytest.fixture
async def net(
    tmp_path: Path, national_db: NationalDatabase
) -> AsyncIterator[tuple[LoopbackNetwork, DemoBridge]]:
    """sc.hub, cq.hub, market regulation and the national bridge on loopback; the bridge's driver."""
    link = national_link(tmp_path, national_db)
    network = LoopbackNetwork.create(
        tmp_path / "net",
        {
            "sc.amr": MarketRegulation(auto_claim=False),
            NATIONAL_BRIDGE: lambda trust: national_desk(link, national_db, trust),
        },
        now=datetime.now(UTC),
        validate=default_validator(),
    )
    await network.start()
    bridge = DemoBridge.of(network)
    yield network, bridge
    await bridge.close()
    await network.stop()


def state(network: LoopbackNetwork, correlation_id: str) -> str:
    item = network.departments["sc.amr"].servicer.worklist.get(correlation_id)
    return item.state.value if item is not None else "-"


def publish(bridge: DemoBridge, cd_id: str, content: bytes, seconds: int = 0) -> None:
    at = bridge.clock() + timedelta(seconds=seconds)
    bridge.side.publish_task(cd_id, content, at, f"{at:%Y%m%d}00001")


async def test_a_national_task_reaches_the_department_and_its_feedback_reaches_the_national_up_table(
    net: tuple[LoopbackNetwork, DemoBridge],
) -> None:
    """分发 from the down-table → sc.amr (SC-14 and the riskWarning as SC-12, signed by the bridge); 认领 and
    反馈 → one cd_batch in t_task_feedback with the national status words and the superviseData reply."""
    network, bridge = net
    publish(bridge, TASK, samples.national_task(bridge.clock(), TASK))
    report = await bridge.poll()
    assert (1, []) == (report.accepted, report.refused)
    assert await until(lambda: state(network, TASK) == "dispatched" and state(network, f"FXYJ-{TASK}") != "-")
    amr = network.departments["sc.amr"]
    desk = amr.department
    ids = amr.servicer.send([desk.claim(TASK, amr.servicer.clock())])  # type: ignore[attr-defined]
    ids += amr.servicer.send([desk.task_feedback(TASK, amr.servicer.clock())])  # type: ignore[attr-defined]
    (batch,) = await bridge.upward(ids, timeout=60.0)
    rows = bridge.side.up_rows("t_task_feedback")
    assert [("认领", TASK, batch.cd_batch, "i"), ("反馈", TASK, batch.cd_batch, "i")] == [
        (r["status"], r["cd_id"], r["cd_batch"], r["cd_operation"]) for r in rows
    ]
    assert (2, "51000011510000MB0A1B2C62") == (batch.written, rows[0]["cd_source"])
    assert "<status>反馈</status>" in rows[1]["superviseData"]
    assert "<admInspection>" in rows[1]["superviseData"]
    (read,) = bridge.side.read_back().values()
    assert ("read", 2) == (read["status"], len(read["message_ids"].split()))
    hub = network.gateways["sc.hub"].store
    assert hub is not None
    (dispatch,) = [r for r in await hub.find_messages(correlation_id=TASK) if r.action == "dispatch"][:1]
    assert (NATIONAL_BRIDGE, "sc.amr") == (dispatch.sender, dispatch.recipient)


class KilledAfterSubmit(HubClient):
    """The bridge process dies after the hub receipted the envelopes and before the read-back is written."""

    async def submit_many(self, envelopes: Sequence[bytes]) -> list[Submitted]:
        await super().submit_many(envelopes)
        raise SystemExit("killed between submit and write-back")


async def test_a_bridge_killed_between_submit_and_write_back_loses_nothing_and_dispatches_nothing_twice(
    net: tuple[LoopbackNetwork, DemoBridge],
) -> None:
    """After the restart the same envelopes are resent and get the original receipts: the hub logs one
    accepted submission per message (the resend is a duplicate of it), sc.amr gets the task once, and the
    read-back row is written once."""
    network, bridge = net
    publish(bridge, TASK, samples.national_task(bridge.clock(), TASK))
    desk, link = bridge.desk, bridge.desk.link
    client = KilledAfterSubmit(
        network.gateways["sc.hub"].address, trust=network.trust, hub="sc.hub",
        credentials=network.tls[NATIONAL_BRIDGE].channel(), retry=DEMO_RETRY,
    )  # fmt: skip
    killed_state = BridgeState(link.state)
    killed = NationalDownward(
        link, tables=desk.tables, state=killed_state, journal=desk.journal, hub=client,
        key=network.key(NATIONAL_BRIDGE), trust=network.trust,
    )  # fmt: skip
    with pytest.raises(SystemExit):
        await killed.poll()
    killed_state.close()
    await client.close()
    assert {} == bridge.side.read_back()
    report = await bridge.poll()  # the restarted bridge: a fresh state connection, the same file
    assert (1, 2) == (report.accepted, len(report.sent))
    hub = network.gateways["sc.hub"].store
    assert hub is not None
    submissions = [r for r in await hub.find_messages(correlation_id=TASK) if r.kind == "submission"]
    assert {exchange_pb2.OUTCOME_ACCEPTED: 1, exchange_pb2.OUTCOME_DUPLICATE: 1} == Counter(
        r.outcome for r in submissions
    )
    assert await until(lambda: "dispatched" == state(network, TASK) == state(network, f"FXYJ-{TASK}"))
    amr = network.departments["sc.amr"].store
    assert 2 == sum(1 for seq in range(1, amr.next_seq()) if amr.by_seq(seq) is not None)
    assert ["read"] == [r["status"] for r in bridge.side.read_back().values()]
    assert 1 == (await bridge.poll()).already  # read back: never dispatched again


async def test_a_bridge_that_lost_its_state_file_dispatches_nothing_twice(
    net: tuple[LoopbackNetwork, DemoBridge], tmp_path: Path
) -> None:
    """A bridge starting over with an empty state file re-reads the table and re-signs the row: the hub
    refuses the re-signed messages as REPLAYED (same ids), the row counts as already read and its
    read-back is kept; sc.amr holds the task once."""
    network, bridge = net
    publish(bridge, TASK, samples.national_task(bridge.clock(), TASK))
    assert 1 == (await bridge.poll()).accepted
    before = bridge.side.read_back()[TASK]
    desk, lost = bridge.desk, BridgeState(tmp_path / "empty-state.sqlite")
    again = NationalDownward(
        desk.link, tables=desk.tables, state=lost, journal=desk.journal, hub=bridge.hub,
        key=network.key(NATIONAL_BRIDGE), trust=network.trust,
        clock=lambda: bridge.clock() + timedelta(seconds=5),
    )  # fmt: skip
    report = await again.poll()
    lost.close()
    assert (1, 0, []) == (report.already, report.accepted, report.refused)
    assert before == bridge.side.read_back()[TASK]
    hub = network.gateways["sc.hub"].store
    assert hub is not None
    outcomes = Counter(
        (r.outcome, r.reason_codes)
        for r in await hub.find_messages(correlation_id=TASK)
        if r.kind == "submission"
    )
    assert {
        (exchange_pb2.OUTCOME_ACCEPTED, ()): 1,
        (exchange_pb2.OUTCOME_REJECTED, ("REPLAYED",)): 1,
    } == outcomes


async def test_a_flush_killed_after_the_national_commit_writes_nothing_twice(
    net: tuple[LoopbackNetwork, DemoBridge], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upward: a bridge stopped after the batch stood in the national database but before its journal
    said so rewrites the same cd_batch on restart and finds every row already there."""
    network, bridge = net
    amr = network.departments["sc.amr"]
    _, ids = report_upward(amr.servicer, ["SC-06"])
    desk = bridge.desk
    assert await until(lambda: desk.journal.messages(ids) == len(ids))

    def killed(batch: str) -> None:
        raise SystemExit(f"killed before {batch} was marked written")

    monkeypatch.setattr(desk.journal, "mark_written", killed)
    with pytest.raises(SystemExit):
        desk.flush(bridge.clock())
    monkeypatch.undo()
    (again,) = desk.flush(bridge.clock())
    rows = bridge.side.up_rows("t_jgxw_punish_action")
    assert (0, len(ids), len(ids)) == (again.written, again.already, len(rows))
    assert {again.cd_batch} == {r["cd_batch"] for r in rows}
    assert [] == desk.flush(bridge.clock())


async def test_malformed_and_unusable_national_rows_are_refused_with_the_reason_written_back(
    net: tuple[LoopbackNetwork, DemoBridge],
) -> None:
    """Each bad down row gets a typed refusal in the read-back table; the good row after them is
    dispatched; the hub never sees the bad ones; a second poll does not read any of them again."""
    network, bridge = net
    unrouted = json.loads(samples.national_task(bridge.clock(), "LHJG-NOROUTE"))
    unrouted["superviseData"]["taskInfo"]["unionDeptNo"] = "11510700MB0E3K4L5A"  # 绵阳: no route
    unrouted["superviseData"]["taskInfo"]["unionRegionNo"] = "510700"
    bad = {
        "BAD-XML": samples.malformed_task(),
        "BAD-JSON": b"{not json",
        "NO-TASKNO": json.dumps({"superviseData": {"taskInfo": {"taskName": "x"}}}).encode(),
        "NO-ROUTE": json.dumps(unrouted, ensure_ascii=False).encode(),
        "CLOSE-UNKNOWN": samples.close_task("LHJG-NEVER", "无"),
    }
    for n, (cd_id, content) in enumerate(bad.items()):
        publish(bridge, cd_id, content, n)
    publish(bridge, TASK, samples.national_task(bridge.clock(), TASK), 10)
    report = await bridge.poll()
    read = bridge.side.read_back()
    assert {
        "BAD-XML": ("refused", "MALFORMED"), "BAD-JSON": ("refused", "MALFORMED"),
        "NO-TASKNO": ("refused", "MALFORMED"), "NO-ROUTE": ("refused", "NOT_ADDRESSED_TO_US"),
        "CLOSE-UNKNOWN": ("refused", "RULE_VIOLATION"), TASK: ("read", ""),
    } == {cd_id: (r["status"], r["reason_codes"]) for cd_id, r in read.items()}  # fmt: skip
    assert "element <taskInfo> repeats" in read["BAD-XML"]["message"]
    assert (1, 5) == (report.accepted, len(report.refused))
    hub = network.gateways["sc.hub"].store
    assert hub is not None
    senders = {
        r.correlation_id for r in await hub.messages(0, await hub.size()) if r.sender == NATIONAL_BRIDGE
    }
    assert {TASK, f"FXYJ-{TASK}"} == senders
    again = await bridge.poll()  # from the watermark: what it reads again it knows as read back
    assert (again.read, 0, []) == (again.already, again.accepted, again.refused)


def _fed() -> Federation:
    return Federation.create(
        datetime.now(UTC), nodes={**DEFAULT_NODES, **BRIDGE_NODES}, acl=(*DEFAULT_ACL, *BRIDGE_ACL)
    )


def _config(tmp_path: Path, database: NationalDatabase) -> Path:
    """The national bridge configuration printed in docs/integrator-guide.md §8, on this test's database."""
    blocks = re.findall(r"```toml\n(.*?)```", GUIDE.read_text("utf-8"), flags=re.DOTALL)
    text = next(b for b in blocks if "[national]" in b)
    if database.schema:
        text = re.sub(r'(?m)^# schema = ".*"', f'schema = "{database.schema}"', text)
    text = re.sub(r'(?m)^url = "[^"]*"', f'url = "{database.url}"', text)
    text = re.sub(r'(?m)^state = "[^"]*"', 'state = "state.sqlite"', text)
    path = tmp_path / "national.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_reconciliation_finds_refused_missing_and_unacknowledged_rows_and_exits_1(
    national_db: NationalDatabase, tmp_path: Path
) -> None:
    """Four cd_batch runs: acknowledged in full, with a refused row, with a row never acknowledged, not at
    all. `jgx bridge national reconcile` tells them apart and exits 1; 0 once the national side caught up."""
    fed = _fed()
    config = _config(tmp_path, national_db)
    tables = NationalTables(national_db.engine, national_db.schema)
    tables.create()
    link = load_link(config)
    journal = NationalJournal(link.state)
    desk = NationalDesk(link, tables, journal, fed.trust)
    now = datetime.now(UTC)
    batches = []
    for size in (3, 2, 2, 1):
        for _ in range(size):
            desk.handle_delivered(fed.message("sc.amr", NATIONAL_BRIDGE, standard="SC-06"), now=now)
        (written,) = desk.flush(now)
        batches.append(written.cd_batch)
    assert [f"{batches[0][:8]}{n:05d}" for n in (1, 2, 3, 4)] == batches
    refused_id = bridge_rows(tables, batches[1])[0]
    side = NationalSide(tables)
    side.acknowledge(batches[0], 3, [], now)
    side.acknowledge(batches[1], 2, [("t_jgxw_punish_action", refused_id, "处罚决定书文号重复")], now)
    with tables.engine.begin() as connection:
        connection.execute(
            sa.insert(tables.ack_batch).values(cd_batch=batches[2], received=1, accepted=1, ack_time=now)
        )
    assert ["ok", "refused", "missing", "pending"] == [c.status for c in reconcile(tables, journal.written())]
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["bridge", "national", "reconcile", str(config)]
    )
    assert 1 == result.exit_code, result.output
    assert ("一致 ok", "有拒收 refused", "有缺失 missing", "未回执 pending") == tuple(
        line.split(None, 4)[4] for line in result.output.splitlines()[1:] if line.startswith(batches[0][:8])
    )
    assert f"拒收 / refused: t_jgxw_punish_action {refused_id}: 处罚决定书文号重复" in result.output
    with tables.engine.begin() as connection:
        connection.execute(sa.delete(tables.ack_refused))
        connection.execute(sa.update(tables.ack_batch).values(received=sa.literal_column("received") + 1))
        connection.execute(
            sa.update(tables.ack_batch)
            .where(tables.ack_batch.c.cd_batch != batches[0])
            .values(received=2, accepted=2)
        )
    side.acknowledge(batches[3], 1, [], now)
    journal.close()
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["bridge", "national", "reconcile", str(config), "--json"]
    )
    assert (0, ["ok"] * 4) == (result.exit_code, [b["status"] for b in json.loads(result.output)])


def bridge_rows(tables: NationalTables, batch: str) -> list[str]:
    table = tables.up["t_jgxw_punish_action"]
    with tables.engine.connect() as connection:
        return list(connection.execute(sa.select(table.c.cd_id).where(table.c.cd_batch == batch)).scalars())


def test_reconcile_exits_2_on_an_unusable_configuration_and_3_when_the_database_is_away(
    tmp_path: Path,
) -> None:
    """The exit codes a script relies on besides 0 and 1: 2 for a configuration that cannot be used (and
    for no state file to reconcile), 3 when the national database does not answer."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[national]\nnode = "sc.national-bridge"\n', encoding="utf-8")  # no [database]
    away = tmp_path / "away.toml"
    away.write_text(
        '[national]\nnode = "sc.national-bridge"\nstate = "state.sqlite"\n'
        '[database]\nurl = "postgresql+psycopg://postgres@127.0.0.1:1/test"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    unusable = runner.invoke(main, ["bridge", "national", "reconcile", str(bad)])
    no_state = runner.invoke(main, ["bridge", "national", "reconcile", str(away)])
    NationalJournal(tmp_path / "state.sqlite").close()
    unavailable = runner.invoke(main, ["bridge", "national", "reconcile", str(away)])
    assert (2, 2, 3) == (unusable.exit_code, no_state.exit_code, unavailable.exit_code), unavailable.output
    assert "[national] and [database]" in unusable.output
    assert "national front database is unavailable" in unavailable.output
