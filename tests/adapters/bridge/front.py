"""A department's front database for bridge tests: an SC-05 source table (行政检查), a real hub over mTLS.

Every test runs the mapping printed in docs/integrator-guide.md §7, read from the guide itself, with the
database URL, schema, state file and hub address of the test put in.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import sqlalchemy as sa

from adapters.bridge import Bridge, BridgeMapping, BridgeState, FrontDatabase, parse_mapping
from adapters.sdk import HubClient, RetryPolicy
from gateway import tls
from gateway.config import Paths
from gateway.hub import Hub
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pipeline import Validate
from gateway.pki import create_ca, issue_node_certificate
from gateway.server import Server
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "integrator-guide.md"


def guide_mapping() -> str:
    """The mapping file printed in the integrator guide's front-database chapter."""
    blocks = re.findall(r"```toml\n(.*?)```", GUIDE.read_text("utf-8"), flags=re.DOTALL)
    return str(next(b for b in blocks if "[source]" in b))


def mapping_text(url: str, state: Path, hub: str = "127.0.0.1:0", schema: str | None = None) -> str:
    """The guide's mapping pointed at this test's database (and schema), state file and hub."""
    text = guide_mapping()
    if schema:
        text = re.sub(r'(?m)^# schema = ".*"', f'schema = "{schema}"', text)
    text = re.sub(r'(?m)^url = "[^"]*"', f'url = "{url}"', text)
    text = re.sub(r'(?m)^state = "[^"]*"', f'state = "{state}"', text)
    return re.sub(r'(?m)^hub = "[^"]*"', f'hub = "{hub}"', text)


def source_table(metadata: sa.MetaData, **options: Any) -> sa.Table:
    """The department's table t_xzjc (行政检查) with its own column names and the cd_* change columns."""
    return sa.Table(
        "t_xzjc", metadata,
        sa.Column("cd_id", sa.String(64), nullable=False),
        sa.Column("cd_operation", sa.String(1), nullable=False),
        sa.Column("cd_time", sa.DateTime, nullable=False),
        sa.Column("cd_batch", sa.String(13)),
        sa.Column("cd_source", sa.String(32)),
        sa.Column("jcbh", sa.String(64)), sa.Column("jcmc", sa.String(200)),
        sa.Column("sxbm", sa.String(14)), sa.Column("ssqdbm", sa.String(64)),
        sa.Column("dxmc", sa.String(200)), sa.Column("xdrxz", sa.String(20)),
        sa.Column("zjhm", sa.String(64)), sa.Column("qhdm", sa.String(6)),
        sa.Column("jcxs", sa.String(20)), sa.Column("jclb", sa.String(20)),
        sa.Column("jcjg", sa.String(40)), sa.Column("jcrq", sa.String(20)),
        sa.Column("jcry", sa.String(200)),
        sa.PrimaryKeyConstraint("cd_id", "cd_time"),
        sa.Index("ix_t_xzjc_change", "cd_time", "cd_id"),  # the bridge reads in (cd_time, cd_id) order
        **options,
    )  # fmt: skip


def inspection(n: int, cd_time: datetime, **overrides: Any) -> dict[str, Any]:
    """A good source row (it maps to a valid SC-05 record); ``overrides`` spoil or change it."""
    row: dict[str, Any] = {
        "cd_id": f"JC{n:06d}", "cd_operation": "I", "cd_time": cd_time, "cd_batch": "2026112700001",
        "cd_source": "sc.amr.qzk", "jcbh": f"JC-2026-{n:06d}", "jcmc": "食品经营者日常监督检查",
        "sxbm": "51010020240001", "ssqdbm": "11510100MB1F2E3X4Q351010020240001001",
        "dxmc": "成都某某食品有限公司", "xdrxz": "法人", "zjhm": "91510107MA6CX0T113", "qhdm": "510107",
        "jcxs": "现场检查", "jclb": "日常检查", "jcjg": "未发现问题", "jcrq": "20261120", "jcry": "张三,李四",
    }  # fmt: skip
    row.update(overrides)
    return row


