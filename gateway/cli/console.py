"""``jgx console``: the operator console over a node's store; `start_console` is the hook of ``jgx serve``."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

import click
import structlog
from aiohttp import web

from gateway.cli._common import io_error
from gateway.cli._node import load_node, node_store, node_trust
from gateway.storage import StorageError, Store
from gateway.trust import TrustConfig

__all__ = ["console", "console_url", "start_console"]

_log = structlog.get_logger("jgx.console")


async def start_console(
    store: Store, trust: TrustConfig, *, node_id: str, address: str, shutdown_timeout: float = 60.0
) -> web.AppRunner | None:
    """Serve the console of ``node_id`` at ``host:port`` over the open ``store``; None when it cannot bind.

    The console is a side door of the node: when its port is taken the exchange keeps running and
    the failure is reported, rather than the node refusing to start. ``shutdown_timeout`` bounds how
    long `cleanup` waits for requests in progress.
    """
    from gateway.console import make_console_app

    host, _, port = address.rpartition(":")
    runner = web.AppRunner(
        make_console_app(store, trust, node_id=node_id), access_log=None, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port)).start()
    except (OSError, ValueError) as exc:
        await runner.cleanup()
        _log.warning("console.unavailable", address=address, error=str(exc))
        click.echo(f"jgx: 控制台无法监听 / console cannot listen on {address}: {exc}", err=True)
        return None
    bound = runner.addresses[0][1] if runner.addresses else port
    click.echo(f"jgx: 控制台 / console on http://{host}:{bound}/", err=True)
    return runner


def console_url(runner: web.AppRunner) -> str:
    """The http:// address a started console listens on."""
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}/"


async def _run(store: Store, trust: TrustConfig, node_id: str, address: str) -> None:
    try:
        await store.open()
    except StorageError as exc:
        io_error(f"数据库不可用: {exc}", f"the database is not usable: {exc}")
    runner = await start_console(store, trust, node_id=node_id, address=address)
    if runner is None:
        await store.close()
        io_error(f"控制台无法监听 {address}", f"the console cannot listen on {address}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await store.close()


@click.command()
@click.option(
    "--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
    help="The node directory holding jgx.toml.",
)  # fmt: skip
@click.option(
    "--listen", default=None, help="host:port (port 0: any free port); default: jgx.toml's console port."
)
def console(directory: Path, listen: str | None) -> None:
    """Serve the operator console (运维控制台) alone, over the node's exchange log.

    \b
    `jgx serve` already serves it on the console port of jgx.toml; this runs it without the
    exchange (e.g. beside a replica). Create an account first with `jgx users add`.
    Labels are Chinese; ?lang=en switches to English.

    \b
    Example:
      jgx users add li.wei --role operator --dir nodes/hub
      jgx console --dir nodes/hub --listen 127.0.0.1:7080
    """
    config = load_node(directory)
    trust = node_trust(config, datetime.now(UTC))
    address = listen or f"{config.listen.host}:{config.listen.console_port}"
    asyncio.run(_run(node_store(config, must_exist=True), trust, config.node_id, address))
