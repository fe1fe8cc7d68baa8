"""What `jgx serve` checks before it serves: the log's integrity against the node directory's record.

`open_checked` opens the node's store only if the directory does not show a lost database, runs the
quick start check (`gateway.startcheck`) and, with ``--audit-on-start``, the full audit of `jgx log
verify`; any problem stops the node with exit 2 and the problems in Chinese and English.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NoReturn

import click

from gateway.cli._common import io_error, io_failure, os_failure
from gateway.cli._node import node_keys, verifier
from gateway.config import Config
from gateway.logaudit import audit_store
from gateway.logbook import log_origin
from gateway.loghead import LogHead
from gateway.startcheck import check_start, missing_database
from gateway.storage import StorageError, Store
from gateway.storage.sqlite import SqliteStore

__all__ = ["open_checked"]


def _refuse(problems: list[str], directory: object) -> NoReturn:
    click.echo(
        f"错误: 日志完整性检查未通过，节点拒绝启动（{len(problems)} 个问题）\n"
        f"error: the exchange log failed its integrity check; the node refuses to start "
        f"({len(problems)} problems):",
        err=True,
    )
    for problem in problems[:20]:
        click.echo(f"  - {problem}", err=True)
    io_error(f"完整审计: jgx log verify --dir {directory}", f"full audit: jgx log verify --dir {directory}")


async def open_checked(config: Config, store: Store, *, full_audit: bool = False) -> LogHead:
    """Open ``store`` and check its log; exit 2 on any problem. The returned head is open for writing."""
    head = LogHead(config.directory)
    exists = not isinstance(store, SqliteStore) or store.path.exists()
    problems = missing_database(head, exists)
    if problems:
        _refuse(problems, config.directory)
    try:
        await store.open()
    except StorageError as exc:
        io_failure("数据库不可用", "the database is not usable", exc)
    now = datetime.now(UTC)
    origin, verifiers, keys = (
        log_origin(config.node_id, config.log_hash),
        [verifier(config, now)],
        node_keys(config, now),
    )
    try:
        problems = await check_start(
            store, head, origin, verifiers, node_id=config.node_id, receipt_keys=keys
        )
        if full_audit and not problems:
            report = await audit_store(store, origin, verifiers, node_id=config.node_id, receipt_keys=keys)
            problems = report.problems
    except StorageError as exc:
        problems = [f"数据库读取失败 / the database cannot be read: {exc}"]
    if problems:
        await store.close()
        _refuse(problems, config.directory)
    try:
        head.open()
    except OSError as exc:
        await store.close()
        os_failure(f"无法写入 {head.folder}", f"cannot write {head.folder}", exc)
    return head
