"""The demo's national side: a real database holding the national front tables, and the province's bridge.

The national system runs no jgx. In the demo it is only a database: PostgreSQL when one answers at
``JGX_DEMO_POSTGRES`` (default the test server, ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
in a schema of its own dropped afterwards, and a SQLite file in the demo directory otherwise.
`NationalSide` is what the national system does there, as plain SQL: insert a superviseData task row,
read the up-tables, write acknowledgements per cd_batch.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from adapters.bridge.national import (
    BatchCheck,
    DownReport,
    NationalDesk,
    NationalDownward,
    NationalJournal,
    NationalLink,
    NationalTables,
    UpBatch,
    reconcile,
)
from adapters.bridge.national.downward import worklist_tracker
from adapters.bridge.national.layout import UP_TABLES
from adapters.bridge.state import BridgeState
from adapters.demo import samples
from adapters.sdk import HubClient
from adapters.sdk.worklist import Worklist
from gateway.keys import PrivateKey
from gateway.testing import NATIONAL_BRIDGE
from gateway.trust import TrustConfig

if TYPE_CHECKING:
    from adapters.demo.network import LoopbackNetwork

__all__ = [
    "DemoBridge", "NationalDatabase", "NationalSide", "national_database", "national_desk", "national_link",
]  # fmt: skip

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class NationalDatabase:
    """Where the demo's national front tables live."""

    kind: str  # "PostgreSQL" or "SQLite"
    url: str
    schema: str | None
    engine: sa.Engine

    def describe(self) -> str:
        """One line naming the database."""
        where = f"{self.url.rpartition('@')[2]} schema {self.schema}" if self.schema else self.url
        return f"{self.kind}: {where}"

    def drop(self) -> None:
        """Drop the demo's PostgreSQL schema (a SQLite file stays with the demo's files)."""
        if self.schema is not None:
            with self.engine.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        self.engine.dispose()


def national_database(directory: Path) -> NationalDatabase:
    """PostgreSQL in a fresh schema when reachable, else a SQLite file in ``directory``."""
    url = os.environ.get("JGX_DEMO_POSTGRES", DEFAULT_POSTGRES)
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 2}, pool_pre_ping=True)
        schema = f"jgx_demo_{secrets.token_hex(4)}"
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        return NationalDatabase("PostgreSQL", url, schema, engine)
    except (SQLAlchemyError, ImportError, TypeError):
        path = directory / "national-front.db"
        url = f"sqlite:///{path}"
        return NationalDatabase("SQLite", url, None, sa.create_engine(url))


def national_link(directory: Path, database: NationalDatabase) -> NationalLink:
    """The bridge's configuration for the demo: routes by the tasks' unionDeptNo."""
    return NationalLink(
        node=NATIONAL_BRIDGE,
        database_url=database.url,
        state=directory / NATIONAL_BRIDGE / "national-state.sqlite",
        db_schema=database.schema,
        routes={samples.AMR_DEPT: "sc.amr", samples.SJS_DEPT: "sc.sjs"},
        lookback_seconds=0.0,
    )


def national_desk(link: NationalLink, database: NationalDatabase, trust: TrustConfig) -> NationalDesk:
    """The bridge's department (its tables created, its journal opened)."""
    tables = NationalTables(database.engine, database.schema)
    tables.create()
    return NationalDesk(link, tables, NationalJournal(link.state), trust)


