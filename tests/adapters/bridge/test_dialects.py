"""What differs between the front databases and must not change what the bridge reads or writes.

Each test runs on SQLite, PostgreSQL and MariaDB; each names the dialect difference it guards against.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.bridge import FrontDatabase
from adapters.bridge.check import dry_run
from adapters.bridge.inbound import InboundTable
from adapters.bridge.tables import DatabaseUnavailable, Page
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from tests.adapters.bridge.conftest import MARIADB_SERVER
from tests.adapters.bridge.front import (
    Front,
    FrontDb,
    RunningHub,
    inspection,
    load,
    make_bridge,
    source_table,
)
from tests.adapters.bridge.mariadb import fresh_database

T0 = datetime(2026, 11, 27, 9, 0, 0)
RARE = "𠀾"  # a CJK Extension B character (four bytes in UTF-8), as found in personal and place names


def _message(message_id: str, payload: str = "{}") -> exchange_pb2.Message:
    return exchange_pb2.Message(
        message_id=message_id, business_key="LHJG-1", sender="cn.national", standard="SC-14",
        standard_version="1.0.0", payload=payload.encode("utf-8"), operation=exchange_pb2.OPERATION_INSERT,
    )  # fmt: skip


def test_inbound_rows_keep_their_arrival_time_to_the_microsecond(front: Front, db: FrontDb) -> None:
    """The department polls the inbound table by cd_time: two deliveries in the same second must keep
    distinct times in arrival order (MySQL's plain DATETIME drops the fraction, which ties them and lets
    a department that read the first miss the second)."""
    inbound = InboundTable(db.engine, "jgx_inbound", front.schema)
    first, second = T0.replace(microsecond=200_000), T0.replace(microsecond=700_000)
    inbound.write(_message("msg-b"), now=first.replace(tzinfo=UTC))
    inbound.write(_message("msg-a"), now=second.replace(tzinfo=UTC))
    assert [("msg-b", first), ("msg-a", second)] == [(r["message_id"], r["cd_time"]) for r in inbound.rows()]


def test_a_verdicts_decision_time_keeps_its_microseconds(front: Front, db: FrontDb) -> None:
    """decided_at is the receipt's time; the result table keeps it exactly (not cut to the second)."""
    database = FrontDatabase(load(front))
    decided = T0.replace(microsecond=123_456)
    database.write_results([{"cd_id": "JC1", "cd_time": "2026-11-27 09:00:00", "decided_at": decided,
                             "message_id": "m1", "status": "accepted"}])  # fmt: skip
    database.close()
    assert [decided] == [r["decided_at"] for r in db.results()]


def test_result_keys_differing_only_in_case_are_two_rows(front: Front, db: FrontDb) -> None:
    """cd_id is compared exactly: under MySQL's default case-insensitive collation "JC1a" and "JC1A" would
    be one key, and the second verdict would overwrite the first row's."""
    database = FrontDatabase(load(front))
    database.write_results([
        {"cd_id": cd_id, "cd_time": "2026-11-27 09:00:00", "message_id": f"m-{cd_id}", "status": status}
        for cd_id, status in (("JC1a", "accepted"), ("JC1A", "rejected"))
    ])  # fmt: skip
    database.close()
    assert [("JC1A", "rejected"), ("JC1a", "accepted")] == sorted(
        (r["cd_id"], r["status"]) for r in db.results()
    )


@pytest.fixture
def legacy_front(tmp_path: Path) -> Iterator[Front]:
    """A MariaDB database whose default character set is the legacy three-byte utf8 (utf8mb3), as many
    departments' older databases are; the department's own source table is utf8mb4."""
    with fresh_database(charset="utf8mb3") as name:
        yield Front(MARIADB_SERVER, name, tmp_path / "bridge-state.sqlite")


@pytest.mark.mariadb
async def test_the_bridges_own_tables_hold_four_byte_characters_in_a_utf8mb3_database(
    legacy_front: Front, hub: RunningHub
) -> None:
    """The result and inbound tables the bridge creates are utf8mb4 whatever the database's default: a
    refusal naming a four-byte character is written back, and a delivery carrying one lands intact."""
    db = legacy_front.db(charset="utf8mb4")
    db.insert([inspection(1, T0, jcxs=f"{RARE}检查")])
    bridge = make_bridge(load(legacy_front, hub), hub)
    await bridge.run_once()
    await bridge.close()
    (result,) = db.results()
    inbound = InboundTable(db.engine, "jgx_inbound", legacy_front.schema)
    inbound.write(_message("msg-1", f'{{"name": "{RARE}"}}'), now=datetime.now(UTC))
    (row,) = inbound.rows()
    db.close()
    assert ("refused_local", True, f'{{"name": "{RARE}"}}') == (
        result["status"],
        RARE in result["messages_zh"],
        row["payload"],
    )


def test_a_delivered_record_of_hundreds_of_kilobytes_lands_whole(front: Front, db: FrontDb) -> None:
    """An envelope may be up to 1 MiB: its payload fits the inbound table (MySQL's TEXT stops at 64 KiB)."""
    inbound = InboundTable(db.engine, "jgx_inbound", front.schema)
    payload = '{"note": "' + "检" * 200_000 + '"}'  # 600 kB of UTF-8
    inbound.write(_message("msg-big", payload), now=datetime.now(UTC))
    assert [payload] == [r["payload"] for r in inbound.rows()]


