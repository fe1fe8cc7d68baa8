"""The integrity check `jgx serve` runs before it serves: fast on any log size, never O(n).

The full audit (every leaf, node and row) is `jgx log verify` (`gateway.logaudit`); `jgx serve
--audit-on-start` runs it first. Before every start, the node checks in O(log n + K) reads:

1. (`missing_database`) a node directory that recorded a log (``log/``, `gateway.loghead`) still has
   its SQLite database: a new empty one would reuse indexes that receipts and checkpoints named;
2. the stored log is not shorter than what the directory recorded: the last checkpoint it stored
   (``log/checkpoint.note``, signature verified with the log key from the trust configuration) and the
   last size whose receipts it released (``log/receipted``); a WAL-truncated or rolled-back database
   fails here, and the node never appends at an index a signature already covered;
3. the directory's checkpoint and the database's latest checkpoint verify, and the root the stored
   nodes give at each one's size is the signed root; the database holds a checkpoint at least as
   large as the directory's (deleted checkpoint rows fail here);
4. no leaf row lies beyond the log's head;
5. the recent leaves (from the last multiple of `RECENT` at least `RECENT` back: 1024 to 2047
   leaves, so that their subtrees are complete): indexes contiguous, each stored leaf hash and level-0
   node is SHA-256(0x00 ‖ leaf), the complete subtrees among them equal their recomputed hashes, and
   their rows beside the log hold what the leaves commit to (`gateway.logaudit_rows`).

`check_start` returns the problems found, in Chinese and English; an empty list means serve may start.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway import merkle
from gateway.checkpoint import NoteVerifier
from gateway.errors import JgxError
from gateway.keys import PublicKey
from gateway.logaudit_rows import SideRowAudit, by_index
from gateway.logbook import verify_origin_checkpoint
from gateway.loghead import LogHead
from gateway.storage import StorageError, Store

__all__ = ["RECENT", "check_head", "check_start", "missing_database"]

RECENT = 1024  # leaves re-hashed at every start (a power of two: their subtrees are complete)


def missing_database(head: LogHead, database_exists: bool) -> list[str]:
    """(1) A problem when the directory recorded a log but its database file is gone."""
    if database_exists or not head.exists():
        return []
    note = head.checkpoint_note()
    covered = max(head.receipted(), _note_size(note) if note else 0)
    return [
        f"数据库不存在，但本目录记录过一个日志（{head.folder}，至少 {covered} 个叶子）：不会新建空数据库，"
        f"以免重用已签名的日志序号；请恢复数据库 / the database is missing but this directory recorded a "
        f"log ({head.folder}, at least {covered} leaves): a new empty database would reuse log indexes "
        "that signed receipts and checkpoints named; restore the database"
    ]


def _note_size(note: str) -> int:
    lines = note.splitlines()
    return int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0


async def check_start(
    store: Store,
    head: LogHead,
    origin: str,
    verifiers: list[NoteVerifier],
    *,
    node_id: str,
    receipt_keys: Mapping[str, PublicKey] | None,
) -> list[str]:
    """Problems that must stop the node from serving its (open) ``store``; empty when it may start."""
    problems = await check_head(store, head, origin, verifiers)
    size = await store.size()
    if await store.leaves(size, size + 1):  # (4)
        problems.append(
            f"日志头记录 {size} 个叶子，其后还有叶子行 / the log's head says {size} leaves, "
            "leaf rows lie beyond it"
        )
    problems.extend(await _recent(store, size, node_id, receipt_keys))
    return problems


async def check_head(store: Store, head: LogHead, origin: str, verifiers: list[NoteVerifier]) -> list[str]:
    """(2) (3) The stored log against what the directory recorded and the latest stored checkpoint."""
    problems: list[str] = []
    size = await store.size()
    covered: list[tuple[str, int, bytes | None]] = [("log/receipted", head.receipted(), None)]
    note, in_directory = head.checkpoint_note(), 0
    if note is not None:
        try:
            signed = verify_origin_checkpoint(note, origin, verifiers)
        except JgxError as exc:
            problems.append(
                f"{head.note_path}: 检查点签名无效 / the checkpoint does not verify: {exc.detail}"
            )
        else:
            in_directory = signed.size
            covered.append(("log/checkpoint.note", signed.size, signed.root_hash))
    latest = await store.latest_checkpoint()
    if latest is not None:
        try:
            signed = verify_origin_checkpoint(latest.note, origin, verifiers)
        except JgxError as exc:
            problems.append(f"数据库最新检查点签名无效 / the database's latest checkpoint: {exc.detail}")
        else:
            covered.append(("checkpoints", signed.size, signed.root_hash))
    for source, covered_size, root in covered:  # (2) (3)
        if covered_size > size:
            problems.append(
                f"{source} 记录日志至少有 {covered_size} 个叶子，数据库只有 {size} 个（WAL 被截断或回滚？）："
                f"拒绝启动，以免重用已签名的序号 / {source} records at least {covered_size} leaves but the "
                f"database holds {size} (a truncated WAL or a rollback?): refusing to start rather than "
                "reuse log indexes already signed"
            )
        elif root is not None and await _root(store, covered_size) != root:
            problems.append(
                f"{source}: 大小 {covered_size} 处的根哈希与存储的树不符 / the stored tree's root at size "
                f"{covered_size} is not the signed one"
            )
    if (latest.size if latest is not None else 0) < in_directory:
        problems.append(
            f"数据库缺少本目录记录的检查点 {in_directory}（检查点行被删除？） / the database lacks "
            f"checkpoint {in_directory} that this directory recorded (checkpoint rows deleted?)"
        )
    return problems


async def _root(store: Store, size: int) -> bytes | None:
    try:
        return await store.root(size)
    except (StorageError, merkle.MissingNodeError):
        return None


async def _recent(
    store: Store, size: int, node_id: str, receipt_keys: Mapping[str, PublicKey] | None
) -> list[str]:
    """(4) (5) The last `RECENT` leaves, their subtrees and their rows beside the log."""
    problems: list[str] = []

    def problem(zh: str, en: str) -> None:
        problems.append(f"{zh} / {en}")

    start = max(0, size - RECENT) // RECENT * RECENT  # aligned: every subtree inside is complete
    leaves = await store.leaves(start, size)
    if [record.log_index for record in leaves] != list(range(start, size)):
        problem(
            f"最近的叶子 {start}–{size - 1} 不连续", f"recent leaves {start}–{size - 1} are not contiguous"
        )
        return problems
    rows = {row.log_index: row for row in await store.messages(start, size)}
    side = await store.side_rows(start, size)
    audit = SideRowAudit(node_id, receipt_keys, problem, store.hasher)
    outbox, seen, reasons = by_index(side.outbox), by_index(side.seen), by_index(side.reasons)
    level = [store.hasher.leaf(record.leaf) for record in leaves]
    for record, computed in zip(leaves, level, strict=True):
        if computed != record.leaf_hash:
            problem(
                f"叶子 {record.log_index} 的哈希与其内容不符",
                f"leaf {record.log_index}: stored hash does not match its bytes",
            )
        index = record.log_index
        audit.check(
            index, record.leaf, rows.get(index),
            outbox.get(index, []), seen.get(index, []), reasons.get(index, []),
        )  # fmt: skip
    expected: dict[merkle.NodeKey, bytes] = {}
    depth, first = 0, start
    while level:
        expected.update({(depth, first + n): value for n, value in enumerate(level)})
        level = [store.hasher.node(level[n], level[n + 1]) for n in range(0, len(level) - 1, 2)]
        depth, first = depth + 1, first // 2
    stored = await store.get_nodes(list(expected))
    for key, value in expected.items():
        if stored.get(key) != value:
            problem(f"存储的节点 {key} 与重算结果不符", f"stored node {key} differs from the leaves")
    return problems
