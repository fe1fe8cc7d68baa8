"""``jgx console``: serve the operator console over a node's database (alone, beside ``jgx serve``)."""

from __future__ import annotations

import asyncio
import signal
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import click
from aiohttp import web

from gateway.cli._common import io_error, read_bytes
from gateway.cli._store import database, db_options
from gateway.errors import JgxError
from gateway.storage.sqlite import SqliteStore
from gateway.trust import TrustConfig
from gateway.trust_update import load_trust


def _node(directory: Path, trust: Path | None, node_id: str | None) -> tuple[str, TrustConfig]:
    """The node id and verified trust configuration, from the options or DIR/jgx.toml."""
    config = directory / "jgx.toml"
    doc = {}
    if config.exists():
        try:
            doc = tomllib.loads(config.read_text(encoding="utf-8")).get("node", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            io_error(f"无法读取 {config}: {exc}", f"cannot read {config}: {exc}")
    node_id = node_id or doc.get("id")
    trust_path = trust or (directory / str(doc["trust"]) if "trust" in doc else None)
    if not node_id or trust_path is None:
        io_error("需要 --node-id 和 --trust（或含 [node] 的 jgx.toml）",
                 "give --node-id and --trust (or a jgx.toml with [node])")  # fmt: skip
    try:
        return str(node_id), load_trust(read_bytes(trust_path), now=datetime.now(UTC))
    except JgxError as exc:
        io_error(f"信任配置被拒绝: {exc}", f"trust configuration refused: {exc}")


async def run_console(path: Path, node_id: str, trust: TrustConfig, host: str, port: int) -> None:
    """Serve the console until SIGTERM or SIGINT."""
    from gateway.console import make_console_app

    store = SqliteStore(path)
    await store.open()
    runner = web.AppRunner(make_console_app(store, trust, node_id=node_id), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    click.echo(f"jgx: 控制台 / console on http://{host}:{bound}/", err=True)
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
@db_options
@click.option("--trust", type=click.Path(dir_okay=False, path_type=Path), help="Signed trust configuration.")
@click.option("--node-id", default=None, help="The node whose log this is (default: [node] id of jgx.toml).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8700, show_default=True, type=click.IntRange(0, 65535), help="0: any free port."
)
def console(
    db: Path | None, directory: Path, trust: Path | None, node_id: str | None, host: str, port: int
) -> None:
    """Serve the operator console (运维控制台) over the node's exchange log.

    \b
    Create an account first with `jgx users add`. Labels are Chinese; ?lang=en switches.
    Example:
      jgx console --dir node/ --port 8700
    """
    path = database(db, directory)
    node, config = _node(directory, trust, node_id)
    asyncio.run(run_console(path, node, config, host, port))
