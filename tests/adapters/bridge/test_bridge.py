"""The bridge against a real front database (SQLite file, PostgreSQL schema, MariaDB database) and a real hub
over mTLS."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.bridge import parse_mapping
from adapters.bridge.tables import DatabaseUnavailable
from adapters.sdk import HubClient, RetryPolicy, Submitted
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from tests.adapters.bridge.conftest import MARIADB_SERVER, PG_SERVER
from tests.adapters.bridge.front import (
    Front,
    FrontDb,
    RunningHub,
    hub_client,
    inspection,
    load,
    make_bridge,
    mapping_text,
)
from tests.adapters.bridge.mariadb import fresh_database
from tests.adapters.bridge.proxy import Relay
from tests.gateway.storage.pgschema import fresh_schema

T0 = datetime(2026, 11, 27, 9, 0, 0)


async def test_rows_are_sent_and_each_verdict_is_written_back(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """Good rows are accepted with their receipt and log index; a row with an untranslated code is
    written back as refused locally and never reaches the hub; a D row becomes a delete message."""
    db.insert([
        inspection(1, T0),
        inspection(2, T0, jcxs="飞行检查"),
        inspection(3, T0 + timedelta(minutes=5), cd_operation="D"),
    ])  # fmt: skip
    bridge = make_bridge(load(front, hub), hub)
    report = await bridge.run_once()
    await bridge.close()
    results = {r["cd_id"]: r for r in db.results()}
    assert (3, 2, 2, 0, 1) == tuple(
        report.total(k) for k in ("read", "sent", "accepted", "rejected", "refused_local")
    )
    assert {
        "JC000001": ("accepted", 0),
        "JC000002": ("refused_local", None),
        "JC000003": ("accepted", 1),
    } == {k: (r["status"], r["log_index"]) for k, r in results.items()}
    assert "BRIDGE.M001" == results["JC000002"]["reason_codes"]
    assert "未发送" in results["JC000002"]["messages_zh"]
    assert "飞行检查" in results["JC000002"]["messages_zh"]
    assert 64 == len(results["JC000001"]["receipt_sha256"])
    deleted = await hub.message(1)
    assert ("JC000003", exchange_pb2.OPERATION_DELETE) == (deleted.business_key, deleted.operation)
    assert 2 == len(await hub.leaves())


async def test_a_second_pass_sends_nothing_already_receipted(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """Rows written back are never sent again; rows added since are (the watermark moves on)."""
    db.insert([inspection(1, T0), inspection(2, T0 + timedelta(seconds=1))])
    bridge = make_bridge(load(front, hub, batch_size=1), hub)
    first = await bridge.run_once()
    db.insert([inspection(3, T0 + timedelta(hours=1))])
    second = await bridge.run_once()
    await bridge.close()
    assert ((2, 2), (1, 1)) == (
        (len(first.batches), first.total("sent")),
        (second.total("sent"), second.total("accepted")),
    )
    assert 3 == len(await hub.leaves())


async def test_the_hubs_refusal_is_written_back_with_its_reason(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """A record the hub refuses (sc.amr may not send SC-05 to Chongqing) is written back as rejected
    with the hub's reason code and log index: the refusal is logged, not lost."""
    db.insert([inspection(1, T0)])
    bridge = make_bridge(load(front, hub, recipient="cq.hub"), hub)
    report = await bridge.run_once()
    await bridge.close()
    (result,) = db.results()
    assert (1, "rejected", "ACL_DENIED", 0) == (
        report.total("rejected"),
        result["status"],
        result["reason_codes"],
        result["log_index"],
    )


class UpdatedWhileRead(HubClient):
    """The department updates a row (new cd_time, U) while the bridge is sending its older version."""

    db: FrontDb

    async def submit_many(self, envelopes: Sequence[bytes]) -> list[Submitted]:
        self.db.update("JC000001", cd_time=T0 + timedelta(minutes=10), cd_operation="U", jcjg="发现问题")
        return await super().submit_many(envelopes)


