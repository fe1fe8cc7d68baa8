"""``jgx bridge run|check MAPPING.toml``: connect a front database (前置库) to the hub without code.

Exit codes a script can rely on: 0 every row sent was accepted (or there was nothing to send; for
``check``: nothing would be refused); 1 at least one row was refused (by the hub or locally) and its
verdict written back; 2 the mapping, node directory or trust configuration is not usable; 3 the front
database or the hub stayed unavailable through every retry.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from gateway._aio import wait_event
from gateway.cli._common import (
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VERDICT,
    failure_lines,
    io_error,
    io_failure,
    read_bytes,
)
from gateway.errors import JgxError

if TYPE_CHECKING:
    from adapters.bridge import Bridge, BridgeMapping, PassReport
    from gateway.trust import TrustConfig

__all__ = ["EXIT_UNAVAILABLE", "bridge", "bridge_of", "load_or_exit", "trust_or_exit"]

EXIT_UNAVAILABLE = 3
_MAPPING = click.Path(dir_okay=False, exists=True, path_type=Path)


def load_or_exit(path: Path) -> BridgeMapping:
    """The mapping file at ``path``, or exit 2 naming what is wrong with it."""
    from adapters.bridge import MappingError, load_mapping

    try:
        return load_mapping(path)
    except MappingError as exc:
        io_error(exc.message_zh, exc.message_en)


def _unavailable(exc: Exception) -> NoReturn:
    io_failure("不可用", "unavailable", exc, code=EXIT_UNAVAILABLE)


def trust_or_exit(directory: Path) -> TrustConfig:
    """The node directory's trust configuration, or exit 2."""
    from gateway.cli._signer import node_files
    from gateway.trust_update import load_trust

    paths, _ = node_files(directory)
    try:
        return load_trust(read_bytes(paths.trust), now=datetime.now(UTC))
    except JgxError as exc:
        io_failure("信任配置不可用", "the trust configuration is not usable", exc)


@click.group()
def bridge() -> None:
    """前置库 bridge: a front database connected to the hub by a mapping file, without code.

    \b
    Examples:
      jgx bridge check mapping.toml           # dry run on the live table: what would be refused and why
      jgx bridge run mapping.toml --once      # one pass: send new rows, write each verdict back
      jgx bridge run mapping.toml             # poll every poll_seconds until stopped
      jgx bridge national reconcile national.toml   # the national bridge: cd_batch vs acknowledgements
    """


@bridge.command("check")
@click.argument("mapping_file", type=_MAPPING)
@click.option("--limit", default=100_000, show_default=True, help="Read at most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of text.")
def check(mapping_file: Path, limit: int, as_json: bool) -> None:
    """Dry-run the mapping on the live table: unmapped required fields, codes with no translation,
    rows that would be refused and why. Nothing is signed, sent or written."""
    from adapters.bridge import DatabaseUnavailable, FrontDatabase, MappingError
    from adapters.bridge.check import dry_run

    mapping = load_or_exit(mapping_file)
    destination, trust = "internal", None
    if mapping.node_dir is not None and (mapping.node_dir / "trust.json").is_file():
        trust = trust_or_exit(mapping.node_dir)
        destination = trust.destination_of(mapping.recipient)
    database = FrontDatabase(mapping)
    try:
        report = dry_run(
            mapping, database, on=datetime.now(UTC).date(), destination=destination, limit=limit, trust=trust
        )
    except MappingError as exc:
        io_error(exc.message_zh, exc.message_en)
    except DatabaseUnavailable as exc:
        _unavailable(exc)
    finally:
        database.close()
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(report.lines()))
    sys.exit(EXIT_OK if report.clean else EXIT_VERDICT)


@bridge.command("run")
@click.argument("mapping_file", type=_MAPPING)
@click.option("--once", is_flag=True, help="One pass to the end of the table, then exit.")
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The node's directory (default: [bridge] dir of the mapping).",
)  # fmt: skip
@click.option("--hub", "hub_address", help="The hub's gRPC address (default: [bridge] hub of the mapping).")
@click.option("--interval", type=float, help="Seconds between passes (default: [bridge] poll_seconds).")
@click.option("--insecure", is_flag=True, help="No TLS (loopback development only).")
def run(
    mapping_file: Path, once: bool, directory: Path | None, hub_address: str | None, interval: float | None,
    insecure: bool,
) -> None:  # fmt: skip
    """Send the table's new rows to the hub and write each verdict back to the result table."""
    mapping = load_or_exit(mapping_file)
    node_dir = directory or mapping.node_dir
    if node_dir is None:
        io_error(
            "映射文件未给出节点目录（[bridge] dir），也未给 --dir",
            "no node directory: set [bridge] dir or --dir",
        )
    address = hub_address or mapping.hub
    if not address:
        io_error(
            "映射文件未给出枢纽地址（[bridge] hub），也未给 --hub",
            "no hub address: set [bridge] hub or --hub",
        )
    sys.exit(asyncio.run(_run(mapping, node_dir, address, once=once, interval=interval, insecure=insecure)))


def bridge_of(mapping: BridgeMapping, node_dir: Path, address: str, *, insecure: bool) -> Bridge:
    """A bridge for ``mapping`` signing with the node directory's key (its token with ``[keys.pkcs11]``
    in ``jgx.toml``), over mTLS unless ``insecure``."""
    from adapters.bridge import Bridge, BridgeState, FrontDatabase
    from adapters.sdk import HubClient, RetryPolicy
    from gateway.cli._signer import directory_key
    from gateway.tls import channel_credentials

    trust = trust_or_exit(node_dir)
    key, paths = directory_key(node_dir, mapping.node, trust)
    tls = (
        None
        if insecure or mapping.insecure
        else [read_bytes(p) for p in (paths.tls_cert, paths.tls_key, paths.tls_ca)]
    )
    client = HubClient(address, trust=trust, credentials=channel_credentials(*tls) if tls else None)
    return Bridge(
        mapping,
        database=FrontDatabase(mapping),
        state=BridgeState(mapping.state),
        hub=client,
        key=key,
        trust=trust,
        retry=RetryPolicy(attempts=mapping.retries, base=0.5, cap=30.0),
    )


def _exit_code(report: PassReport) -> int:
    return EXIT_VERDICT if report.total("rejected") or report.total("refused_local") else EXIT_OK


async def _run(
    mapping: BridgeMapping,
    node_dir: Path,
    address: str,
    *,
    once: bool,
    interval: float | None,
    insecure: bool,
) -> int:
    from adapters.bridge import DatabaseUnavailable, MappingError

    runner = bridge_of(mapping, node_dir, address, insecure=insecure)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    code = EXIT_OK
    try:
        while True:
            try:
                report = await runner.run_once()
            except MappingError as exc:
                click.echo(failure_lines("", "", exc), err=True)
                return EXIT_USAGE
            except (DatabaseUnavailable, JgxError) as exc:
                click.echo(failure_lines("不可用", "unavailable", exc), err=True)
                if once:
                    return EXIT_UNAVAILABLE
            else:
                for batch in report.batches:
                    click.echo(batch.describe())
                click.echo(report.describe())
                code = _exit_code(report)
                if once:
                    return code
            if await wait_event(stop, interval if interval is not None else mapping.poll_seconds):
                return code
    finally:
        await runner.close()


def _serve_command() -> click.Command:
    from adapters.bridge.serve import serve

    return serve


bridge.add_command(_serve_command())


def _national_command() -> click.Group:
    from adapters.bridge.national.cli import national

    return national


bridge.add_command(_national_command())
