"""Front databases (a SQLite file, a fresh PostgreSQL schema) and a real hub for the bridge tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.testing import Federation
from tests.adapters.bridge.front import Front, FrontDb, RunningHub, running_hub
from tests.adapters.bridge.mariadb import SERVER as MARIADB_SERVER
from tests.adapters.bridge.mariadb import fresh_database
from tests.gateway.storage.pgschema import fresh_schema

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def fed() -> Federation:
    return Federation.create(datetime.now(UTC))


#: The front databases every bridge database test runs on (all three on this machine and in CI).
DATABASES = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@pytest.fixture(params=DATABASES)
async def front(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Front]:
    """The department's front database: a SQLite file, a fresh schema on the real PostgreSQL, or a fresh
    database (MySQL's schema) on the real MariaDB."""
    if request.param == "sqlite":
        yield Front(f"sqlite:///{tmp_path / 'front.db'}", None, tmp_path / "bridge-state.sqlite")
        return
    if request.param == "mariadb":
        with fresh_database() as name:
            yield Front(MARIADB_SERVER, name, tmp_path / "bridge-state.sqlite")
        return
    async with fresh_schema("qzk") as url:
        yield Front(PG_SERVER, url.rpartition("schema=")[2], tmp_path / "bridge-state.sqlite")


@pytest.fixture
def db(front: Front) -> Iterator[FrontDb]:
    department = front.db()
    yield department
    department.close()


@pytest.fixture
async def hub(fed: Federation, tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with running_hub(fed, tmp_path / "hub.sqlite") as running:
        yield running
