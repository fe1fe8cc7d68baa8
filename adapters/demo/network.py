"""A whole federation on loopback, in one process: three gateways and the department adapters, over mTLS.

    LoopbackNetwork.create(directory, departments, now=…)
        ├─ a federation CA and one TLS certificate per node (`gateway.pki`)
        ├─ one signing key per node and ONE signed trust configuration, endpoints = the chosen ports
        ├─ gateways  sc.hub · cq.hub                 Hub + Exchange server + delivery worker, own SQLite file
        └─ adapters  sc.amr · sc.12315 · sc.sjs      AdapterServicer + outbox drain to sc.hub
                     sc.national-bridge              the province's national bridge (the national
                                                     system runs no jgx: it is a database there,
                                                     see adapters.demo.national)

Ports are ephemeral on 127.0.0.1. They are reserved before the trust configuration is signed (so the
signed endpoints are the real ones) and held while the network runs, so a gateway stopped for a
"peer down" drill comes back on the same address. Each gateway also gets a node directory laid out
as ``jgx init`` writes it (``jgx.toml``, ``keys/``, ``tls/``, ``trust.json``, ``jgx.db``), so the
ordinary CLI (``jgx log verify --dir …``) works on it.

Everything goes through the public APIs: `gateway.hub.Hub`, `gateway.server.Server`,
`gateway.delivery.start_delivery`, `adapters.sdk`.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Final, cast

import grpc
import structlog

from adapters.sdk import (
    AdapterIdentity,
    AdapterServicer,
    AdapterStore,
    Department,
    HubClient,
    RetryPolicy,
    serve_adapter,
)
from gateway._time import utc_now
from gateway.config import Listen, default_config, render_config
from gateway.delivery import DeliveryPolicy, DeliveryWorker, start_delivery
from gateway.hub import Hub
from gateway.keys import Algorithm, PrivateKey
from gateway.metrics import Metrics, MetricsEndpoint
from gateway.pipeline import Validate
from gateway.pki import create_ca, issue_node_certificate
from gateway.server import Server
from gateway.storage.sqlite import SqliteStore
from gateway.testing import BRIDGE_ACL, BRIDGE_NODES, DEFAULT_ACL, DEFAULT_NODES, Federation
from gateway.tls import channel_credentials, peer_node_id, server_credentials
from gateway.treehash import SHA256, TreeHash, default_profile
from gateway.trust import AclEntry, TrustConfig

__all__ = ["GATEWAYS", "DepartmentNode", "GatewayNode", "LoopbackNetwork", "NodeTLS", "default_validator"]

_log = structlog.get_logger("jgx.demo.network")
#: The gateways of the federation: the provincial hub and the Chongqing partner. The national system runs
#: no gateway: the province's national bridge (an adapter behind the hub) writes to its front database.
GATEWAYS: Final = ("sc.hub", "cq.hub")
#: Quick retries, so a peer that comes back is served within a second or two.
DEMO_DELIVERY: Final = DeliveryPolicy(backoff_base=0.1, backoff_cap=1.0, timeout=5.0, poll_interval=0.1)
DEMO_RETRY: Final = RetryPolicy(attempts=8, base=0.1, cap=1.0, timeout=5.0)
#: The agencies behind the nodes (统一社会信用代码; the national ``cd_source`` names the department by it).
DEMO_USCC: Final = {
    "sc.hub": "11510000MB1H7D3K4X",
    "cq.hub": "11500000MB1C9Q2R7M",
    "sc.amr": "11510000MB0A1B2C62",
    "sc.12315": "11510000MB0A1B2C62",
    "sc.sjs": "11510000MB0A1B2C62",
}


def _acl(nodes: Mapping[str, object]) -> list[AclEntry]:
    """The default ACL and the national bridge's, narrowed to the nodes of this network."""
    entries = []
    for entry in (*DEFAULT_ACL, *BRIDGE_ACL):
        recipients = tuple(r for r in entry.recipients if r == "*" or r in nodes)
        if entry.sender in nodes and recipients:
            entries.append(AclEntry(entry.sender, recipients, entry.standards))
    return entries


def default_validator() -> Validate:
    """Step 8 bound to the standards catalogue."""
    from gateway.validation import standards_validator

    return standards_validator


@dataclass(frozen=True, slots=True)
class NodeTLS:
    """One node's TLS certificate and key, and the federation CA that issued it (PEM)."""

    cert: bytes
    key: bytes
    ca: bytes

    def server(self) -> grpc.ServerCredentials:
        """gRPC server credentials demanding a CA-issued client certificate."""
        return server_credentials(self.cert, self.key, self.ca)

    def channel(self) -> grpc.ChannelCredentials:
        """gRPC channel credentials presenting this node's certificate."""
        return channel_credentials(self.cert, self.key, self.ca)


