"""``jgx bridge national init|serve|reconcile NATIONAL.toml``: the province's national bridge.

Exit codes a script can rely on: 0 nothing to report (``reconcile``: every acknowledged batch matches
what was written; batches not yet acknowledged are listed, not counted against it); 1 ``reconcile``
found a batch with rows the national side refused or never acknowledged; 2 the configuration, node
directory or trust configuration is not usable; 3 the national database or the hub is unavailable.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from adapters.bridge.cli import EXIT_UNAVAILABLE, trust_or_exit
from gateway.cli._common import EXIT_OK, EXIT_VERDICT, failure_lines, io_error, io_failure
from gateway.errors import JgxError

if TYPE_CHECKING:
    from adapters.bridge.national import NationalLink, NationalTables

__all__ = ["national"]

_CONFIG = click.Path(dir_okay=False, exists=True, path_type=Path)


def _link_or_exit(path: Path) -> NationalLink:
    from adapters.bridge.mapping import MappingError
    from adapters.bridge.national import load_link

    try:
        return load_link(path)
    except MappingError as exc:
        io_error(exc.message_zh, exc.message_en)


def _tables(link: NationalLink) -> NationalTables:
    from adapters.bridge.national import NationalTables
    from adapters.bridge.tables import front_engine

    engine = front_engine(link.database_url, connect_timeout=link.connect_timeout)
    return NationalTables(engine, link.db_schema, link.prefix)


@click.group()
def national() -> None:
    """国家前置库桥: the province's bridge to the national system's front database (前置库).

    \b
    Examples:
      jgx bridge national init national.toml        # create the national front tables where absent
      jgx bridge national serve national.toml       # deliveries → up-tables; down-table → the hub
      jgx bridge national reconcile national.toml   # cd_batch written vs the national acknowledgements
    """


@national.command("init")
@click.argument("config_file", type=_CONFIG)
def init(config_file: Path) -> None:
    """Create the national front tables (up, down, read-back, acknowledgement) where absent."""
    from adapters.bridge.tables import DatabaseUnavailable

    tables = _tables(_link_or_exit(config_file))
    try:
        tables.create()
    except DatabaseUnavailable as exc:
        io_failure("不可用", "unavailable", exc, code=EXIT_UNAVAILABLE)
    finally:
        tables.engine.dispose()
    for name in tables.names():
        click.echo(name)


@national.command("reconcile")
@click.argument("config_file", type=_CONFIG)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the table.")
def reconcile_command(config_file: Path, as_json: bool) -> None:
    """对账: every cd_batch the bridge wrote against the national side's acknowledgement of it."""
    from adapters.bridge.national import NationalJournal, reconcile, render
    from adapters.bridge.national.reconcile import MISSING, REFUSED
    from adapters.bridge.tables import DatabaseUnavailable

    link = _link_or_exit(config_file)
    if not link.state.is_file():
        io_error(f"状态文件不存在：{link.state}", f"no state file at {link.state}")
    journal, tables = NationalJournal(link.state), _tables(link)
    try:
        checks = reconcile(tables, journal.written())
    except DatabaseUnavailable as exc:
        io_failure("不可用", "unavailable", exc, code=EXIT_UNAVAILABLE)
    finally:
        journal.close()
        tables.engine.dispose()
    if as_json:
        rows = [
            {"cd_batch": c.cd_batch, "written": c.written, "received": c.received, "accepted": c.accepted,
             "status": c.status, "refused": [{"table": t, "cd_id": i, "reason": r} for t, i, r in c.refused]}
            for c in checks
        ]  # fmt: skip
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(render(checks)))
    sys.exit(EXIT_VERDICT if any(c.status in (REFUSED, MISSING) for c in checks) else EXIT_OK)


@national.command("serve")
@click.argument("config_file", type=_CONFIG)
@click.option(
    "--listen", default="127.0.0.1:7602", show_default=True, help="Where the Adapter service listens."
)
@click.option("--insecure", is_flag=True, help="No TLS (loopback development only).")
def serve(config_file: Path, listen: str, insecure: bool) -> None:
    """Serve the bridge's Adapter service (the hub's deliveries → national up-tables, flushed as cd_batch
    runs) and poll the national down-table every poll_seconds, until stopped.

    \b
    Example:
      jgx bridge national serve national.toml --listen 0.0.0.0:7602
    """
    link = _link_or_exit(config_file)
    if link.node_dir is None or not link.hub:
        io_error(
            "须给出节点目录与枢纽地址（[national] dir/hub）", "a node directory and a hub address are needed"
        )
    raise SystemExit(asyncio.run(_serve(link, link.node_dir, listen, insecure=insecure)))


async def _serve(link: NationalLink, node_dir: Path, listen: str, *, insecure: bool) -> int:
    from adapters.bridge.national import NationalDesk, NationalDownward, NationalJournal
    from adapters.bridge.national.downward import worklist_tracker
    from adapters.bridge.serve import serve_polling, tls_files
    from adapters.bridge.state import BridgeState
    from adapters.bridge.tables import DatabaseUnavailable
    from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore, HubClient
    from gateway._time import utc_now
    from gateway.cli._signer import directory_key
    from gateway.tls import channel_credentials
    from gateway.validation import standards_validator

    trust = trust_or_exit(node_dir)
    key, paths = directory_key(node_dir, link.node, trust)  # [keys.pkcs11] of DIR/jgx.toml, or the key file
    tables = _tables(link)
    try:
        tables.create()
    except DatabaseUnavailable as exc:
        click.echo(failure_lines("不可用", "unavailable", exc), err=True)
        return EXIT_UNAVAILABLE
    journal = NationalJournal(link.state)
    desk = NationalDesk(link, tables, journal, trust)
    servicer = AdapterServicer(
        identity=AdapterIdentity(link.node, key, "jgx-national-bridge", "0.1.0"), trust=trust,
        department=desk, validate=standards_validator,
        store=AdapterStore(link.state.with_name(link.state.stem + "-adapter.sqlite")),
    )  # fmt: skip
    tls = tls_files(paths, insecure=insecure)
    hub = HubClient(link.hub, trust=trust, credentials=channel_credentials(*tls) if tls else None)
    state = BridgeState(link.state)
    downward = NationalDownward(
        link, tables=tables, state=state, journal=journal, hub=hub, key=key, trust=trust,
        track=worklist_tracker(servicer.worklist),
    )  # fmt: skip

    async def one_pass() -> None:
        try:
            report = await downward.poll()
            batches = await asyncio.to_thread(desk.flush, utc_now())
        except (DatabaseUnavailable, JgxError) as exc:
            click.echo(failure_lines("不可用", "unavailable", exc), err=True)
            return
        if report.read:
            click.echo(report.describe())
        for batch in batches:
            click.echo(batch.describe())

    try:
        await serve_polling(
            servicer, listen, tls, banner=(f"{link.node} 国家前置库桥已启动", "national bridge listening"),
            one_pass=one_pass, interval=link.poll_seconds,
        )  # fmt: skip
    finally:
        await hub.close()
        state.close()
        journal.close()
        tables.engine.dispose()
    return EXIT_OK