async def test_a_table_whose_names_differ_from_the_mapping_only_in_case_is_read(
    front: Front, hub: RunningHub
) -> None:
    """A table created by a system that writes upper-case names (T_XZJC, CD_ID …, as Oracle-bred ones do)
    is read by the guide's lower-case mapping: databases fold and compare names differently, and the
    mapping should not have to guess how."""
    metadata = sa.MetaData(schema=front.schema)
    upper = sa.Table(
        "T_XZJC", metadata, *(sa.Column(c.name.upper(), c.type) for c in source_table(sa.MetaData()).c)
    )
    engine = sa.create_engine(front.url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(upper), [
            {k.upper(): v for k, v in inspection(n, T0 + timedelta(seconds=n)).items()} for n in (1, 2, 3)
        ])  # fmt: skip
    engine.dispose()
    bridge = make_bridge(load(front, hub, batch_size=2), hub)
    report = await bridge.run_once()
    await bridge.close()
    db = FrontDb.__new__(FrontDb)
    db.engine, db.schema = sa.create_engine(front.url), front.schema
    results = db.results()
    db.close()
    assert (3, ["JC000001", "JC000002", "JC000003"]) == (
        report.total("accepted"),
        [r["cd_id"] for r in results],
    )


def test_check_warns_when_cd_time_keeps_whole_seconds_only(front: Front, db: FrontDb) -> None:
    """The guide's table declares cd_time as SQLAlchemy's DateTime: a timestamp to the microsecond on
    SQLite and PostgreSQL, but MySQL's plain DATETIME (whole seconds) on MariaDB, where two changes of one
    row within a second would share a message id. `jgx bridge check` says so there, and only there."""
    mapping = load(front)
    database = FrontDatabase(mapping)
    report = dry_run(mapping, database, on=date(2026, 11, 27), destination="internal", limit=10)
    database.close()
    whole = front.url.startswith("mysql")
    assert (whole, whole) == (
        report.to_json()["cdTimeWholeSeconds"],
        "DATETIME(6)" in "\n".join(report.lines()),
    )


def test_the_tables_the_bridge_creates_suit_oracle_and_dm_too(front: Front, db: FrontDb) -> None:
    """What Oracle and 达梦 (not run here) need of the tables the bridge creates, checked on the tables as
    each tested database reflects them: names of at most 30 characters, no boolean column, and every
    column outside the key may be NULL (Oracle stores an empty string as NULL)."""
    database = FrontDatabase(load(front))
    inbound = InboundTable(db.engine, "jgx_inbound", front.schema)
    tables = [database.result(), inbound.table]
    database.close()
    inspector = sa.inspect(db.engine)
    problems = []
    for table in tables:
        columns = inspector.get_columns(table.name, schema=front.schema)
        key = set(inspector.get_pk_constraint(table.name, schema=front.schema)["constrained_columns"])
        problems += [table.name] if len(table.name) > 30 else []
        problems += [c["name"] for c in columns if len(c["name"]) > 30 or isinstance(c["type"], sa.Boolean)]
        required = {
            "cd_id",
            "cd_operation",
            "cd_time",
            "cd_source",
            "standard",
            "standard_version",
            "payload",
        }
        problems += [
            c["name"]
            for c in columns
            if not c["nullable"]
            and c["name"] not in key
            and not (table is tables[1] and c["name"] in required)
        ]
    assert [] == problems


async def test_each_batch_reads_a_fresh_snapshot(front: Front, db: FrontDb, hub: RunningHub) -> None:
    """A row committed between two batches of one pass is read by the next batch of that pass: no read
    holds a transaction (InnoDB's REPEATABLE READ would keep showing the snapshot of its first read)."""
    db.insert([inspection(n, T0 + timedelta(seconds=n)) for n in (1, 2)])
    bridge = make_bridge(load(front, hub, batch_size=1), hub)
    read = bridge.database.read
    calls: list[int] = []

    def read_then_commit_another(**options: object) -> Page:
        page = read(**options)  # type: ignore[arg-type]
        calls.append(len(page.rows))
        if len(calls) == 1:
            db.insert([inspection(3, T0 + timedelta(seconds=3))])
        return page

    bridge.database.read = read_then_commit_another  # type: ignore[method-assign]
    report = await bridge.run_once()
    await bridge.close()
    assert (3, ["JC000001", "JC000002", "JC000003"]) == (
        report.total("accepted"),
        [r["cd_id"] for r in db.results()],
    )


def test_an_inbound_row_the_table_refuses_is_an_error_not_a_duplicate(front: Front, db: FrontDb) -> None:
    """The department's own inbound table has a column of its own that must be filled (NOT NULL, no
    default): the insert fails, and that is a database error the delivery reports (the hub redelivers),
    not a redelivery quietly taken as "already written" while nothing was written."""
    metadata = sa.MetaData(schema=front.schema)
    sa.Table(
        "jgx_inbound", metadata, sa.Column("message_id", sa.String(64), primary_key=True),
        *(sa.Column(c, sa.String(64)) for c in ("cd_id", "cd_operation", "cd_batch", "cd_source")),
        sa.Column("cd_time", sa.DateTime), sa.Column("standard", sa.String(16)),
        sa.Column("standard_version", sa.String(16)), sa.Column("correlation_id", sa.String(64)),
        sa.Column("action", sa.String(16)), sa.Column("in_reply_to", sa.String(64)),
        sa.Column("payload", sa.Text), sa.Column("clzt", sa.String(1), nullable=False),  # 处理状态
    )  # fmt: skip
    metadata.create_all(db.engine)
    inbound = InboundTable(db.engine, "jgx_inbound", front.schema)
    with pytest.raises(DatabaseUnavailable, match="前置库"):
        inbound.write(_message("msg-1"), now=datetime.now(UTC))
    assert [] == inbound.rows()