class _PortReservation:
    """A loopback port held (bound, not listening, SO_REUSEPORT) so gRPC can bind it and nobody else can."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]

    def release(self) -> None:
        self.socket.close()


@dataclass
class GatewayNode:
    """A jgx gateway of the federation: its files, and its hub, server and delivery worker while running."""

    node_id: str
    directory: Path
    key: PrivateKey
    trust: TrustConfig
    tls: NodeTLS
    port: int
    validate: Validate | None = None
    clock: Callable[[], datetime] = utc_now
    delivery_policy: DeliveryPolicy = DEMO_DELIVERY
    hasher: TreeHash = SHA256  # the log's hash profile: sm3 in a 国密 (SM2) federation
    store: SqliteStore | None = None
    hub: Hub | None = None
    server: Server | None = None
    delivery: DeliveryWorker | None = None
    metrics: Metrics | None = None
    metrics_endpoint: MetricsEndpoint | None = None

    @property
    def address(self) -> str:
        """``127.0.0.1:port`` of the Exchange service."""
        return f"127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        """The node's SQLite file."""
        return self.directory / "jgx.db"

    @property
    def running(self) -> bool:
        """True between `start` and `stop`."""
        return self.server is not None

    async def start(self) -> None:
        """Open the store, start the hub, serve Exchange over mTLS, start the delivery worker."""
        self.store = SqliteStore(self.database, hasher=self.hasher)
        await self.store.open()
        self.hub = Hub(
            node_id=self.node_id,
            key=self.key,
            trust=self.trust,
            store=self.store,
            validate=self.validate,
            clock=self.clock,
            checkpoint_interval=1.0,
        )
        await self.hub.start()
        self.server = Server(self.hub, peer_node=peer_node_id)
        self.server.add_port(self.address, self.tls.server())
        await self.server.start()
        self.delivery = start_delivery(
            self.hub,
            policy=self.delivery_policy,
            credentials=self.tls.channel(),
        )
        # One registry for the node's lifetime, so the counters survive a restart; served on a free port.
        self.metrics = self.metrics or Metrics(self.node_id)
        self.metrics.attach(self.hub, self.delivery)
        self.metrics_endpoint = await self.metrics.serve(host="127.0.0.1", port=0, store=self.store)
        _log.info("demo.gateway.started", node=self.node_id, address=self.address)

    async def stop(self, grace: float = 1.0) -> None:
        """Stop the delivery worker, drain and stop the server and hub, close the store."""
        if self.metrics_endpoint is not None:
            await self.metrics_endpoint.close()
            self.metrics_endpoint = None
        if self.delivery is not None:
            await self.delivery.close()
        if self.server is not None:
            await self.server.stop(grace)
        if self.store is not None:
            await self.store.close()
        self.delivery, self.server, self.hub, self.store = None, None, None, None
        _log.info("demo.gateway.stopped", node=self.node_id)

    def write_files(self, signed_trust: bytes) -> Path:
        """Lay the node out as ``jgx init`` does, so the CLI can read it; the path of ``jgx.toml``."""
        config = replace(
            default_config(self.directory, self.node_id),
            listen=Listen(host="127.0.0.1", grpc_port=self.port),
            log_hash=self.hasher,  # jgx log verify --dir reads the profile from here
        )
        paths = config.paths
        files = {
            paths.node_key: self.key.to_pem(),
            paths.tls_cert: self.tls.cert,
            paths.tls_key: self.tls.key,
            paths.tls_ca: self.tls.ca,
            paths.trust: signed_trust,
            config.directory / "jgx.toml": render_config(config).encode("utf-8"),
        }
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if path.suffix == ".key":
                path.chmod(0o600)
        return config.directory / "jgx.toml"


@dataclass
class DepartmentNode:
    """A department adapter: the SDK servicer around a department's mapping, and its client of the hub."""

    node_id: str
    directory: Path
    servicer: AdapterServicer
    tls: NodeTLS
    port: int
    hub_address: str
    client: HubClient | None = None
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @property
    def department(self) -> Department:
        """The department's mapping (a reference department in the demo)."""
        return self.servicer.department

    @property
    def store(self) -> AdapterStore:
        """The adapter's durable store (received envelopes, outbox, work items)."""
        return self.servicer.store

    async def start(self) -> None:
        """Serve the Adapter service over mTLS and drain the outbox to the hub."""
        self.client = HubClient(
            self.hub_address,
            trust=self.servicer.trust,
            credentials=self.tls.channel(),
            retry=DEMO_RETRY,
            clock=self.servicer.clock,
        )
        await self._stack.enter_async_context(
            serve_adapter(
                self.servicer,
                port=self.port,
                credentials=self.tls.server(),
                hub=self.client,
                drain_interval=0.1,
            )
        )
        _log.info("demo.adapter.started", node=self.node_id, port=self.port)

    async def stop(self) -> None:
        """Stop serving and close the client; the store stays readable until `close`."""
        await self._stack.aclose()
        if self.client is not None:
            await self.client.close()
            self.client = None

    def close(self) -> None:
        """Close the adapter's store."""
        self.servicer.store.close()


