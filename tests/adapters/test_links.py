"""The national and 川渝 links over real sockets: the hub, Chongqing's gateway, the reference adapters and
the province's national bridge on a SQLite national front database (the national system runs no jgx),
mTLS. The national bridge on PostgreSQL too: tests/adapters/bridge/test_national.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.demo import demo_departments, samples
from adapters.demo.national import DemoBridge, NationalDatabase, national_desk, national_link
from adapters.demo.network import LoopbackNetwork, default_validator
from adapters.links.chuanyu import ChongqingPlatform, ClueRegionError, Unit, transfer
from adapters.links.inbox import Inbox
from adapters.links.national import report_upward
from gateway.storage import OutboxState
from gateway.testing import NATIONAL_BRIDGE

TASK = "LHJG-51-TEST-0001"
CLUE = "CY-XS-TEST-0001"


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 60.0) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass."""
    try:
        async with asyncio.timeout(timeout):
            while not await condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        return False
    return True


@pytest.fixture
async def network(tmp_path: Path) -> AsyncIterator[LoopbackNetwork]:
    """The federation on loopback: sc.hub, cq.hub, the three reference adapters and the national bridge."""
    from datetime import UTC, datetime

    url = f"sqlite:///{tmp_path / 'national.db'}"
    database = NationalDatabase("SQLite", url, None, sa.create_engine(url))
    link = national_link(tmp_path, database)
    departments = {
        **demo_departments(), NATIONAL_BRIDGE: lambda trust: national_desk(link, database, trust)
    }  # fmt: skip
    net = LoopbackNetwork.create(
        tmp_path / "net", departments, now=datetime.now(UTC), validate=default_validator()
    )
    await net.start()
    yield net
    await net.stop()
    database.engine.dispose()


@pytest.fixture
async def national(network: LoopbackNetwork) -> AsyncIterator[DemoBridge]:
    """The province's national bridge, driven step by step (poll the down-table, flush the up-tables)."""
    bridge = DemoBridge.of(network)
    yield bridge
    await bridge.close()


async def push_task(national: DemoBridge, document: bytes, task: str) -> int:
    """The national side writes a task row; the bridge dispatches it; the rows the hub accepted."""
    now = national.clock()
    national.side.publish_task(task, document, now, f"{now:%Y%m%d}00001")
    return (await national.poll()).accepted


@pytest.fixture
async def chongqing(network: LoopbackNetwork) -> AsyncIterator[ChongqingPlatform]:
    """The Chongqing platform behind the cq.hub gateway."""
    gateway = network.gateways["cq.hub"]
    platform = ChongqingPlatform(
        node_id="cq.hub",
        key=network.key("cq.hub"),
        hub=network.client("cq.hub"),
        inbox=Inbox("cq.hub", lambda: gateway.store),
    )
    yield platform
    await platform.hub.close()


def state(network: LoopbackNetwork, node: str, correlation_id: str) -> str:
    item = network.departments[node].servicer.worklist.get(correlation_id)
    return item.state.value if item is not None else "-"


async def test_a_national_task_reaches_market_regulation_through_the_hub(
    network: LoopbackNetwork, national: DemoBridge
) -> None:
    """A task the national side writes into its down-table is read by the bridge, accepted by the hub
    and delivered to sc.amr's worklist."""
    accepted = await push_task(national, samples.national_task(national.clock(), TASK), TASK)

    hub = network.gateways["sc.hub"].store
    assert hub is not None

    async def kinds() -> list[str]:
        return [r.kind for r in await hub.find_messages(correlation_id=TASK)]

    async def delivered() -> bool:
        # the adapter's worklist changes as Deliver arrives; the hub logs the delivery when the adapter's
        # receipt is back, a moment later: wait for both
        return state(network, "sc.amr", TASK) == "dispatched" and len(await kinds()) > 1

    assert (1, True) == (accepted, await until(delivered))
    assert ["submission", "delivery"] == await kinds()


