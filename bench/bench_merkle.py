"""Exchange-log Merkle tree: append rate, proof generation and verification, node reads per proof.

Each log hash profile (``sha256``: RFC 6962, ``sm3``: the same tree with SM3) gets its rows.
Prints a table; record the numbers in bench/README.md. Run: ``.venv/bin/python bench/bench_merkle.py``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence

from gateway import merkle
from gateway.treehash import PROFILES, TreeHash


class CountingNodes:
    """Wraps a store and counts the keys read."""

    def __init__(self, inner: merkle.MemoryNodes) -> None:
        self.inner = inner
        self.keys = 0

    def get_nodes(self, keys: Sequence[merkle.NodeKey]) -> Mapping[merkle.NodeKey, bytes]:
        self.keys += len(keys)
        return self.inner.get_nodes(keys)


def per_second(action: Callable[[int], object], count: int = 2_000) -> float:
    start = time.perf_counter()
    for i in range(count):
        action(i)
    return count / (time.perf_counter() - start)


def measure(size: int, hasher: TreeHash) -> tuple[float, ...]:
    """One row: appends/s, inclusion proofs/s, verifications/s, consistency proofs/s, node reads per proof."""
    nodes = merkle.MemoryNodes(hasher)
    hashes = [hasher.leaf(i.to_bytes(8, "big")) for i in range(size)]
    appends = per_second(lambda i: nodes.append(hashes[i]), size)
    root, step, probe = nodes.root(), max(1, size // 997), size // 3
    proofs = per_second(lambda i: merkle.inclusion_proof(i * step % size, size, nodes, hasher=hasher))
    path = merkle.inclusion_proof(probe, size, nodes, hasher=hasher)
    verifies = per_second(
        lambda _: merkle.verify_inclusion(hashes[probe], probe, size, path, root, hasher=hasher)
    )
    consistency = per_second(
        lambda i: merkle.consistency_proof(1 + i * step % (size - 1), size, nodes, hasher=hasher)
    )
    counter = CountingNodes(nodes)
    for i in range(200):
        merkle.inclusion_proof(i * step % size, size, counter, hasher=hasher)
    return appends, proofs, verifies, consistency, counter.keys / 200


def main(sizes: list[int]) -> None:
    columns = ("hash", "leaves", "append/s", "incl.proof/s", "verify/s", "consist./s", "reads/proof")
    print(" ".join(f"{c:>12}" for c in columns))
    for hasher in PROFILES.values():
        for size in sizes:
            _row(hasher, size)


def _row(hasher: TreeHash, size: int) -> None:
    appends, proofs, verifies, consistency, reads = measure(size, hasher)
    row = [
        f"{hasher.name:>12}",
        f"{size:>12}",
        *(f"{v:>12.0f}" for v in (appends, proofs, verifies, consistency)),
        f"{reads:>12.1f}",
    ]
    print(" ".join(row), flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 100_000, 1_000_000])
