"""Business keys the database bends: empty or NULL cd_id / cd_time, and cd_ids a collation makes equal.

On every front database (SQLite, PostgreSQL, MariaDB) a row whose cd_id is empty, blank or NULL, or whose
cd_time is NULL, is refused locally with its rule (BRIDGE.M007 / BRIDGE.M004), written back where a
result row can name it, counted in the batch's account, and neither crashes the pass nor holds the
watermark; `jgx bridge check` reports it. A source table in MySQL's default case- and pad-insensitive
collation holding "JC1a"/"JC1A" and "JC2"/"JC2 " at one cd_time loses none of them at a batch boundary.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.bridge.check import dry_run
from adapters.bridge.tables import FrontDatabase
from tests.adapters.bridge.front import (
    Front,
    FrontDb,
    RunningHub,
    inspection,
    load,
    make_bridge,
    source_table,
)

T0 = datetime(2026, 11, 27, 9, 0, 0)


class LooseDb(FrontDb):
    """The department's t_xzjc without the (cd_id, cd_time) key: a surrogate row number is its key, cd_id
    and cd_time may be NULL, and on MySQL/MariaDB it keeps the server's default case-insensitive,
    pad-space collation (``utf8mb4_general_ci``)."""

    def __init__(self, front: Front) -> None:
        self.engine = sa.create_engine(front.url, pool_pre_ping=True)
        self.schema = front.schema
        self.metadata = sa.MetaData(schema=front.schema)
        model = source_table(sa.MetaData())
        columns = [sa.Column(c.name, c.type, nullable=True) for c in model.c]
        options = {f"{d}_{k}": v for d in ("mysql", "mariadb")
                   for k, v in (("charset", "utf8mb4"), ("collate", "utf8mb4_general_ci"))}  # fmt: skip
        self.table = sa.Table(
            "t_xzjc", self.metadata, sa.Column("row_no", sa.Integer, primary_key=True, autoincrement=True),
            *columns, **options,
        )  # fmt: skip
        self.metadata.create_all(self.engine)


@pytest.fixture
def loose(front: Front) -> Iterator[LooseDb]:
    department = LooseDb(front)
    yield department
    department.close()


def _row(n: int, cd_id: Any, cd_time: Any) -> dict[str, Any]:
    return {**inspection(n, T0), "cd_id": cd_id, "cd_time": cd_time}


async def test_rows_without_a_usable_key_are_refused_counted_and_do_not_hold_the_watermark(
    front: Front, loose: LooseDb, hub: RunningHub
) -> None:
    loose.insert([
        _row(1, "JC000001", T0), _row(2, "", T0 + timedelta(seconds=1)),
        _row(3, "   ", T0 + timedelta(seconds=2)), _row(4, None, T0 + timedelta(seconds=3)),
        _row(5, "JC000005", None), _row(6, "JC000006", T0 + timedelta(seconds=4)),
    ])  # fmt: skip
    mapping = load(front, hub, batch_size=2)
    bridge = make_bridge(mapping, hub)
    report = await bridge.run_once()
    results = {r["cd_id"]: (r["status"], r["reason_codes"]) for r in loose.results()}
    again = await bridge.run_once()  # from the watermark's look-back window: nothing new, nothing stuck
    watermark = bridge.state.watermark(mapping.table)
    await bridge.close()
    assert (6, 2, 4, 2) == tuple(report.total(n) for n in ("read", "accepted", "refused_local", "unkeyed"))
    assert {
        "JC000001": ("accepted", ""),
        "JC000006": ("accepted", ""),
        "": ("refused_local", "BRIDGE.M007"),
        "   ": ("refused_local", "BRIDGE.M007"),
    } == results  # fmt: skip  (the NULL cd_id and the NULL cd_time have no result row to name them)
    assert (0, 0) == (again.total("accepted"), again.total("refused_local"))
    assert T0 + timedelta(seconds=4) == watermark
    assert "无业务主键、未回写 / of which no business key, not written back 2" in report.describe()

    checked = dry_run(mapping, FrontDatabase(mapping), on=datetime.now(UTC).date(), destination="internal",
                      limit=100)  # fmt: skip
    assert (6, 4, {"BRIDGE.M007": 3, "BRIDGE.M004": 1}) == (
        checked.rows,
        checked.would_refuse,
        dict(checked.by_rule),
    )
    assert "cd_id 为空，不能作为业务主键" in "\n".join(checked.lines())


async def test_cd_ids_a_collation_makes_equal_are_all_read_across_batch_boundaries(
    front: Front, loose: LooseDb, hub: RunningHub
) -> None:
    ids = ["JC1a", "JC1A", "JC2", "JC2 ", "JC3b", "JC3B"]
    loose.insert([_row(n, cd_id, T0) for n, cd_id in enumerate(ids)] + [_row(9, "JC9", T0 + timedelta(1))])
    mapping = load(front, hub, batch_size=1)
    bridge = make_bridge(mapping, hub)
    report = await bridge.run_once()
    await bridge.close()
    assert (7, 7) == (report.total("read"), report.total("accepted") + report.total("refused_local"))
    assert sorted([*ids, "JC9"]) == sorted(r["cd_id"] for r in loose.results())
    checked = dry_run(mapping, FrontDatabase(mapping), on=datetime.now(UTC).date(), destination="internal",
                      limit=100)  # fmt: skip
    assert 7 == checked.rows