async def test_claim_and_feedback_reach_the_national_system_in_its_layout(
    network: LoopbackNetwork, national: DemoBridge
) -> None:
    """sc.amr's 认领 and 反馈 reach the national bridge and stand in the national up-table in the national
    layout (status words, the superviseData reply document)."""
    await push_task(national, samples.national_task(national.clock(), TASK), TASK)
    amr = network.departments["sc.amr"]
    desk = amr.department

    async def delivered() -> bool:
        return state(network, "sc.amr", TASK) == "dispatched"

    assert await until(delivered)
    ids = amr.servicer.send([desk.claim(TASK, amr.servicer.clock())])  # type: ignore[attr-defined]
    ids += amr.servicer.send([desk.task_feedback(TASK, amr.servicer.clock())])  # type: ignore[attr-defined]
    await national.upward(ids, timeout=60.0)
    rows = national.side.up_rows("t_task_feedback")
    assert ["认领", "反馈"] == [r["status"] for r in rows]
    document = rows[-1]["superviseData"]
    assert ("<status>反馈</status>" in document, "<admInspection>" in document) == (True, True)
    item = network.departments[NATIONAL_BRIDGE].servicer.worklist.get(TASK)
    assert item is not None
    assert "fed_back" == item.state.value


async def test_records_go_up_with_the_days_consecutive_batch_ids(
    network: LoopbackNetwork, national: DemoBridge
) -> None:
    """Two reports on one day carry the department's runs 00001 and 00002; the bridge writes them as rows
    with cd_* columns in a cd_batch run of its own."""
    amr = network.departments["sc.amr"]
    first, first_ids = report_upward(amr.servicer, ["SC-06"])
    second, second_ids = report_upward(amr.servicer, ["SC-07"])
    (batch,) = await national.upward([*first_ids, *second_ids], timeout=60.0)
    assert (first[8:], second[8:]) == ("00001", "00002")
    rows = national.side.up_rows("t_jgxw_punish_action") + national.side.up_rows("t_up_record")
    assert len(first_ids) + len(second_ids) == len(rows) == batch.written
    assert {batch.cd_batch} == {row["cd_batch"] for row in rows}
    assert ("i", "51000011510000MB0A1B2C62") == (rows[0]["cd_operation"], rows[0]["cd_source"])


async def test_a_clue_reaches_chongqing_masked_for_the_partner(
    network: LoopbackNetwork, chongqing: ChongqingPlatform
) -> None:
    """A transferred clue arrives at cq.hub with the phone masked 前3后4, the party's number kept (SC-13)."""
    amr = network.departments["sc.amr"]
    transfer(amr.servicer, samples.clue(amr.servicer.clock(), CLUE))
    arrival = await chongqing.wait_for_clue(CLUE, timeout=60.0)
    payload = json.loads(arrival.message.payload)
    assert ("138****5678", "510106197811204521") == (payload["contactPhone"], payload["partyIdCode"])
    assert chongqing.masked_as_required(arrival)


def test_a_clue_for_a_retired_chongqing_region_is_refused(network: LoopbackNetwork) -> None:
    """渝北区 (500112) was retired on 2025-11-06: a transfer naming it is refused before anything is sent."""
    amr = network.departments["sc.amr"]
    with pytest.raises(ClueRegionError) as raised:
        transfer(amr.servicer, samples.clue(amr.servicer.clock(), CLUE, receiver_region="500112"))
    assert ("RULE_VIOLATION", []) == (raised.value.reason.value, amr.store.pending())


async def test_chongqing_feedback_reaches_the_sichuan_department(
    network: LoopbackNetwork, chongqing: ChongqingPlatform
) -> None:
    """Chongqing's 认领 and 协查反馈 travel back through the hub and move sc.amr's clue to fed_back."""
    amr = network.departments["sc.amr"]
    transfer(amr.servicer, samples.clue(amr.servicer.clock(), CLUE))
    arrival = await chongqing.wait_for_clue(CLUE, timeout=60.0)
    unit = Unit(**samples.CHONGQING_UNIT)
    claimed = await chongqing.claim(arrival.message, unit)
    fed = await chongqing.feedback(
        arrival.message, unit, result="已核实。", case_no="渝两江市监立〔2026〕1号"
    )

    async def fed_back() -> bool:
        return state(network, "sc.amr", CLUE) == "fed_back"

    assert (True, True, True) == (claimed.accepted, fed.accepted, await until(fed_back))