class NationalSide:
    """The national system's own reads and writes on its front tables (plain SQL, no jgx)."""

    def __init__(self, tables: NationalTables) -> None:
        self.tables = tables

    def publish_task(self, cd_id: str, content: bytes, at: datetime, batch: str) -> None:
        """下发: insert a superviseData document into the down-table."""
        row = {
            "cd_id": cd_id, "cd_time": at.replace(tzinfo=None), "cd_operation": "i", "cd_batch": batch,
            "cd_source": "100000", "content": content.decode("utf-8"),
        }  # fmt: skip
        with self.tables.engine.begin() as connection:
            connection.execute(sa.insert(self.tables.down).values(**row))

    def up_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of an up-table (its key without prefix), oldest first."""
        up = self.tables.up[table]
        with self.tables.engine.connect() as connection:
            return [dict(r) for r in connection.execute(sa.select(up).order_by(up.c.cd_time)).mappings()]

    def task_row(self, task_no: str, status: str) -> dict[str, Any] | None:
        """The task-feedback row of ``task_no`` in ``status`` (认领, 反馈, …), if there is one."""
        rows = self.up_rows(UP_TABLES["SC-14"])
        return next((r for r in rows if r["taskNo"] == task_no and r["status"] == status), None)

    def read_back(self) -> dict[str, dict[str, Any]]:
        """The bridge's read-back rows by cd_id."""
        table = self.tables.read_back
        with self.tables.engine.connect() as connection:
            return {r["cd_id"]: dict(r) for r in connection.execute(sa.select(table)).mappings()}

    def acknowledge(
        self, batch: str, received: int, refused: Sequence[tuple[str, str, str]], at: datetime
    ) -> None:
        """回执: acknowledge a cd_batch: ``received`` rows, of which ``refused`` (table, cd_id, reason)."""
        with self.tables.engine.begin() as connection:
            connection.execute(
                sa.insert(self.tables.ack_batch).values(
                    cd_batch=batch,
                    received=received,
                    accepted=received - len(refused),
                    ack_time=at.replace(tzinfo=None),
                )
            )
            for table, cd_id, reason in refused:
                connection.execute(
                    sa.insert(self.tables.ack_refused).values(
                        cd_batch=batch, table_name=table, cd_id=cd_id, reason=reason
                    )
                )


class DemoBridge:
    """The province's national bridge as the demo drives it: poll downward, flush upward, reconcile."""

    def __init__(
        self, desk: NationalDesk, *, hub: HubClient, key: PrivateKey, trust: TrustConfig,
        clock: Callable[[], datetime], worklist: Worklist,
    ) -> None:  # fmt: skip
        self.desk = desk
        self.side = NationalSide(desk.tables)
        self.clock = clock
        self.state = BridgeState(desk.link.state)
        self.hub = hub
        self.downward = NationalDownward(
            desk.link, tables=desk.tables, state=self.state, journal=desk.journal, hub=hub, key=key,
            trust=trust, clock=clock, track=worklist_tracker(worklist),
        )  # fmt: skip
        self.dispatched = 0

    @classmethod
    def of(cls, network: LoopbackNetwork, clock: Callable[[], datetime] | None = None) -> DemoBridge:
        """The bridge of ``network``'s national-bridge node (its desk, hub client, key and worklist), on
        ``clock`` or else the node's own."""
        node = network.departments[NATIONAL_BRIDGE]
        assert isinstance(node.department, NationalDesk)
        return cls(
            node.department, hub=network.client(NATIONAL_BRIDGE), key=network.key(NATIONAL_BRIDGE),
            trust=network.trust, clock=clock or node.servicer.clock, worklist=node.servicer.worklist,
        )  # fmt: skip

    async def poll(self) -> DownReport:
        """One pass over the national down-table."""
        report = await self.downward.poll()
        self.dispatched += len(report.sent)
        return report

    async def upward(self, message_ids: Sequence[str], *, timeout: float) -> list[UpBatch]:
        """Wait until the hub delivered ``message_ids`` to the bridge, then flush them as a cd_batch."""
        try:
            async with asyncio.timeout(timeout):
                while self.desk.journal.messages(message_ids) < len(message_ids):
                    await asyncio.sleep(0.05)
        except TimeoutError:
            return []
        return await asyncio.to_thread(self.desk.flush, self.clock())

    def acknowledge_all(self, refused: tuple[str, str, str], at: datetime) -> None:
        """The national side acknowledges every written batch, refusing ``refused`` in the newest one."""
        batches = self.desk.journal.written()
        for batch, rows in batches.items():
            self.side.acknowledge(batch, len(rows), [refused] if batch == max(batches) else [], at)

    def reconcile(self) -> list[BatchCheck]:
        """The written batches against the national acknowledgements."""
        return reconcile(self.desk.tables, self.desk.journal.written())

    async def close(self) -> None:
        """Close the hub client and the journal files."""
        await self.hub.close()
        self.state.close()
        self.desk.journal.close()
