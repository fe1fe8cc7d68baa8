"""``jgx serve``: run this node's Exchange service (gRPC) on the embedded SQLite store."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import ipaddress
import signal
from datetime import UTC, datetime
from pathlib import Path

import click
import structlog

from gateway.cli._common import io_error
from gateway.cli._node import CONFIG_NAME, NodeFiles, initialise
from gateway.errors import JgxError
from gateway.hub import Hub
from gateway.pipeline import Validate
from gateway.server import PeerNode, Server, insecure_peer
from gateway.storage.sqlite import SqliteStore

_log = structlog.get_logger("jgx.serve")


def _loopback(listen: str) -> bool:
    host = listen.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _validator() -> Validate | None:
    """Step 8 bound to the standards catalogue, when the installed standards package validates."""
    import standards

    if not hasattr(standards, "validate"):
        _log.warning("serve.no_validator", detail="standards.validate is not available; step 8 is skipped")
        return None
    from gateway.validation import standards_validator

    return standards_validator


def _transport(files: NodeFiles, insecure_dev: bool) -> tuple[object | None, PeerNode]:
    """Server credentials and the peer-identity reader: mTLS when [tls] is configured."""
    if (
        files.tls_cert is not None
        and files.tls_key is not None
        and files.tls_ca is not None
        and not insecure_dev
    ):
        tls = importlib.import_module("gateway.tls")  # mTLS credentials and the peer's node id
        credentials = tls.server_credentials(
            files.tls_cert.read_bytes(), files.tls_key.read_bytes(), files.tls_ca.read_bytes()
        )
        return credentials, tls.peer_node_id
    if not _loopback(files.listen):
        io_error(
            f"未配置 [tls] 时只能在本机回环地址上以明文提供服务，而不是 {files.listen}",
            f"without [tls] the node serves plaintext on loopback only, not {files.listen}",
        )
    return None, insecure_peer


async def _run(files: NodeFiles, insecure_dev: bool, grace: float) -> None:
    now = datetime.now(UTC)
    try:
        trust, key = files.trust_config(now), files.key()
    except JgxError as exc:
        io_error(f"信任配置或密钥不可用: {exc.diagnostics()}", f"trust configuration or key refused: {exc}")
    except OSError as exc:
        io_error(f"无法读取节点文件: {exc}", f"cannot read the node's files: {exc}")
    store = SqliteStore(files.database)
    await store.open()
    hub = Hub(
        node_id=files.node_id,
        key=key,
        trust=trust,
        store=store,
        validate=_validator(),
        checkpoint_every=files.checkpoint_every,
        checkpoint_interval=files.checkpoint_interval,
    )
    await hub.start()
    credentials, peer = _transport(files, insecure_dev)
    server = Server(hub, peer_node=peer, max_in_flight=files.max_in_flight)
    port = server.add_port(files.listen, credentials)  # type: ignore[arg-type]
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    host = files.listen.rsplit(":", 1)[0]
    click.echo(
        f"jgx: {files.node_id} 正在监听 / listening on {host}:{port} ({files.database.name})", err=True
    )
    await stop.wait()
    click.echo("jgx: 正在停止，处理中的报文将完成 / draining in-flight work and stopping", err=True)
    await server.stop(grace)
    await store.close()


@click.command()
@click.option(
    "--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
    help="The node directory holding jgx.toml.",
)  # fmt: skip
@click.option("--listen", default=None, help="Override [server] listen, e.g. 127.0.0.1:0 for any free port.")
@click.option(
    "--node-id", default="sc.hub", show_default=True, help="Node id when initialising an empty directory."
)
@click.option("--insecure-dev", is_flag=True, help="Plaintext gRPC for development; loopback addresses only.")
@click.option("--grace", default=10.0, show_default=True, help="Seconds in-flight calls get on shutdown.")
def serve(directory: Path, listen: str | None, node_id: str, insecure_dev: bool, grace: float) -> None:
    """Run the node's Exchange service (gRPC, health, reflection) on the SQLite log.

    \b
    Every envelope gets a log leaf and a signed receipt; SIGTERM or Ctrl-C drains in-flight
    work before exiting. In an empty directory the first run creates the node (keys, trust
    configuration, jgx.toml) and says what it created.

    \b
    Example:
      jgx serve --dir node/ --listen 127.0.0.1:7700
    """
    config = directory / CONFIG_NAME
    if not config.exists():
        created = initialise(directory, node_id, now=datetime.now(UTC))
        click.echo(f"jgx: 已初始化节点 {node_id} / initialised node {node_id}:", err=True)
        for path in created:
            click.echo(f"  {path}", err=True)
    try:
        files = NodeFiles.load(config)
    except (OSError, KeyError, ValueError) as exc:
        io_error(f"{config} 无法读取或不完整: {exc}", f"{config} is unreadable or incomplete: {exc}")
    if listen is not None:
        files = dataclasses.replace(files, listen=listen)
    asyncio.run(_run(files, insecure_dev, grace))