@dataclass
class LoopbackNetwork:
    """The federation's nodes on loopback, sharing one CA and one signed trust configuration."""

    directory: Path
    federation: Federation
    gateways: dict[str, GatewayNode]
    departments: dict[str, DepartmentNode]
    tls: dict[str, NodeTLS]
    ca_cert: bytes
    _ports: list[_PortReservation]

    @classmethod
    def create(
        cls,
        directory: Path,
        departments: Mapping[str, Department | Callable[[TrustConfig], Department]],
        *,
        now: datetime,
        clock: Callable[[], datetime] = utc_now,
        validate: Validate | None = None,
        delivery_policy: DeliveryPolicy = DEMO_DELIVERY,
        algorithm: Algorithm = Algorithm.ED25519,
    ) -> LoopbackNetwork:
        """Generate the CA, certificates, keys and the signed trust configuration; nothing runs yet."""
        ports = {node: _PortReservation() for node in (*GATEWAYS, *departments)}
        endpoints = {node: f"127.0.0.1:{reservation.port}" for node, reservation in ports.items()}
        known = {**DEFAULT_NODES, **BRIDGE_NODES}
        nodes = {node: known[node] for node in (*GATEWAYS, *departments)}
        federation = Federation.create(
            now, nodes=nodes, acl=_acl(nodes), endpoints=endpoints, algorithm=algorithm
        )
        trust = federation.trust
        for node_id, record in federation.trust.nodes.items():
            trust = trust.with_node(replace(record, uscc=DEMO_USCC.get(node_id, "")))
        federation.resign(trust)
        ca_cert, ca_key = create_ca("jgx 演示联邦 CA / demo federation CA", now)
        tls: dict[str, NodeTLS] = {}
        for node in nodes:
            cert, key = issue_node_certificate(ca_cert, ca_key, node, ("127.0.0.1", "localhost"), now=now)
            tls[node] = NodeTLS(cert, key, ca_cert)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "ca.crt").write_bytes(ca_cert)
        (directory / "trust.json").write_bytes(federation.signed_trust)
        gateways = {
            node: GatewayNode(
                node,
                directory / node,
                federation.keys[node],
                federation.trust,
                tls[node],
                ports[node].port,
                validate,
                clock,
                delivery_policy,
                default_profile(algorithm),
            )
            for node in GATEWAYS
        }
        for gateway in gateways.values():
            gateway.write_files(federation.signed_trust)
        hub = gateways["sc.hub"]
        adapters: dict[str, DepartmentNode] = {}
        for node, made in departments.items():
            if hasattr(made, "handle_delivered"):
                department = cast(Department, made)
            else:  # a factory: the department needs the federation's trust configuration
                department = made(federation.trust)
            folder = directory / node
            folder.mkdir(parents=True, exist_ok=True)
            servicer = AdapterServicer(
                identity=AdapterIdentity(node, federation.keys[node], software_name=f"jgx-{node}"),
                trust=federation.trust,
                department=department,
                store=AdapterStore(folder / "adapter.db"),
                validate=validate,
                clock=clock,
            )
            adapters[node] = DepartmentNode(node, folder, servicer, tls[node], ports[node].port, hub.address)
        return cls(directory, federation, gateways, adapters, tls, ca_cert, list(ports.values()))

    @property
    def trust(self) -> TrustConfig:
        """The federation's trust configuration."""
        return self.federation.trust

    def key(self, node: str) -> PrivateKey:
        """A node's signing key."""
        return self.federation.keys[node]

    def client(self, node: str, *, gateway: str = "sc.hub") -> HubClient:
        """A client of `gateway`'s Exchange service authenticated as `node` (close it when done)."""
        return HubClient(
            self.gateways[gateway].address,
            trust=self.trust,
            hub=gateway,
            credentials=self.tls[node].channel(),
            retry=DEMO_RETRY,
        )

    async def start(self) -> None:
        """Start every gateway, then every adapter."""
        for gateway in self.gateways.values():
            await gateway.start()
        for department in self.departments.values():
            await department.start()

    async def stop(self) -> None:
        """Stop the adapters, then the gateways (each drains), then close the adapter stores."""
        for department in self.departments.values():
            await department.stop()
        for gateway in self.gateways.values():
            if gateway.running:
                await gateway.stop()
        for department in self.departments.values():
            department.close()
        for reservation in self._ports:
            reservation.release()
        self._ports.clear()
