"""``jgx log …`` and ``jgx trace``: audit, export and prove the exchange log of a node directory."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click

from gateway import merkle
from gateway.cli._common import EXIT_VERDICT, io_error, io_failure, os_failure, read_bytes, verdict_error
from gateway.cli._node import load_node, node_keys, node_store, verifier
from gateway.config import Config
from gateway.errors import JgxError
from gateway.logaudit import AuditReport, audit_export, audit_store, export_lines
from gateway.logbook import log_origin, verify_log_checkpoint
from gateway.loghead import LogHead
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.published import check_published
from gateway.startcheck import check_head
from gateway.storage import MessageRecord, StorageError, Store

T = TypeVar("T")
_DIR = click.option(
    "--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
    help="The node directory holding jgx.toml.",
)  # fmt: skip


def _with_store(config: Config, work: Callable[[Store], Awaitable[T]]) -> T:
    store = node_store(config, must_exist=True)

    async def run() -> T:
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except StorageError as exc:
        io_failure("数据库不可用", "the database is not usable", exc)


@click.group()
def log() -> None:
    """The exchange log (交换日志): verify, export, prove, checkpoints.

    \b
    Examples:
      jgx log verify --dir node/                 # recompute every leaf, node and checkpoint
      jgx log verify --export log.jsonl --dir node/
      jgx log export --dir node/ --out log.jsonl
      jgx log proof MESSAGE_ID --sender sc.amr --dir node/
      jgx log checkpoint --dir node/
    """


@log.command()
@_DIR
@click.option("--export", "export_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Audit an export file instead of the database.")  # fmt: skip
@click.option("--published", "published", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A signed checkpoint published before, which the log must extend.")  # fmt: skip
def verify(directory: Path, export_file: Path | None, published: tuple[Path, ...]) -> None:
    """Recompute every leaf hash and root and check every signed checkpoint; exit 1 on any problem.

    \b
    The log and receipt keys come from the node's trust configuration. From the database
    the stored Merkle nodes and every row beside the leaves (messages: envelope, payload,
    receipt…; outbox; seen; reason index) are checked against what each leaf commits to,
    rows that name no leaf are counted, and the directory's log/ record (latest checkpoint,
    receipted size) must lie within the log. After a restore, pass the
    checkpoints published before it (as printed by `jgx log checkpoint`): each must verify,
    lie within the restored log, and have the same root there.
    Examples:
      jgx log verify --dir node/
      jgx log verify --dir node/ --published published/0001234.note
    """
    config = load_node(directory)
    if published and export_file is not None:
        io_error("--published 只用于数据库，不用于导出文件", "--published checks the database, not an export")
    note_verifier, origin = verifier(config, datetime.now(UTC)), log_origin(config.node_id, config.log_hash)
    if export_file is not None:
        try:
            lines = read_bytes(export_file).decode("utf-8").splitlines()
            report = audit_export(lines, [note_verifier], origin=origin)
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            io_failure(f"{export_file} 不是日志导出文件", f"{export_file} is not a log export", exc)
    else:
        keys = node_keys(config, datetime.now(UTC))
        head = LogHead(config.directory)

        async def audit(store: Store) -> AuditReport:
            found = await audit_store(
                store, origin, [note_verifier], node_id=config.node_id, receipt_keys=keys
            )
            found.problems.extend(await check_head(store, head, origin, [note_verifier]))  # log/ of the dir
            return found

        report = _with_store(config, audit)
    if published and export_file is None:
        notes = [(str(path), read_bytes(path).decode("utf-8", errors="replace")) for path in published]
        report.problems.extend(
            _with_store(config, lambda store: check_published(store, notes, origin, [note_verifier]))
        )
    if not report.ok:
        click.echo(f"日志校验失败 / log verification FAILED ({len(report.problems)} problems):", err=True)
        for problem in report.problems[:50]:
            click.echo(f"  - {problem}", err=True)
        sys.exit(EXIT_VERDICT)
    click.echo(
        f"日志完好 / log OK: {report.size} leaves, hash {report.hash_profile}, "
        f"root {report.root_hash.hex()}, "
        f"{report.checkpoints} checkpoints verified, {report.nodes_checked} stored nodes checked"
    )
    if report.unbound:
        click.echo(
            f"注意: {report.unbound} 个第 1 版叶子未绑定其载荷、动作、投递与防重放记录 / note: "
            f"{report.unbound} version-1 leaves do not bind their payload, action, outbox and seen rows"
        )


@log.command()
@_DIR
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Export file (JSON Lines)."
)
def export(directory: Path, out: Path) -> None:
    """Write the log (leaves and checkpoints) as JSON Lines for offline audit.

    \b
    Example:
      jgx log export --dir node/ --out log.jsonl && jgx log verify --dir node/ --export log.jsonl
    """
    config = load_node(directory)
    lines = _with_store(
        config, lambda store: export_lines(store, log_origin(config.node_id, config.log_hash))
    )
    try:
        with out.open("w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line + "\n")
    except OSError as exc:
        os_failure(f"无法写入 {out}", f"cannot write {out}", exc)
    click.echo(f"已导出 / exported to {out}")


@log.command()
@_DIR
def checkpoint(directory: Path) -> None:
    """Print the latest signed checkpoint (C2SP signed note), after verifying it.

    \b
    Example:
      jgx log checkpoint --dir node/
    """
    config = load_node(directory)
    stored = _with_store(config, lambda store: store.latest_checkpoint())
    if stored is None:
        io_error("日志尚无检查点", "the log has no checkpoint yet")
    try:
        verify_log_checkpoint(
            stored.note, config.node_id, config.log_hash, [verifier(config, datetime.now(UTC))]
        )
    except JgxError as exc:
        verdict_error(exc)
    click.echo(stored.note, nl=False)


@log.command()
@_DIR
@click.argument("message_id")
@click.option("--sender", default="", help="The sender whose message id is meant.")
def proof(directory: Path, message_id: str, sender: str) -> None:
    """Print an inclusion proof of MESSAGE_ID against the latest checkpoint (JSON), verified first.

    \b
    Example:
      jgx log proof 7f3a… --sender sc.amr --dir node/
    """
    config = load_node(directory)
    note_verifier = verifier(config, datetime.now(UTC))

    async def build(store: Store) -> dict[str, object]:
        rows = [
            r
            for r in await store.find_messages(message_id=message_id, sender=sender)
            if r.duplicate_of is None
        ]
        latest = await store.latest_checkpoint()
        if not rows:
            io_error(f"日志中没有报文 {message_id}", f"no leaf for message id {message_id}")
        if latest is None or latest.size <= rows[0].log_index:
            io_error(
                "该叶子尚未被检查点覆盖，请稍后重试",
                "the leaf is not yet covered by a checkpoint; retry shortly",
            )
        index = rows[0].log_index
        [leaf] = await store.leaves(index, index + 1)
        hashes = await store.inclusion_proof(index, latest.size)
        signed = verify_log_checkpoint(latest.note, config.node_id, config.log_hash, [note_verifier])
        leaf_hash = config.log_hash.leaf(leaf.leaf)  # recomputed from the bytes, never the stored hash
        merkle.verify_inclusion(
            leaf_hash, index, signed.size, hashes, signed.root_hash, hasher=config.log_hash
        )
        return {
            "log_index": index,
            "tree_size": signed.size,
            "leaf": base64.b64encode(leaf.leaf).decode(),
            "leaf_hash": leaf.leaf_hash.hex(),
            "hashes": [h.hex() for h in hashes],
            "checkpoint": latest.note,
        }

    click.echo(json.dumps(_with_store(config, build), ensure_ascii=False, indent=2))


_OUTCOMES = {v: k.removeprefix("OUTCOME_").lower() for k, v in exchange_pb2.Outcome.items()}


@click.command()
@_DIR
@click.argument("identifier")
@click.option("--correlation", is_flag=True, help="IDENTIFIER is a correlation (task or clue) id.")
@click.option(
    "--across", is_flag=True,
    help="Also ask every other gateway of the trust configuration (Trace over mTLS); show receipts.",
)  # fmt: skip
def trace(directory: Path, identifier: str, correlation: bool, across: bool) -> None:
    """List the log events of a message id (or, with --correlation, of a task or clue id).

    \b
    With --across, the hops on every gateway in time order: this node's rows with their receipts
    verified (the next hop's receipt for a delivery) and the other gateways' Trace answers.
    Example:
      jgx trace TASK-2026-0001 --correlation --dir node/
      jgx trace TASK-2026-0001 --correlation --across --dir node/
    """
    config = load_node(directory)
    key = {"correlation_id": identifier} if correlation else {"message_id": identifier}
    rows = _with_store(config, lambda store: store.find_messages(**key))
    if across:
        _trace_across(config, identifier, correlation, rows)
        return
    if not rows:
        io_error(f"日志中没有 {identifier}", f"nothing logged for {identifier}")
    for row in rows:
        reasons = ",".join(row.reason_codes) or "-"
        outcome = _OUTCOMES.get(row.outcome, str(row.outcome))  # type: ignore[call-overload]
        click.echo(
            f"{row.log_index:>8} {row.time:%Y-%m-%dT%H:%M:%SZ} {row.kind:<10} "
            f"{row.sender} -> {row.recipient} {row.message_id} {row.standard} {row.action or '-'} "
            f"{outcome} {reasons}"
        )


def _trace_across(config: Config, identifier: str, correlation: bool, rows: list[MessageRecord]) -> None:
    from gateway import hops
    from gateway.cli._node import node_trust
    from gateway.tls import channel_credentials

    now = datetime.now(UTC)
    trust = node_trust(config, now)
    paths = config.paths
    try:
        credentials = channel_credentials(
            paths.tls_cert.read_bytes(), paths.tls_key.read_bytes(), paths.tls_ca.read_bytes()
        )
    except OSError as exc:
        io_failure("无法读取 TLS 证书", "cannot read the node's TLS files", exc)
    request = exchange_pb2.TraceRequest(
        **({"correlation_id": identifier} if correlation else {"message_id": identifier})
    )
    local = hops.local_hops(config.node_id, rows, trust, now=now)
    gateways = hops.gateways_of(trust, config.peers, local=config.node_id)
    found = asyncio.run(hops.trace_hops(local, request, gateways, credentials=credentials))
    for node, why in found.unreachable.items():
        click.echo(f"未能询问 {node} / could not ask {node}: {why}", err=True)
    if not found.hops:
        io_error(f"各网关日志中均没有 {identifier}", f"no gateway logged {identifier}")
    for hop in found.hops:
        click.echo(hop.line())