class FrontDb:
    """The department's side: its source table and the result table the bridge writes back."""

    def __init__(self, url: str, schema: str | None = None, charset: str | None = None) -> None:
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        self.metadata = sa.MetaData(schema=schema)
        self.table = source_table(self.metadata, **({"mysql_charset": charset} if charset else {}))
        self.metadata.create_all(self.engine)
        self.schema = schema

    def insert(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert source rows (the department's system writing its changes)."""
        with self.engine.begin() as connection:
            connection.execute(sa.insert(self.table), list(rows))

    def update(self, cd_id: str, **values: Any) -> None:
        """Change a source row in place (a new cd_time, cd_operation U)."""
        with self.engine.begin() as connection:
            connection.execute(sa.update(self.table).where(self.table.c.cd_id == cd_id).values(**values))

    def results(self) -> list[dict[str, Any]]:
        """The result table as the department reads it, in (cd_id, cd_time) order."""
        result = sa.Table("jgx_result", sa.MetaData(schema=self.schema), autoload_with=self.engine)
        with self.engine.connect() as connection:
            query = sa.select(result).order_by(result.c.cd_id, result.c.cd_time)
            return [dict(r) for r in connection.execute(query).mappings()]

    def close(self) -> None:
        """Release the pool."""
        self.engine.dispose()


@dataclass
class RunningHub:
    """The provincial hub on a real socket with mTLS, its exchange log on a SQLite file."""

    fed: Federation
    hub: Hub
    port: int
    client_credentials: grpc.ChannelCredentials
    ca: tuple[bytes, bytes]  # the federation CA's certificate and key

    def node_dir(self, directory: Path, node_id: str = "sc.amr") -> Path:
        """Write ``node_id``'s node directory as `jgx init` lays it out (trust, key, mTLS certificate)."""
        cert, key = issue_node_certificate(*self.ca, node_id, now=datetime.now(UTC))
        paths = Paths.under(directory)
        for path, data in (
            (paths.trust, self.fed.signed_trust), (paths.node_key, self.fed.keys[node_id].to_pem()),
            (paths.tls_cert, cert), (paths.tls_key, key), (paths.tls_ca, self.ca[0]),
        ):  # fmt: skip
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return directory

    async def leaves(self) -> list[tuple[str, str]]:
        """(message id, outcome) of every leaf in the hub's log."""
        rows = await self.hub.store.leaves(0, await self.hub.store.size())
        leaves = [exchange_pb2.LogLeaf.FromString(r.leaf) for r in rows]
        return [(leaf.message_id, exchange_pb2.Outcome.Name(leaf.outcome)) for leaf in leaves]

    async def message(self, log_index: int) -> exchange_pb2.Message:
        """The message the hub logged at ``log_index``, parsed from the envelope it kept."""
        stored = await self.hub.store.message(log_index)
        assert stored is not None
        assert stored.envelope is not None
        return exchange_pb2.Message.FromString(exchange_pb2.Envelope.FromString(stored.envelope).body)


@asynccontextmanager
async def running_hub(
    fed: Federation, path: Path, validate: Validate | None = None
) -> AsyncIterator[RunningHub]:
    """Serve the hub over mutual TLS on an ephemeral loopback port (step 8 with `validate`, when given)."""
    now = datetime.now(UTC)
    ca_cert, ca_key = create_ca("jgx test CA", now)
    hub_cert, hub_key = issue_node_certificate(ca_cert, ca_key, "sc.hub", now=now)
    amr_cert, amr_key = issue_node_certificate(ca_cert, ca_key, "sc.amr", now=now)
    store = SqliteStore(path)
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, validate=validate)
    await hub.start()
    server = Server(hub, peer_node=tls.peer_node_id)
    port = server.add_port("127.0.0.1:0", tls.server_credentials(hub_cert, hub_key, ca_cert))
    await server.start()
    try:
        yield RunningHub(
            fed, hub, port, tls.channel_credentials(amr_cert, amr_key, ca_cert), (ca_cert, ca_key)
        )
    finally:
        await server.stop(grace=1.0)


async def no_sleep(seconds: float) -> None:
    return None


def make_bridge(
    mapping: BridgeMapping,
    hub: RunningHub,
    client: HubClient | None = None,
    database: FrontDatabase | None = None,
    **options: Any,
) -> Bridge:
    """A bridge of ``mapping`` signing as sc.amr, submitting to ``hub`` over mTLS (``database``: the
    mapping's front database unless given)."""
    return Bridge(
        mapping,
        database=database or FrontDatabase(mapping),
        state=BridgeState(mapping.state),
        hub=client or hub_client(hub),
        key=hub.fed.keys["sc.amr"],
        trust=hub.fed.trust,
        sleep=options.pop("sleep", no_sleep),
        retry=options.pop("retry", RetryPolicy(attempts=3, timeout=5.0)),
        **options,
    )


def hub_client(hub: RunningHub, cls: type[HubClient] = HubClient) -> HubClient:
    """A HubClient of sc.amr to ``hub`` over mTLS."""
    return cls(
        f"localhost:{hub.port}", trust=hub.fed.trust, credentials=hub.client_credentials,
        retry=RetryPolicy(attempts=2, timeout=5.0), sleep=no_sleep,
    )  # fmt: skip


def load(front: Front, hub: RunningHub | None = None, **changes: Any) -> BridgeMapping:
    """The guide's mapping for this test's front database; ``changes`` replace mapping attributes."""
    text = mapping_text(
        front.url, front.state, f"localhost:{hub.port}" if hub else "127.0.0.1:0", front.schema
    )
    return dataclasses.replace(parse_mapping(text), **changes)


@dataclass
class Front:
    """Where a test's front database lives: SQLAlchemy URL, schema, and the bridge's state file."""

    url: str
    schema: str | None
    state: Path

    def db(self, charset: str | None = None) -> FrontDb:
        """The department's side of it (creates the source table, in ``charset`` on MySQL/MariaDB)."""
        return FrontDb(self.url, self.schema, charset)
