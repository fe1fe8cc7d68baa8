"""``jgx adapter …`` (run a department's adapter, check its native exports) and ``jgx lifecycle …``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gateway.cli._common import EXIT_OK, EXIT_VERDICT, io_error, io_failure, read_bytes, when
from gateway.errors import JgxError

if TYPE_CHECKING:
    from adapters.departments import Desk
    from adapters.lifecycle import Item
    from gateway.storage import Store

__all__ = ["adapter", "lifecycle"]

_DEPARTMENTS = ("amr", "12315", "sjs")


def _desk(department: str, exports: Path | None) -> Desk:
    from adapters.departments import DEPARTMENTS, SAMPLES

    folder = exports or SAMPLES
    if not folder.is_dir():
        io_error(f"导出目录 {folder} 不存在", f"the exports folder {folder} does not exist")
    return DEPARTMENTS[department](folder)


@click.group()
def adapter() -> None:
    """Department adapters: run one, or check its native exports.

    \b
    Examples:
      jgx adapter import --department amr              # map the shipped sample exports, list broken rows
      jgx adapter run --department amr --dir nodes/amr --hub 127.0.0.1:7443 --listen 127.0.0.1:7601
    """


@adapter.command("import")
@click.option(
    "--department", type=click.Choice(_DEPARTMENTS), required=True, help="Which reference department."
)
@click.option(
    "--exports",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with the department's native exports (default: the shipped samples).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of text.")
def import_(department: str, exports: Path | None, as_json: bool) -> None:
    """Map a department's native exports to standard records and report every refused row.

    Exit 0 when every row mapped, 1 when some rows were refused (the good rows are still mapped).

    \b
    Example:
      jgx adapter import --department amr --exports /data/amr-export
    """
    result = _desk(department, exports).imported()
    counts = Counter(r.standard for r in result.records)
    if as_json:
        report = {
            "records": dict(sorted(counts.items())),
            "problems": [
                {"file": p.source, "line": p.line, "column": p.column, "zh": p.reason_zh, "en": p.reason_en}
                for p in result.problems
            ],
        }
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for standard, count in sorted(counts.items()):
            click.echo(f"{standard}: {count} 条记录 / records")
        for problem in result.problems:
            click.echo(f"拒收 / refused  {problem.describe()}")
    sys.exit(EXIT_VERDICT if result.problems else EXIT_OK)


@adapter.command("run")
@click.option(
    "--department", type=click.Choice(_DEPARTMENTS), required=True, help="Which reference department."
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="The node's directory as `jgx init` writes it (jgx.toml, trust.json, tls/…); the signing key is "
    "[keys.pkcs11] of its jgx.toml or keys/node.key.",
)
@click.option("--hub", required=True, help="The hub's gRPC address, HOST:PORT.")
@click.option("--listen", default="127.0.0.1:7601", show_default=True, help="Where the adapter listens.")
@click.option("--exports", type=click.Path(file_okay=False, path_type=Path), help="Native exports folder.")
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    help="State file (default DIR/adapter.sqlite).",
)
@click.option(
    "--scratch-store",
    is_flag=True,
    help="Certification: keep all state in a temporary store deleted at exit and hand nothing to the hub.",
)
@click.option("--insecure", is_flag=True, help="No TLS (loopback development only).")
@click.option("--no-auto-claim", is_flag=True, help="Do not claim delivered tasks automatically.")
@click.option(
    "--submit/--no-submit", default=True, show_default=True, help="Submit the mapped records at start."
)
def run(
    department: str,
    directory: Path,
    hub: str,
    listen: str,
    exports: Path | None,
    store: Path | None,
    scratch_store: bool,
    insecure: bool,
    no_auto_claim: bool,
    submit: bool,
) -> None:
    """Serve a department's Adapter service and hand its records and replies to the hub.

    \b
    Example:
      jgx init nodes/amr --node-id sc.amr --ca-cert nodes/hub/tls/ca.crt --ca-key nodes/hub/tls/ca.key
      jgx adapter run --department amr --dir nodes/amr --hub 127.0.0.1:7443 --listen 127.0.0.1:7601
    """
    from adapters.departments import NODES

    with contextlib.ExitStack() as scratch:
        store_path = store or directory / "adapter.sqlite"
        if scratch_store:
            # A certification run's deliveries, work items, claims and queued replies are test traffic:
            # they live and die in a temporary store, the production store is never opened, and nothing
            # is handed to the hub.
            store_path = Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="jgx-scratch-")))
            store_path = store_path / "adapter.sqlite"
            click.echo(f"临时存储 / scratch store {store_path} (deleted at exit; nothing is submitted)")
        asyncio.run(
            _run(
                NODES[department],
                department,
                directory,
                hub,
                listen,
                exports,
                store_path,
                insecure=insecure,
                auto_claim=not no_auto_claim,
                submit=submit and not scratch_store,
                hand_over=not scratch_store,
            )
        )


async def _run(
    node_id: str,
    department: str,
    directory: Path,
    hub_address: str,
    listen: str,
    exports: Path | None,
    store_path: Path,
    *,
    insecure: bool,
    auto_claim: bool,
    submit: bool,
    hand_over: bool = True,
) -> None:
    from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore, HubClient, serve_adapter
    from adapters.sdk.build import build_digest
    from gateway.cli._signer import directory_key, node_files
    from gateway.tls import channel_credentials, server_credentials
    from gateway.trust_update import load_trust
    from gateway.validation import standards_validator

    now = when(None)
    paths, _ = node_files(directory)
    try:
        trust = load_trust(read_bytes(paths.trust), now=now)
    except JgxError as exc:
        io_failure("信任配置不可用", "the trust configuration is not usable", exc)
    key, _ = directory_key(directory, node_id, trust)  # [keys.pkcs11] of DIR/jgx.toml, or the key file
    desk = _desk(department, exports)
    desk.auto_claim = auto_claim
    for problem in desk.imported().problems:
        click.echo(f"拒收 / refused  {problem.describe()}", err=True)
    servicer = AdapterServicer(
        identity=AdapterIdentity(node_id, key, f"jgx-adapter-{department}", "0.1.0", build_digest()),
        trust=trust, department=desk, store=AdapterStore(store_path), validate=standards_validator,
    )  # fmt: skip
    tls = [read_bytes(p) for p in (paths.tls_cert, paths.tls_key, paths.tls_ca)] if not insecure else None
    client = HubClient(
        hub_address, trust=trust, hub=servicer.hub, credentials=channel_credentials(*tls) if tls else None
    )
    host, _, port = listen.rpartition(":")
    if submit:
        report = servicer.publish(desk.imported().records)
        click.echo(
            f"批次 / batch {report.batch_id or '-'}: 新增 / inserted {report.inserted}, "
            f"更新 / updated {report.updated}, 未变 / unchanged {report.unchanged}"
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    credentials = server_credentials(*tls) if tls else None
    async with serve_adapter(
        servicer, host=host, port=int(port), credentials=credentials, hub=client if hand_over else None
    ) as running:
        click.echo(f"{node_id} 适配器已启动 / adapter listening on {host}:{running.port}")
        await stop.wait()
    await client.close()


def _overdue_in_node(directory: Path, now: datetime) -> list[Item]:
    """The overdue tasks and clues of a gateway's log, with its trust configuration's deadlines."""
    from adapters.lifecycle_log import overdue_in_log
    from gateway.cli._node import load_node, node_store, node_trust
    from gateway.cli._store import with_store

    config = load_node(directory)
    trust = node_trust(config, datetime.now(UTC))

    async def work(store: Store) -> list[Item]:
        return (await overdue_in_log(store, trust, now)).overdue

    return with_store(node_store(config, must_exist=True), work)


@click.group()
def lifecycle() -> None:
    """Tasks and clues an adapter works on: 分发 → 认领 → 反馈 → 结束, and what is overdue.

    \b
    Example:
      jgx lifecycle overdue --store nodes/amr/adapter.sqlite
      jgx lifecycle overdue --dir nodes/hub          # the gateway's log, as the console's dashboard
    """


@lifecycle.command("overdue")
@click.option(
    "--store",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="An adapter's state file (adapter.sqlite): the tasks and clues it works on.",
)
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A gateway's node directory: the tasks and clues of its exchange log (what the console shows).",
)  # fmt: skip
@click.option("--at", help="Judge as of this time (RFC 3339, UTC with Z); default now.")
@click.option("--mark", is_flag=True, help="Record the overdue state (超期) in the store, log and count it.")
def overdue_(store: Path | None, directory: Path | None, at: str | None, mark: bool) -> None:
    """List tasks and clues whose deadline (working days) has passed.

    Exit 0 when nothing is overdue, 1 when something is. With --dir the list is the one the
    console's dashboard shows for the same time: both fold the log with `overdue_in_log`.

    \b
    Example:
      jgx lifecycle overdue --store nodes/amr/adapter.sqlite --at 2026-12-10T02:00:00Z
      jgx lifecycle overdue --dir nodes/hub --at 2026-12-10T02:00:00Z
    """
    from adapters.lifecycle import Item, days_overdue, overdue
    from adapters.sdk.store import AdapterStore
    from adapters.sdk.worklist import Worklist

    if (store is None) == (directory is None):
        io_error("请给出 --store 或 --dir 之一", "give exactly one of --store (adapter) or --dir (gateway)")
    now: datetime = when(at)
    if directory is not None:
        if mark:
            io_error("--mark 只用于适配器的 --store", "--mark records into an adapter's --store only")
        late = _overdue_in_node(directory, now)
    else:
        assert store is not None
        state = AdapterStore(store)
        try:
            if mark:
                late = Worklist(state, node="cli").mark_overdue(now)
            else:
                late = overdue((Item.from_json(text) for text in state.items()), now)
        finally:
            state.close()
    for item in late:
        click.echo(
            f"{item.correlation_id}\t{item.standard}\t{item.state.value}\t截止 / due {item.due}\t"
            f"超期 {days_overdue(item, now)} 个工作日 / working days overdue"
        )
    if not late:
        click.echo("没有超期事项 / nothing is overdue")
    sys.exit(EXIT_VERDICT if late else EXIT_OK)
