"""A full audit of an exchange log: every leaf hash, every stored node, every checkpoint (DESIGN §5).

The auditor rebuilds the RFC 6962 tree from the leaf bytes alone, keeping only the O(log n) perfect
subtrees on the right border (a compact range), so it can audit a log of any size in one pass. It
checks that the indexes run 0..n-1 without gaps, that each stored leaf hash is H(0x00 || leaf) with
the hash of the log's profile (SHA-256, or SM3: the origin declares it, `gateway.treehash`),
that each stored complete-subtree hash equals the recomputed one (proofs are served from them), that
every row stored beside a leaf holds what the leaf commits to (`gateway.logaudit_rows`), that no row
of a log table names a leaf outside the log, and that every published checkpoint is signed by the
node's log key and carries the recomputed root of its size. Any edited, NULLed, deleted, inserted or
reordered row of those tables makes one of these fail (docs/exchange-log.md lists, per table and
column, what is proven and what is not). The same auditor reads a database (through
the `Store` interface) or an export file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway import merkle
from gateway.checkpoint import NoteVerifier
from gateway.errors import JgxError
from gateway.keys import PublicKey
from gateway.logaudit_rows import SideRowAudit, by_index
from gateway.logbook import origin_profile, verify_origin_checkpoint
from gateway.storage import Store, StoredCheckpoint

__all__ = ["EXPORT_FORMAT", "AuditReport", "LogAuditor", "audit_export", "audit_store", "export_lines"]

EXPORT_FORMAT = "jgx.log-export.v1"
_CHUNK = 4096


@dataclass
class AuditReport:
    """The outcome of an audit: how much was checked, and every problem found (empty when sound)."""

    size: int = 0
    root_hash: bytes = b""
    hash_profile: str = "sha256"
    checkpoints: int = 0
    nodes_checked: int = 0
    unbound: int = 0  # version-1 leaves, whose payload, action, outbox and seen rows are not bound
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


class LogAuditor:
    """Feeds leaves in order and checks checkpoints as the rebuilt tree reaches their sizes."""

    def __init__(
        self, origin: str, verifiers: list[NoteVerifier], checkpoints: list[StoredCheckpoint]
    ) -> None:
        """Audit the log ``origin`` whose checkpoints are verified with ``verifiers``.

        The origin declares the log's hash profile (`gateway.logbook.log_origin`): the tree is rebuilt
        with it, and a checkpoint declaring another profile is a problem.
        """
        self.origin = origin
        self.hasher = origin_profile(origin) or merkle.SHA256
        self.verifiers = verifiers
        self.report = AuditReport()
        self._pending = sorted(checkpoints, key=lambda c: c.size)
        self._border: list[tuple[int, bytes]] = []  # (level, hash) of the right-border perfect subtrees
        self.created: list[tuple[merkle.NodeKey, bytes]] = []  # complete nodes of the last `add`s

    def problem(self, zh: str, en: str) -> None:
        """Record one problem, in both languages."""
        self.report.problems.append(f"{zh} / {en}")

    def add(self, index: int, leaf: bytes, stored_hash: bytes) -> None:
        """Feed leaf ``index``; it must be the next one, and its stored hash must match its bytes."""
        size = self.report.size
        if index != size:
            self.problem(
                f"叶子序号不连续: 期望 {size}，实际 {index}",
                f"leaf index gap: expected {size}, found {index}",
            )
        computed = self.hasher.leaf(leaf)
        if computed != stored_hash:
            self.problem(
                f"叶子 {index} 的哈希与其内容不符", f"leaf {index}: stored hash does not match its bytes"
            )
        # Merge equal-level subtrees, as appending to the tree completes them (leaf hash recomputed).
        position, level, value = size, 0, computed
        self.created.append(((0, size), value))
        while self._border and self._border[-1][0] == level:
            _, left = self._border.pop()
            value, level, position = self.hasher.node(left, value), level + 1, position >> 1
            self.created.append(((level, position), value))
        self._border.append((level, value))
        self.report.size = size + 1
        while self._pending and self._pending[0].size == self.report.size:
            self._check_checkpoint(self._pending.pop(0))

    def root(self) -> bytes:
        """The root of the leaves fed so far."""
        if not self._border:
            return self.hasher.empty_root
        value = self._border[-1][1]
        for _, left in reversed(self._border[:-1]):
            value = self.hasher.node(left, value)
        return value

    def _check_checkpoint(self, stored: StoredCheckpoint) -> None:
        self.report.checkpoints += 1
        root = self.root()
        try:
            checkpoint = verify_origin_checkpoint(stored.note, self.origin, self.verifiers)
        except JgxError as exc:
            self.problem(
                f"检查点 {stored.size} 签名无效: {exc.detail}", f"checkpoint {stored.size}: {exc.detail}"
            )
            return
        if (checkpoint.size, checkpoint.root_hash) != (stored.size, stored.root_hash):
            self.problem(
                f"检查点 {stored.size} 的记录与签名内容不符",
                f"checkpoint {stored.size}: row differs from note",
            )
        if checkpoint.root_hash != root:
            self.problem(
                f"检查点 {stored.size} 的根哈希与重算结果不符",
                f"checkpoint {stored.size}: root differs from the leaves",
            )

    def finish(self) -> AuditReport:
        """Close the audit: checkpoints beyond the last leaf are problems; return the report."""
        for stored in self._pending:
            self.problem(
                f"检查点 {stored.size} 超出日志长度 {self.report.size}（有叶子被删除？）",
                f"checkpoint {stored.size} is beyond the log's {self.report.size} leaves (deleted leaves?)",
            )
        self._pending = []
        self.report.root_hash = self.root()
        self.report.hash_profile = self.hasher.name
        return self.report


async def audit_store(
    store: Store,
    origin: str,
    verifiers: list[NoteVerifier],
    *,
    node_id: str | None = None,
    receipt_keys: Mapping[str, PublicKey] | None = None,
) -> AuditReport:
    """Audit a live store: leaves, stored nodes, every row beside the leaves, and every checkpoint.

    ``receipt_keys`` (the node's public keys by key id, from the trust configuration) verify the
    receipts the node signed; without them only their presence is checked.
    """
    auditor = LogAuditor(origin, verifiers, await store.checkpoints())
    if store.hasher is not auditor.hasher:
        auditor.problem(
            f"数据库记录的日志哈希方案 {store.hasher.name} 与来源 {origin} 声明的 {auditor.hasher.name} 不符",
            f"the store's log hash profile {store.hasher.name} differs from {auditor.hasher.name} "
            f"declared by origin {origin}",
        )
    node = node_id or origin.rsplit("/", 1)[-1]
    rows_audit = SideRowAudit(node, receipt_keys, auditor.problem, auditor.hasher)
    size = await store.size()
    for start in range(0, size, _CHUNK):
        end = min(start + _CHUNK, size)
        leaves = await store.leaves(start, end)
        rows = {row.log_index: row for row in await store.messages(start, end)}
        side = await store.side_rows(start, end)
        outbox, seen, reasons = by_index(side.outbox), by_index(side.seen), by_index(side.reasons)
        auditor.created = []
        for record in leaves:
            index = record.log_index
            auditor.add(index, record.leaf, record.leaf_hash)
            rows_audit.check(
                index,
                record.leaf,
                rows.get(index),
                outbox.get(index, []),
                seen.get(index, []),
                reasons.get(index, []),
            )
        stored = await store.get_nodes([key for key, _ in auditor.created])
        auditor.report.nodes_checked += len(auditor.created)
        for key, value in auditor.created:
            if stored.get(key) != value:
                auditor.problem(
                    f"存储的节点 {key} 与重算结果不符", f"stored node {key} differs from the leaves"
                )
    if auditor.report.size != size:
        auditor.problem(
            f"日志记录的长度为 {size}，实际只有 {auditor.report.size} 个连续叶子",
            f"the log's head says {size} leaves, {auditor.report.size} contiguous leaves are stored",
        )
    # Rows appended while the audit ran belong to leaves it did not see: count strays beyond the end.
    for table, count in (await store.stray_rows(max(size, await store.size()))).items():
        if count:
            auditor.problem(
                f"{table} 表有 {count} 行不属于日志中的任何叶子（被插入？）",
                f"{table}: {count} rows name no leaf of the log (inserted?)",
            )
    report = auditor.finish()
    report.unbound = rows_audit.unbound
    return report


async def export_lines(store: Store, origin: str) -> Iterator[str]:
    """The log as JSON Lines: a header, every leaf (with its envelope), every checkpoint."""
    size = await store.size()
    lines = [json.dumps({"type": "header", "format": EXPORT_FORMAT, "origin": origin, "size": size})]
    for start in range(0, size, _CHUNK):
        for record in await store.leaves(start, min(start + _CHUNK, size)):
            lines.append(
                json.dumps(
                    {
                        "type": "leaf",
                        "index": record.log_index,
                        "leaf": base64.b64encode(record.leaf).decode(),
                        "leaf_hash": record.leaf_hash.hex(),
                    }
                )
            )
    for checkpoint in await store.checkpoints():
        lines.append(
            json.dumps(
                {
                    "type": "checkpoint",
                    "size": checkpoint.size,
                    "root_hash": checkpoint.root_hash.hex(),
                    "note": checkpoint.note,
                    "time": checkpoint.time.isoformat(),
                }
            )
        )
    return iter(lines)


def audit_export(
    lines: Iterable[str], verifiers: list[NoteVerifier], *, origin: str | None = None
) -> AuditReport:
    """Audit an export file's lines (leaves and checkpoints); ValueError when it is not an export."""
    records: list[dict[str, Any]] = [json.loads(line) for line in lines if line.strip()]
    if not records or records[0].get("format") != EXPORT_FORMAT:
        raise ValueError(f"not a {EXPORT_FORMAT} file")
    from datetime import UTC, datetime

    checkpoints = [
        StoredCheckpoint(r["size"], bytes.fromhex(r["root_hash"]), r["note"], datetime.now(UTC))
        for r in records
        if r.get("type") == "checkpoint"
    ]
    auditor = LogAuditor(origin or records[0]["origin"], verifiers, checkpoints)
    declared = records[0].get("size")
    for record in records:
        if record.get("type") == "leaf":
            auditor.add(record["index"], base64.b64decode(record["leaf"]), bytes.fromhex(record["leaf_hash"]))
    report = auditor.finish()
    if declared != report.size:
        auditor.problem(
            f"导出声明 {declared} 个叶子，实际 {report.size}",
            f"header says {declared} leaves, found {report.size}",
        )
    return report