async def test_a_row_updated_while_being_read_is_sent_again_as_an_update(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """The version read is written back under its own cd_time; the next pass sends the new cd_time as an
    update and writes its verdict beside the first, which stays as it was."""
    db.insert([inspection(1, T0)])
    client = hub_client(hub, UpdatedWhileRead)
    client.db = db  # type: ignore[attr-defined]
    bridge = make_bridge(load(front, hub), hub, client)
    await bridge.run_once()
    first = db.results()
    await bridge.run_once()
    await bridge.close()
    results = db.results()
    assert [("2026-11-27 09:00:00", "I", "accepted", 0)] == [
        (r["cd_time"], r["cd_operation"], r["status"], r["log_index"]) for r in first
    ]
    assert [first[0], ("2026-11-27 09:10:00", "U", "accepted", 1)] == [
        results[0],
        *[(r["cd_time"], r["cd_operation"], r["status"], r["log_index"]) for r in results[1:]],
    ]
    update = await hub.message(1)
    assert (exchange_pb2.OPERATION_UPDATE, b'"5"') == (
        update.operation,
        update.payload.split(b'checkResult": ')[1][:3],
    )


class KilledAfterSubmit(HubClient):
    """The bridge process dies after the hub receipted the batch and before the verdicts are written."""

    async def submit_many(self, envelopes: Sequence[bytes]) -> list[Submitted]:
        await super().submit_many(envelopes)
        raise SystemExit("killed between submit and write-back")


async def test_a_bridge_killed_between_submit_and_write_back_loses_nothing_and_sends_nothing_twice(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """After the restart the same envelopes are resent and answered with the original receipts: the
    log holds one accepted leaf per row (the resends are logged as duplicates of it)."""
    db.insert([inspection(n, T0 + timedelta(seconds=n)) for n in (1, 2, 3)])
    killed = make_bridge(load(front, hub), hub, hub_client(hub, KilledAfterSubmit))
    with pytest.raises(SystemExit):
        await killed.run_once()
    await killed.close()
    assert not _has_results(db) or [] == db.results()  # nothing written back before the kill
    restarted = make_bridge(load(front, hub), hub)
    report = await restarted.run_once()
    await restarted.close()
    leaves = await hub.leaves()
    outcomes = Counter(outcome for _, outcome in leaves)
    assert {"OUTCOME_ACCEPTED": 3, "OUTCOME_DUPLICATE": 3} == dict(outcomes)
    assert 3 == len({message_id for message_id, _ in leaves})
    assert (3, 3) == (report.total("sent"), report.total("accepted"))
    assert [0, 1, 2] == [r["log_index"] for r in db.results()]


def _has_results(db: FrontDb) -> bool:
    try:
        db.results()
    except Exception:
        return False
    return True


async def test_a_row_committed_late_behind_the_watermark_is_still_sent(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """A concurrent writer that commits an older cd_time after the bridge read a newer one is caught by the
    look-back window; the rows re-read there are not sent again."""
    db.insert([inspection(2, T0 + timedelta(minutes=2))])
    bridge = make_bridge(load(front, hub), hub)
    await bridge.run_once()
    db.insert([inspection(1, T0 + timedelta(minutes=1))])  # committed late, 1 minute behind the watermark
    report = await bridge.run_once()
    await bridge.close()
    assert (2, 1, 1) == (report.total("read"), report.total("already"), report.total("sent"))
    assert ["accepted", "accepted"] == [r["status"] for r in db.results()]


@asynccontextmanager
async def server_front(kind: str, state: Path) -> AsyncIterator[Front]:
    """A fresh schema (PostgreSQL) or database (MariaDB) on the real server, reached directly."""
    if kind == "postgres":
        async with fresh_schema("qzk") as url:
            yield Front(PG_SERVER, url.rpartition("schema=")[2], state)
        return
    with fresh_database() as name:
        yield Front(MARIADB_SERVER, name, state)


SERVERS = [
    pytest.param("postgres", 5432, marks=pytest.mark.postgres),
    pytest.param("mariadb", 3306, marks=pytest.mark.mariadb),
]


@pytest.mark.parametrize(("kind", "port"), SERVERS)
async def test_the_bridge_waits_for_the_database_and_resumes(
    kind: str, port: int, hub: RunningHub, tmp_path: Path
) -> None:
    """The front database goes away between passes (connections cut, port closed): the next pass fails,
    backs off, and completes once the database is back, sending only the new rows."""
    relay = Relay(("127.0.0.1", port))
    relay.up()
    async with server_front(kind, tmp_path / "state.sqlite") as direct_front:
        direct = direct_front.db()
        direct.insert([inspection(1, T0)])
        front = dataclasses.replace(direct_front, url=direct_front.url.replace(f":{port}", f":{relay.port}"))
        retries: list[str] = []

        async def back_after_a_while(seconds: float) -> None:
            if len(retries) == 2:
                relay.up()

        bridge = make_bridge(load(front, hub), hub, sleep=back_after_a_while, retry=RetryPolicy(attempts=5))
        first = await bridge.run_once()
        relay.down()
        direct.insert([inspection(2, T0 + timedelta(minutes=1))])
        second = await bridge.run_once(on_retry=lambda n, exc: retries.append(type(exc).__name__))
        await bridge.close()
        results = direct.results()
        direct.close()
    relay.down()
    assert ((1, 1), ["DatabaseUnavailable", "DatabaseUnavailable"]) == (
        (first.total("accepted"), second.total("accepted")),
        retries,
    )
    assert ["accepted", "accepted"] == [r["status"] for r in results]


@pytest.mark.parametrize(("kind", "port"), SERVERS)
async def test_a_database_that_stays_away_ends_the_pass_with_a_typed_error(
    kind: str, port: int, hub: RunningHub, tmp_path: Path
) -> None:
    """When the retries run out the pass raises DatabaseUnavailable (the CLI's exit 3), not a driver error."""
    relay = Relay(("127.0.0.1", port))
    url = {"postgres": PG_SERVER, "mariadb": MARIADB_SERVER}[kind].replace(f":{port}", f":{relay.port}")
    front = Front(url, None, tmp_path / "state.sqlite")
    bridge = make_bridge(load(front, hub), hub, retry=RetryPolicy(attempts=2))
    with pytest.raises(DatabaseUnavailable):
        await bridge.run_once()
    await bridge.close()


async def test_without_a_look_back_window_a_late_commit_behind_the_watermark_is_not_read(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """lookback_seconds = 0 trusts cd_time order completely: a row committed later with an older cd_time is
    passed over (which is why the guide sets the window above the longest writing transaction)."""
    db.insert([inspection(2, T0 + timedelta(minutes=2))])
    bridge = make_bridge(load(front, hub, lookback_seconds=0.0), hub)
    await bridge.run_once()
    db.insert([inspection(1, T0 + timedelta(minutes=1))])
    report = await bridge.run_once()
    await bridge.close()
    assert (1, 1, 0) == (report.total("read"), report.total("already"), report.total("sent"))


async def test_result_columns_may_be_renamed_to_the_departments_own(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """[result.columns] puts the verdict under the department's own column names."""
    text = mapping_text(front.url, front.state, f"localhost:{hub.port}", front.schema)
    mapping = parse_mapping(text + '[result.columns]\nstatus = "jgzt"\nlog_index = "rzxh"\n')
    db.insert([inspection(1, T0)])
    bridge = make_bridge(mapping, hub)
    await bridge.run_once()
    await bridge.close()
    (result,) = db.results()
    assert ("accepted", 0, False) == (result["jgzt"], result["rzxh"], "status" in result)


async def test_a_lost_state_file_does_not_overwrite_a_verdict_with_replayed(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """With its journal gone the bridge signs a sent row afresh; the hub refuses the new bytes as REPLAYED
    (its id is already logged), and the accepted verdict in the result table stays as it was."""
    db.insert([inspection(1, T0)])
    first = make_bridge(load(front, hub), hub)
    await first.run_once()
    await first.close()
    before = db.results()
    front.state.unlink()
    again = make_bridge(load(front, hub), hub)
    report = await again.run_once()
    await again.close()
    assert (1, before) == (report.total("rejected"), db.results())
    assert ["OUTCOME_ACCEPTED", "OUTCOME_REJECTED"] == [outcome for _, outcome in await hub.leaves()]


async def test_rows_written_by_concurrent_writers_during_passes_are_each_sent_once(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """Two writer threads insert rows (cd_time = their clock) while the bridge runs passes: when they are
    done and a last pass has run, every row has one verdict and one accepted leaf; none was sent twice."""
    stop_at = 40

    def writer(first: int) -> None:
        for n in range(first, first + stop_at):
            db.insert([inspection(n, datetime.now())])  # the department's local clock

    bridge = make_bridge(load(front, hub, batch_size=7), hub)
    writers = [asyncio.create_task(asyncio.to_thread(writer, start)) for start in (1000, 2000)]
    passes = 0
    while not all(w.done() for w in writers) or passes == 0:
        await bridge.run_once()
        passes += 1
    await asyncio.gather(*writers)
    await bridge.run_once()
    await bridge.close()
    results = db.results()
    leaves = await hub.leaves()
    assert (2 * stop_at, {"accepted"}) == (len(results), {r["status"] for r in results})
    assert (2 * stop_at, 2 * stop_at) == (len(leaves), len({m for m, _ in leaves}))
    assert {"OUTCOME_ACCEPTED"} == {outcome for _, outcome in leaves}
