"""``jgx bridge serve``: the whole bridge of a database-only department as one long-running process.

It serves the department's Adapter service (Describe, Deliver, Export) so the hub can deliver tasks,
clues and feedback into the inbound table, and polls each mapping's source table (records upward,
claim/feedback rows from the outbound table) every ``poll_seconds``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from adapters.bridge.cli import EXIT_UNAVAILABLE, bridge_of, load_or_exit, trust_or_exit
from adapters.bridge.mapping import BridgeMapping
from gateway._aio import wait_event
from gateway.cli._common import EXIT_OK, failure_lines, io_error, read_bytes
from gateway.errors import JgxError

if TYPE_CHECKING:
    from adapters.sdk import AdapterServicer
    from gateway.config import Paths

__all__ = ["serve", "serve_polling", "tls_files"]


@click.command("serve")
@click.argument(
    "mapping_files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--listen", default="127.0.0.1:7601", show_default=True, help="Where the Adapter service listens."
)
@click.option("--dir", "directory", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The node's directory (default: [bridge] dir of the first mapping).")  # fmt: skip
@click.option(
    "--hub", "hub_address", help="The hub's gRPC address (default: [bridge] hub of the first mapping)."
)
@click.option("--insecure", is_flag=True, help="No TLS (loopback development only).")
def serve(
    mapping_files: tuple[Path, ...],
    listen: str,
    directory: Path | None,
    hub_address: str | None,
    insecure: bool,
) -> None:
    """Serve the department's Adapter service (deliveries → inbound table) and poll its mappings' tables.

    \b
    Example:
      jgx bridge serve sc05.toml replies.toml --listen 0.0.0.0:7601
    """
    mappings = [load_or_exit(path) for path in mapping_files]
    node_dir = directory or mappings[0].node_dir
    address = hub_address or mappings[0].hub
    if node_dir is None or not address:
        io_error(
            "须给出节点目录与枢纽地址（[bridge] dir/hub）", "a node directory and a hub address are needed"
        )
    inbound = [m for m in mappings if m.inbound_table]
    if not inbound:
        io_error("没有映射文件含 [inbound] 表", "no mapping file has an [inbound] table")
    raise SystemExit(asyncio.run(_serve(mappings, node_dir, address, listen, insecure=insecure)))


async def _serve(
    mappings: list[BridgeMapping], node_dir: Path, address: str, listen: str, *, insecure: bool
) -> int:

    from adapters.bridge.inbound import FrontDesk, InboundTable
    from adapters.bridge.tables import DatabaseUnavailable, front_engine
    from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore
    from adapters.sdk.build import build_digest
    from gateway.cli._signer import directory_key
    from gateway.validation import standards_validator

    trust = trust_or_exit(node_dir)
    first = next(m for m in mappings if m.inbound_table)
    key, paths = directory_key(node_dir, first.node, trust)  # [keys.pkcs11] of DIR/jgx.toml, or the file
    engine = front_engine(first.database_url, connect_timeout=first.connect_timeout)
    try:
        inbound = InboundTable(engine, first.inbound_table, first.db_schema)
    except DatabaseUnavailable as exc:
        click.echo(failure_lines("不可用", "unavailable", exc), err=True)
        return EXIT_UNAVAILABLE
    servicer = AdapterServicer(
        identity=AdapterIdentity(
            first.node, key, "jgx-bridge", "0.1.0", build_digest()
        ),
        trust=trust, department=FrontDesk(mappings, inbound), validate=standards_validator,
        store=AdapterStore(first.state.with_name(first.state.stem + "-adapter.sqlite")),
    )  # fmt: skip
    bridges = [bridge_of(m, node_dir, address, insecure=insecure) for m in mappings]

    async def one_pass() -> None:
        for runner in bridges:
            try:
                report = await runner.run_once()
            except (DatabaseUnavailable, JgxError) as exc:
                table = runner.mapping.table
                click.echo(failure_lines(f"不可用（{table}）", f"unavailable ({table})", exc), err=True)
                continue
            if report.total("read"):
                click.echo(f"{runner.mapping.table}: {report.describe()}")

    try:
        await serve_polling(
            servicer, listen, tls_files(paths, insecure=insecure),
            banner=(f"{first.node} 前置库桥已启动", "bridge listening"), one_pass=one_pass,
            interval=min(m.poll_seconds for m in mappings),
        )  # fmt: skip
    finally:
        for runner in bridges:
            await runner.close()
        engine.dispose()
    return EXIT_OK


def tls_files(paths: Paths, *, insecure: bool) -> tuple[bytes, bytes, bytes] | None:
    """The node's certificate, key and CA certificate (exit 2 if one cannot be read); None with --insecure."""
    if insecure:
        return None
    return read_bytes(paths.tls_cert), read_bytes(paths.tls_key), read_bytes(paths.tls_ca)


async def serve_polling(
    servicer: AdapterServicer,
    listen: str,
    tls: tuple[bytes, bytes, bytes] | None,
    *,
    banner: tuple[str, str],
    one_pass: Callable[[], Awaitable[None]],
    interval: float,
) -> None:
    """Serve ``servicer`` on ``listen`` and run ``one_pass`` every ``interval`` seconds until SIGINT or
    SIGTERM; ``banner`` (Chinese, English) is printed with the bound address once the service listens."""
    from adapters.sdk import serve_adapter
    from gateway.tls import server_credentials

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    host, _, port = listen.rpartition(":")
    credentials = server_credentials(*tls) if tls else None
    async with serve_adapter(servicer, host=host, port=int(port), credentials=credentials) as running:
        click.echo(f"{banner[0]} / {banner[1]} on {host}:{running.port}", err=True)
        while not stop.is_set():
            await one_pass()
            await wait_event(stop, interval)
