"""Invariants every backend checks inside its writer's transaction, whatever its SQL dialect.

`check_new_checkpoint` is the storage half of "never two inconsistent checkpoints": a checkpoint is
stored only if its root is the root of the stored log at its size and it extends the latest stored
checkpoint (a consistency proof from the stored nodes verifies). Replicas that share one database each
sign checkpoints; the database refuses every one that does not pass, under the same lock that
sequences the log.
"""

from __future__ import annotations

from gateway import merkle
from gateway.storage.base import StorageError, StoredCheckpoint

__all__ = ["check_new_checkpoint"]


def check_new_checkpoint(
    new: StoredCheckpoint,
    *,
    log_size: int,
    latest: StoredCheckpoint | None,
    reader: merkle.NodeReader,
    hasher: merkle.TreeHash,
) -> None:
    """Raise StorageError unless ``new`` is the log's root at its size and extends ``latest``.

    May raise `merkle.MissingNodeError` when ``reader`` lacks a node (backends that read nodes
    asynchronously fetch the missing ones and call again).
    """
    if new.size <= 0 or new.size > log_size:
        raise StorageError(f"checkpoint size {new.size} is outside the log of {log_size} leaves")
    if latest is not None and new.size <= latest.size:
        raise StorageError(f"checkpoint size {new.size} is not above the latest {latest.size}")
    if merkle.root(new.size, reader, hasher=hasher) != new.root_hash:
        raise StorageError(f"checkpoint root of size {new.size} is not the log's root at that size")
    if latest is None:
        return
    proof = merkle.consistency_proof(latest.size, new.size, reader, hasher=hasher)
    try:
        merkle.verify_consistency(
            latest.size, new.size, proof, latest.root_hash, new.root_hash, hasher=hasher
        )
    except merkle.ProofError as exc:
        raise StorageError(
            f"checkpoint of size {new.size} is not consistent with the latest of size {latest.size}"
        ) from exc