async def test_a_transfer_waits_while_chongqing_is_down_and_completes_when_it_returns(
    network: LoopbackNetwork, chongqing: ChongqingPlatform
) -> None:
    """With cq.hub stopped the hub keeps the envelope pending and retries; after a restart it is delivered."""
    gateway, hub = network.gateways["cq.hub"], network.gateways["sc.hub"]
    await gateway.stop()
    transfer(network.departments["sc.amr"].servicer, samples.clue(chongqing.clock(), CLUE))

    async def retrying() -> bool:
        assert hub.store is not None
        rows = await hub.store.outbox(state=OutboxState.PENDING)
        return any(r.recipient == "cq.hub" and r.attempts >= 2 for r in rows)

    assert await until(retrying)
    await gateway.start()
    arrival = await chongqing.wait_for_clue(CLUE, timeout=60.0)

    async def settled() -> bool:
        assert hub.store is not None
        return not await hub.store.outbox(state=OutboxState.PENDING)

    assert (CLUE, True) == (arrival.message.correlation_id, await until(settled))


async def test_a_task_nobody_claims_turns_overdue(network: LoopbackNetwork, national: DemoBridge) -> None:
    """An SC-14 task sc.sjs never claims is overdue days later, at sc.sjs and at the national bridge."""
    task = "LHJG-51-TEST-0002"
    await push_task(national, samples.spot_check_task(national.clock(), task), task)

    async def delivered() -> bool:
        return state(network, "sc.sjs", task) == "dispatched"

    assert await until(delivered)
    later = national.clock() + timedelta(days=10)
    at_sjs = [i.correlation_id for i in network.departments["sc.sjs"].servicer.worklist.mark_overdue(later)]
    bridge = network.departments[NATIONAL_BRIDGE].servicer.worklist
    at_national = [i.correlation_id for i in bridge.mark_overdue(later)]
    assert ([task], [task], "overdue") == (at_sjs, at_national, state(network, "sc.sjs", task))


async def test_trace_across_shows_every_hop_with_verified_receipts(
    network: LoopbackNetwork, national: DemoBridge
) -> None:
    """`jgx trace --across` from the hub lists its hops with verified receipts: the dispatch the bridge
    signed, its delivery to sc.amr, the claim, and its delivery to the bridge (receipted by the bridge)."""
    from click.testing import CliRunner

    from gateway.cli import main

    await push_task(national, samples.national_task(national.clock(), TASK), TASK)
    amr = network.departments["sc.amr"]

    async def delivered() -> bool:
        return state(network, "sc.amr", TASK) == "dispatched"

    assert await until(delivered)
    ids = amr.servicer.send([amr.department.claim(TASK, amr.servicer.clock())])  # type: ignore[attr-defined]
    assert await national.upward(ids, timeout=60.0)
    hub_dir = str(network.gateways["sc.hub"].directory)
    args = ["trace", TASK, "--correlation", "--across", "--dir", hub_dir]
    result = await asyncio.to_thread(CliRunner().invoke, main, args)

    async def delivery_logged() -> bool:
        # the bridge staged the claim when it was delivered; the hub logs its delivery leaf (with the
        # bridge's receipt) just after, so wait for that leaf rather than race it.
        nonlocal result
        result = await asyncio.to_thread(CliRunner().invoke, main, args)
        return result.exit_code != 0 or sum(" sc.hub " in line for line in result.output.splitlines()) >= 4

    assert await until(delivery_logged)
    lines = result.output.splitlines()
    receipts = [line.rsplit("receipt ", 1)[-1] for line in lines if " sc.hub " in line]
    assert 0 == result.exit_code, result.output
    issuers = [r.split("#")[0] for r in receipts]
    assert (["sc.hub", "sc.amr", "sc.hub", NATIONAL_BRIDGE], True) == (
        issuers,
        all(r.endswith("✔") for r in receipts),
    )
    assert 0 == sum("cn.national" in line for line in lines)  # no national gateway: nobody to ask
