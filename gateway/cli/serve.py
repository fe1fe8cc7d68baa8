"""``jgx serve``: run this node's Exchange service (gRPC) on its store: SQLite, or PostgreSQL for replicas."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
import grpc
import structlog
from aiohttp import web

from gateway.cli._common import io_error, io_failure
from gateway.cli._logging import configure_logging
from gateway.cli._node import load_node, node_signing_key, node_store, remember_trust, serving_trust
from gateway.cli._shutdown import Step, exit_at_deadline, shut_down
from gateway.cli._startup import open_checked
from gateway.cli.console import start_console
from gateway.cli.init import NodeFiles, initialise
from gateway.config import CONFIG_FILE, Config
from gateway.delivery import DeliveryPolicy, DeliveryWorker, start_delivery
from gateway.errors import JgxError
from gateway.health import HealthWatch
from gateway.hub import Hub
from gateway.loghead import LogHead
from gateway.metrics import Metrics, MetricsEndpoint
from gateway.node_tls import NodeTls
from gateway.pipeline import Validate
from gateway.policy import loosening
from gateway.ratelimit import RateLimiter
from gateway.server import PeerNode, Server, insecure_peer
from gateway.storage import Store

_log = structlog.get_logger("jgx.serve")
_RESERVE = 2.0  # seconds of the grace period kept for stopping workers, the final checkpoint and the store


def _loopback(listen: str) -> bool:
    host = listen.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _validator() -> Validate:
    """Step 8 bound to the standards catalogue."""
    from gateway.validation import standards_validator

    return standards_validator


def _transport(
    config: Config, listen: str, insecure_dev: bool
) -> tuple[NodeTls | None, grpc.ServerCredentials | None, PeerNode]:
    """(1) mTLS credentials and the peer's node id from the certificate; plaintext only on loopback.

    The certificate, key, CA and CRL are re-read while serving (`gateway.node_tls`): a rotated
    certificate is served to new connections and a revocation takes effect without a restart.
    """
    if insecure_dev:
        if not _loopback(listen):
            io_error(
                f"--insecure-dev 只能用于本机回环地址，而不是 {listen}",
                f"--insecure-dev serves plaintext on loopback addresses only, not {listen}",
            )
        return None, None, insecure_peer
    paths = config.paths
    try:
        files = NodeTls(
            config.node_id, paths.tls_cert, paths.tls_key, paths.tls_ca, config.crl,
            crl_stale=config.crl_stale, reload_seconds=config.tls_reload_seconds,
            require_tls13=config.require_tls13,
        )  # fmt: skip
    except JgxError as exc:
        io_failure("TLS 文件不可用", "the TLS files are not usable", exc)
    return files, files.server_credentials(), files.peer_node


async def _run(config: Config, options: _Options) -> None:
    now = datetime.now(UTC)
    trust, signed_trust = serving_trust(config, now)
    key = node_signing_key(config, trust)
    store = node_store(config)
    files, credentials, peer = _transport(config, options.listen, options.insecure_dev)
    head = await open_checked(config, store, full_audit=options.audit_on_start)  # exit 2 on a damaged log
    remember_trust(config, signed_trust)  # from now on, an older trust file is a rollback
    try:
        hub = Hub(
            node_id=config.node_id,
            key=key,
            trust=trust,
            store=store,
            validate=_validator(),
            limits=config.local_limits,
            checkpoint_every=options.checkpoint_every,
            checkpoint_interval=options.checkpoint_interval,
            head=head,
        )
    except JgxError as exc:  # a node key or stored log the hub cannot work with
        await store.close()
        head.close()
        io_failure("枢纽无法启动", "the hub cannot start", exc)
    for name, (local, federation) in loosening(trust, config.local_limits).items():
        mine, theirs = f"{local:.0f}", f"{federation:.0f}"
        click.echo(
            f"jgx: jgx.toml 的 {name}={mine} 宽于信任配置的 {theirs}，按信任配置执行 / "
            f"{name}={mine} in jgx.toml is looser than the trust policy's {theirs}: the policy applies",
            err=True,
        )
    await hub.start()
    # (12) the delivery worker drains the outbox; metrics follow the hub and the worker.
    worker = start_delivery(
        hub,
        policy=DeliveryPolicy.from_config(config.delivery),
        peers=config.peers,
        credentials=None if files is None else files.channel_credentials,
    )
    metrics = Metrics(config.node_id)
    metrics.attach(hub, worker)
    endpoint = await _serve_metrics(metrics, config, store)
    limiter = RateLimiter(config.limits.rate_limit_per_sender, config.limits.rate_burst)
    server = Server(
        hub, peer_node=peer, max_in_flight=options.max_in_flight, rate_limit=limiter,
        connections=config.connections,
    )  # fmt: skip
    port = server.add_port(options.listen, credentials)
    await server.start()
    watch = HealthWatch(store, trust, server.set_serving, clock=hub.clock)
    hub.observers.append(watch.observe)
    watch.start()
    console_address = options.console or f"{config.listen.host}:{config.listen.console_port}"
    console = None
    if console_address != "off":
        console = await start_console(
            store,
            trust,
            node_id=config.node_id,
            address=console_address,
            settings=config.console,
            shutdown_timeout=1.0,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    host = options.listen.rsplit(":", 1)[0]
    mode = "plaintext, development" if credentials is None else "mTLS"
    click.echo(f"jgx: {config.node_id} 正在监听 / listening on {host}:{port} ({mode})", err=True)
    await stop.wait()
    click.echo("jgx: 正在停止，处理中的报文将完成 / draining in-flight work and stopping", err=True)
    running = _Running(server, worker, watch, hub, store, head, console, endpoint)
    if not await shut_down(running.steps(options.grace), grace=options.grace):
        exit_at_deadline(f"停止超时，强制退出 / shutdown exceeded {options.grace} s; exiting now")
    click.echo("jgx: 已停止 / stopped", err=True)


@dataclass(frozen=True)
class _Running:
    """The parts of a serving node, stopped in the order of `gateway.cli._shutdown`."""

    server: Server
    worker: DeliveryWorker
    watch: HealthWatch
    hub: Hub
    store: Store
    head: LogHead
    console: web.AppRunner | None
    endpoint: MetricsEndpoint | None

    def steps(self, grace: float) -> tuple[Step, ...]:
        """Stop accepting → drain calls → stop workers → final checkpoint → close the store."""
        reserve = min(_RESERVE, grace / 2)  # for the steps after the calls' drain
        return (
            Step("stop accepting", self._stop_accepting),
            Step("drain calls", lambda left: self.server.drain(max(left - reserve, 0.0))),
            Step("stop workers", self._stop_workers),
            Step("final checkpoint", lambda _left: self.hub.close()),
            Step("close store", self._close_store),
        )

    async def _stop_accepting(self, _left: float) -> None:
        await self.server.health.enter_graceful_shutdown()
        if self.console is not None:
            await self.console.cleanup()

    async def _stop_workers(self, _left: float) -> None:
        await self.worker.close()
        await self.watch.close()

    async def _close_store(self, _left: float) -> None:
        if self.endpoint is not None:
            await self.endpoint.close()
        await self.store.close()
        self.head.close()


async def _serve_metrics(metrics: Metrics, config: Config, store: Store) -> MetricsEndpoint | None:
    """The Prometheus endpoint on [listen] metrics_port; a busy port is logged, not fatal."""
    try:
        return await metrics.serve(host=config.listen.host, port=config.listen.metrics_port, store=store)
    except OSError as exc:
        _log.warning("metrics.unavailable", port=config.listen.metrics_port, error=str(exc))
        return None


@dataclass(frozen=True)
class _Options:
    listen: str
    insecure_dev: bool
    grace: float
    max_in_flight: int
    checkpoint_every: int
    checkpoint_interval: float
    console: str | None = None
    audit_on_start: bool = False


@click.command()
@click.option(
    "--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
    help="The node directory holding jgx.toml.",
)  # fmt: skip
@click.option(
    "--listen", default=None, help="host:port to listen on instead of jgx.toml's (port 0: any free port)."
)
@click.option(
    "--node-id", default="sc.hub", show_default=True, help="Node id when initialising an empty directory."
)
@click.option("--insecure-dev", is_flag=True, help="Plaintext gRPC for development; loopback addresses only.")
@click.option(
    "--grace", default=10.0, show_default=True,
    help="Hard deadline of the shutdown, in seconds; in-flight calls get it less up to 2 s.",
)  # fmt: skip
@click.option(
    "--max-in-flight", default=64, show_default=True, help="SubmitStream envelopes read but not answered."
)
@click.option("--checkpoint-every", default=1000, show_default=True, help="Sign a checkpoint every N leaves…")
@click.option("--checkpoint-interval", default=5.0, show_default=True, help="…or every T seconds.")
@click.option(
    "--console", default=None, help="host:port of the operator console (default: jgx.toml's; 'off': none)."
)
@click.option(
    "--audit-on-start", is_flag=True,
    help="Run the full audit of jgx log verify before serving (O(n); a quick check always runs).",
)  # fmt: skip
@click.option(
    "--log-format", type=click.Choice(["json", "console"]), default=None,
    help="Per-envelope events on stdout: json (default when not a terminal) or console.",
)  # fmt: skip
def serve(
    *,
    log_format: str | None,
    directory: Path,
    listen: str | None,
    node_id: str,
    insecure_dev: bool,
    grace: float,
    max_in_flight: int,
    checkpoint_every: int,
    checkpoint_interval: float,
    console: str | None,
    audit_on_start: bool,
) -> None:
    """Run the node's Exchange service (gRPC with mTLS, health, reflection) on the node's log store.

    \b
    Every envelope gets a log leaf and a signed receipt; SIGTERM or Ctrl-C stops accepting,
    drains in-flight calls, stops the delivery worker, signs a last checkpoint and closes the
    store, all within --grace seconds (past it the process exits 1 at once). In an empty
    directory the first run creates the node (as jgx init: keys, CA and TLS certificate, trust
    configuration, jgx.toml) and says what it created.

    \b
    Example:
      jgx serve --dir nodes/hub
      jgx serve --dir nodes/hub --listen 127.0.0.1:0 --insecure-dev
    """
    configure_logging(log_format or ("console" if sys.stdout.isatty() else "json"))
    if not (directory / CONFIG_FILE).exists():
        try:
            initialise(directory, node_id, now=datetime.now(UTC))
        except JgxError as exc:
            io_failure("无法初始化节点", "cannot initialise the node", exc)
        click.echo(f"jgx: 已初始化节点 {node_id} / initialised node {node_id} in {directory}:", err=True)
        for path in NodeFiles.of(load_node(directory)).all():
            click.echo(f"  {path}", err=True)
    config = load_node(directory)
    options = _Options(
        listen=listen or config.grpc_address,
        insecure_dev=insecure_dev,
        grace=grace,
        max_in_flight=max_in_flight,
        checkpoint_every=checkpoint_every,
        checkpoint_interval=checkpoint_interval,
        console=console,
        audit_on_start=audit_on_start,
    )
    asyncio.run(_run(config, options))
