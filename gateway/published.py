"""Checking a log against checkpoints the hub published earlier (after a restore, before serving again).

A restored database can be older than what the hub had already published: every checkpoint it
signed went out to auditors and partners, and every receipt promised a leaf. Before a restored node
serves again, each previously published checkpoint must still hold:

1. its signature verifies with the node's log key (from the trust configuration, not from the data);
2. its size is within the restored log: otherwise the leaves after the backup are missing, and the
   node must not append (a new checkpoint at that size would have another root: a fork);
3. the restored log's root at that size is the published root.

`check_published` returns the problems found, in Chinese and English; an empty list means the restored
log extends every published checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.checkpoint import NoteVerifier
from gateway.errors import JgxError
from gateway.logbook import verify_origin_checkpoint
from gateway.storage import StorageError, Store

__all__ = ["check_published"]


async def check_published(
    store: Store, notes: Sequence[tuple[str, str]], origin: str, verifiers: list[NoteVerifier]
) -> list[str]:
    """Problems of ``store``'s log against published checkpoint ``notes`` ((name, signed note text))."""
    problems: list[str] = []
    size = await store.size()
    for name, text in notes:
        try:
            checkpoint = verify_origin_checkpoint(text, origin, verifiers)  # (1)
        except JgxError as exc:
            problems.append(f"{name}: 检查点签名无效 / the checkpoint does not verify: {exc.detail}")
            continue
        if checkpoint.size > size:  # (2)
            problems.append(
                f"{name}: 已发布的检查点有 {checkpoint.size} 个叶子，恢复的日志只有 {size} 个："
                f"第 {size}–{checkpoint.size - 1} 条缺失，不得继续追加 / the published checkpoint covers "
                f"{checkpoint.size} leaves but the restored log has {size}: leaves {size}–"
                f"{checkpoint.size - 1} are missing; do not append before they are recovered"
            )
            continue
        try:
            root = await store.root(checkpoint.size)  # (3)
        except StorageError as exc:
            problems.append(f"{name}: 无法计算根哈希 / cannot compute the root: {exc}")
            continue
        if root != checkpoint.root_hash:
            problems.append(
                f"{name}: 恢复的日志在大小 {checkpoint.size} 处的根哈希与已发布的不同 / the restored log's "
                f"root at size {checkpoint.size} is {root.hex()}, the published one "
                f"{checkpoint.root_hash.hex()}"
            )
    return problems
