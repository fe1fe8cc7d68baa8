"""A journal entry whose source row moved (deleted, or updated to a new cd_time) before its verdict was
written back is finished from the journal on the next pass, never left ``pending``."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.bridge import BridgeState
from adapters.sdk import HubClient, RetryPolicy, Submitted
from gateway.errors import JgxError, ReasonCode
from tests.adapters.bridge.front import Front, FrontDb, RunningHub, hub_client, inspection, load, make_bridge
from tests.adapters.bridge.test_bridge import KilledAfterSubmit

T0 = datetime(2026, 11, 27, 9, 0, 0)


class HubAway(HubClient):
    """The hub cannot be reached when the batch, already journaled, is to be sent."""

    async def submit_many(self, envelopes: Sequence[bytes]) -> list[Submitted]:
        raise JgxError(ReasonCode.UNAVAILABLE, "the hub went away")


async def test_entries_whose_rows_were_deleted_or_updated_are_finished_and_counted(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """Killed between submit and write-back; meanwhile the department deletes one row and updates another
    (new cd_time, U). The next pass sends the journal's envelopes again (the hub answers with the original
    receipts), writes all three verdicts back under the versions that were sent, says which were settled
    without their row, sends the new version as an update, and leaves nothing pending."""
    db.insert([inspection(n, T0 + timedelta(seconds=n)) for n in (1, 2, 3)])
    killed = make_bridge(load(front, hub), hub, hub_client(hub, KilledAfterSubmit))
    with pytest.raises(SystemExit):
        await killed.run_once()
    await killed.close()
    with db.engine.begin() as connection:
        connection.execute(sa.delete(db.table).where(db.table.c.cd_id == "JC000002"))
    db.update("JC000003", cd_time=T0 + timedelta(minutes=10), cd_operation="U")
    restarted = make_bridge(load(front, hub), hub)
    report = await restarted.run_once()
    await restarted.close()
    results = db.results()
    assert [
        ("JC000001", "2026-11-27 09:00:01", "I", 0, False),
        ("JC000002", "2026-11-27 09:00:02", "I", 1, True),
        ("JC000003", "2026-11-27 09:00:03", "I", 2, True),
        ("JC000003", "2026-11-27 09:10:00", "U", 6, False),  # after the 3 duplicates
    ] == [
        (
            r["cd_id"],
            r["cd_time"],
            r["cd_operation"],
            r["log_index"],
            (r["messages_zh"] or "").startswith("源记录在回写前"),
        )
        for r in results
    ]
    state = BridgeState(front.state)
    pending, settled = state.unfinished("t_xzjc"), Counter(state.settled("t_xzjc").values())
    state.close()
    assert (1, 1, 4, 4) == tuple(report.total(k) for k in ("vanished", "superseded", "sent", "accepted"))
    assert "源记录已删除 / source row deleted 1, 源记录已更新 / source row updated 1" in report.describe()
    assert ([], {"vanished": 1, "superseded": 1}) == (pending, dict(settled))
    outcomes = Counter(outcome for _, outcome in await hub.leaves())
    assert {"OUTCOME_ACCEPTED": 4, "OUTCOME_DUPLICATE": 3} == dict(outcomes)


async def test_an_entry_left_pending_by_a_hub_that_went_away_is_finished_by_the_next_pass(
    front: Front, db: FrontDb, hub: RunningHub
) -> None:
    """A pass that journaled a batch and then lost the hub leaves it pending; when the row is deleted before
    the next pass, that pass still finishes it (the hub logs it then) and writes the verdict back."""
    db.insert([inspection(1, T0)])
    away = make_bridge(load(front, hub), hub, hub_client(hub, HubAway), retry=RetryPolicy(attempts=1))
    with pytest.raises(JgxError, match="UNAVAILABLE"):
        await away.run_once()
    await away.close()
    with db.engine.begin() as connection:
        connection.execute(sa.delete(db.table))
    back = make_bridge(load(front, hub), hub)
    report = await back.run_once()
    await back.close()
    assert [("JC000001", "accepted", 0)] == [(r["cd_id"], r["status"], r["log_index"]) for r in db.results()]
    assert (1, 1) == (report.total("vanished"), report.total("accepted"))


def test_a_state_file_from_before_gains_the_new_columns_and_keeps_its_entries(tmp_path: Path) -> None:
    """A journal written before entries kept their cd_id opens, gains the columns, and its pending entry is
    left to the pass that re-reads its row (it cannot be finished without one)."""
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE journal (message_id TEXT PRIMARY KEY, source TEXT NOT NULL, cd_time TEXT NOT NULL, "
        "envelope BLOB, state TEXT NOT NULL CHECK (state IN ('pending', 'done')));"
        "INSERT INTO journal VALUES ('m1', 't_xzjc', '2026-11-27T09:00:00', x'00', 'pending');"
    )
    old.commit()
    old.close()
    state = BridgeState(path)
    entries, unfinished = state.entries(["m1"]), state.unfinished("t_xzjc")
    state.close()
    assert (b"\x00", False, []) == (entries["m1"].envelope, entries["m1"].done, unfinished)
