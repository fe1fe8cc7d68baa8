"""``jgx console``: the operator console over a node's store; `start_console` is the hook of ``jgx serve``."""

from __future__ import annotations

import asyncio
import signal
import ssl
from datetime import UTC, datetime
from pathlib import Path

import click
import structlog
from aiohttp import web

from gateway.cli._common import in_languages, io_error, io_failure
from gateway.cli._node import load_node, node_store, node_trust
from gateway.console_settings import ConsoleSettings
from gateway.storage import StorageError, Store
from gateway.trust import TrustConfig

__all__ = ["console", "console_url", "start_console"]

_log = structlog.get_logger("jgx.console")


def console_tls(settings: ConsoleSettings) -> ssl.SSLContext | None:
    """The console's TLS server context from ``[console] tls_cert`` and ``tls_key`` (None: plain HTTP)."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context


async def start_console(
    store: Store,
    trust: TrustConfig,
    *,
    node_id: str,
    address: str,
    settings: ConsoleSettings | None = None,
    shutdown_timeout: float = 60.0,
) -> web.AppRunner | None:
    """Serve the console of ``node_id`` at ``host:port`` over the open ``store``; None when it cannot start.

    The console is a side door of the node: when its port is taken (or its TLS files cannot be read)
    the exchange keeps running and the failure is reported, rather than the node refusing to start.
    ``shutdown_timeout`` bounds how long `cleanup` waits for requests in progress.
    """
    from gateway.console import make_console_app
    from gateway.console.app import ConsoleRunner

    settings = settings or ConsoleSettings()
    host, _, port = address.rpartition(":")
    runner = ConsoleRunner(
        make_console_app(store, trust, node_id=node_id, settings=settings),
        access_log=None,
        shutdown_timeout=shutdown_timeout,
    )
    await runner.setup()
    try:
        context = console_tls(settings)
        await web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port), ssl_context=context).start()
    except (OSError, ValueError, ssl.SSLError) as exc:
        await runner.cleanup()
        _log.warning("console.unavailable", address=address, error=str(exc))
        zh, en = in_languages(exc)
        click.echo(
            f"jgx: 控制台无法启动 {address}: {zh}\njgx: console cannot start on {address}: {en}", err=True
        )
        return None
    click.echo(f"jgx: 控制台 / console on {console_url(runner)}", err=True)
    return runner


def console_url(runner: web.AppRunner) -> str:
    """The http:// or https:// address a started console listens on."""
    host, port = runner.addresses[0][:2]
    secure = any(site.name.startswith("https:") for site in runner.sites)
    scheme = "https" if secure else "http"
    return f"{scheme}://{host}:{port}/"


async def _run(
    store: Store, trust: TrustConfig, node_id: str, address: str, settings: ConsoleSettings
) -> None:
    try:
        await store.open()
    except StorageError as exc:
        io_failure("数据库不可用", "the database is not usable", exc)
    runner = await start_console(store, trust, node_id=node_id, address=address, settings=settings)
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
    asyncio.run(_run(node_store(config, must_exist=True), trust, config.node_id, address, config.console))
