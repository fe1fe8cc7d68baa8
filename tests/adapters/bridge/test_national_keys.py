"""National down-table rows without a usable business key (cd_id empty or blank), on SQLite, PostgreSQL
and MariaDB: each is refused MALFORMED with its reason in the read-back table, never dispatched, and the
row after it is read and dispatched as usual; a second poll reads none of them again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.demo import samples
from adapters.demo.national import DemoBridge, NationalDatabase
from adapters.demo.network import LoopbackNetwork
from tests.adapters.bridge.conftest import PG_SERVER
from tests.adapters.bridge.mariadb import SERVER as MARIADB_SERVER
from tests.adapters.bridge.mariadb import fresh_database
from tests.adapters.bridge.test_national import TASK, net, publish
from tests.gateway.storage.pgschema import fresh_schema

__all__ = ["net"]  # the national network fixture, on this module's three databases


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
async def national_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NationalDatabase]:
    """The national front database: a SQLite file, a fresh PostgreSQL schema, or a fresh MariaDB database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'national.db'}"
        database = NationalDatabase("SQLite", url, None, sa.create_engine(url))
    elif request.param == "mariadb":
        with fresh_database("gj") as name:
            database = NationalDatabase("MariaDB", MARIADB_SERVER, name, sa.create_engine(MARIADB_SERVER))
            yield database
            database.engine.dispose()
        return
    else:
        async with fresh_schema("gj") as url:
            schema = url.rpartition("schema=")[2]
            database = NationalDatabase("PostgreSQL", PG_SERVER, schema, sa.create_engine(PG_SERVER))
            yield database
            database.engine.dispose()
        return
    yield database
    database.engine.dispose()


async def test_down_rows_without_a_business_key_are_refused_and_the_next_is_dispatched(
    net: tuple[LoopbackNetwork, DemoBridge],
) -> None:
    _, bridge = net
    publish(bridge, "", samples.national_task(bridge.clock(), "LHJG-BLANK-1"), 0)
    publish(bridge, "   ", samples.national_task(bridge.clock(), "LHJG-BLANK-2"), 1)
    publish(bridge, TASK, samples.national_task(bridge.clock(), TASK), 2)
    report = await bridge.poll()
    read = bridge.side.read_back()
    assert {"": ("refused", "MALFORMED"), "   ": ("refused", "MALFORMED"), TASK: ("read", "")} == {
        cd_id: (r["status"], r["reason_codes"]) for cd_id, r in read.items()
    }
    assert "not a usable business key" in read[""]["message"]
    assert (1, ["", "   "]) == (report.accepted, sorted(cd_id for cd_id, _ in report.refused))
    again = await bridge.poll()
    assert (again.read, 0, []) == (again.already, again.accepted, again.refused)
