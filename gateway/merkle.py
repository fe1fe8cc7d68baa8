"""The exchange log's Merkle tree (RFC 6962 §2.1, RFC 9162 §2.1): hashing, stored subtrees, proofs.

This module contains no storage and no networking code at all. The log keeps the hash of every
*complete* (perfect) subtree, addressed by ``(level, index)``: level 0 holds the leaf hashes, and node
``(level, index)`` covers leaves ``[index·2^level, (index+1)·2^level)``. A node, once complete, never
changes, so the same store answers for every historical tree size. Everything else — the root of any
size, inclusion and consistency proofs — is assembled from O(log n) of those nodes, fetched through one
batched :class:`NodeReader` call (one database query per proof).

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 and keeps every guard of transparency-dev/merkle's
``proof/verify.go``: ``index < size``, hash lengths, the exact proof length, ``size1 <= size2``,
``size1 > 0``, and an empty proof when ``size1 == size2``. Every failure is a :class:`ProofError`.

Every function takes the log's hash profile as ``hasher`` (`gateway.treehash`): ``SHA256`` (RFC 6962
exactly, the default) or ``SM3`` (the same tree with SM3). The module-level ``leaf_hash``, ``node_hash``
and ``EMPTY_ROOT`` are the ``sha256`` profile's, for RFC 6962 vectors and tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Protocol

from gateway.errors import JgxError, ReasonCode, VerificationError
from gateway.treehash import SHA256, SM3, TreeHash

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "SHA256",
    "SM3",
    "MemoryNodes",
    "MissingNodeError",
    "NodeKey",
    "NodeReader",
    "ProofError",
    "TreeHash",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "nodes_to_store_on_append",
    "nodes_to_store_on_extend",
    "root",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = SHA256.empty_root
"""MTH({}) = SHA-256() — the root of the empty RFC 6962 tree (the ``sha256`` profile)."""

NodeKey = tuple[int, int]
"""``(level, index)`` of a complete subtree; level 0 = leaf hashes."""


def leaf_hash(data: bytes) -> bytes:
    """The RFC 6962 leaf hash ``SHA-256(0x00 || data)`` (the ``sha256`` profile; see `TreeHash.leaf`)."""
    return SHA256.leaf(data)


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 node hash ``SHA-256(0x01 || left || right)`` (the ``sha256`` profile; `TreeHash.node`)."""
    return SHA256.node(left, right)


class ProofError(VerificationError):
    """A Merkle proof, or a request for one, is structurally wrong or does not lead to the expected root.

    ``kind`` names the failed guard: ``index_out_of_range``, ``bad_size``, ``bad_hash_length``,
    ``bad_length``, ``size_order``, ``empty_tree``, ``non_empty_proof``, ``root_mismatch``.
    """

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        super().__init__(ReasonCode.MALFORMED, f"[{kind}] {detail}")


class MissingNodeError(JgxError):
    """The node store lacks a subtree the tree size implies: the store and the log disagree."""

    def __init__(self, missing: Sequence[NodeKey]) -> None:
        self.missing = tuple(missing)
        shown = ", ".join(f"({level}, {index})" for level, index in self.missing[:8])
        super().__init__(ReasonCode.INTERNAL, f"日志节点缺失 / log store lacks complete subtrees: {shown}")


class NodeReader(Protocol):
    """Where complete-subtree hashes are read from: one batched call per operation."""

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the hashes of those ``keys`` the store holds (missing keys are simply absent)."""
        ...


# -- tree geometry -------------------------------------------------------------------------------------


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 6962 §2.1: the largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _perfect_subtrees(start: int, end: int) -> list[NodeKey]:
    """Split the leaf range ``[start, end)`` into aligned complete subtrees, left to right.

    Every range a proof needs starts on a boundary of the RFC 6962 split, so this greedy split gives the
    very subtrees the recursive definition hashes: complete ones of the range's left part, then smaller.
    """
    keys: list[NodeKey] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PATH(index, D[0:size]) of RFC 6962 §2.1.1, leaf upwards."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def _consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PROOF(size1, D[0:size2]) of RFC 6962 §2.1.2, in proof order."""
    ranges: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, size2, size1, True
    while m != hi - lo:
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def _fetch(reader: NodeReader, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    """Read ``keys`` in one batched call; every one of them must be present."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    found = dict(reader.get_nodes(wanted))
    missing = [key for key in wanted if key not in found]
    if missing:
        raise MissingNodeError(missing)
    return found


def _range_hash(nodes: Mapping[NodeKey, bytes], start: int, end: int, hasher: TreeHash) -> bytes:
    """MTH(D[start:end]) from the stored complete subtrees of that range."""
    keys = _perfect_subtrees(start, end)
    acc = nodes[keys[-1]]
    for key in reversed(keys[:-1]):
        acc = hasher.node(nodes[key], acc)
    return acc


def _assemble(reader: NodeReader, ranges: Sequence[tuple[int, int]], hasher: TreeHash) -> list[bytes]:
    nodes = _fetch(reader, (key for start, end in ranges for key in _perfect_subtrees(start, end)))
    return [_range_hash(nodes, start, end, hasher) for start, end in ranges]


_EMPTY_TREE: Final = "空树的一致性证明没有意义 / a consistency proof from the empty tree is meaningless"


def _check_size(size: int, what: str) -> None:
    if size < 0:
        raise ProofError("bad_size", f"{what} 不能为负数 / {what} must not be negative: {size}")


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(
            "bad_hash_length",
            f"{what} 长度应为 {HASH_SIZE} 字节 / {what} must be {HASH_SIZE} bytes, got {len(value)}",
        )


# -- appending and reading -----------------------------------------------------------------------------


def _append_into(
    nodes: dict[NodeKey, bytes], index: int, leaf: bytes, hasher: TreeHash
) -> list[tuple[NodeKey, bytes]]:
    """Add leaf ``index`` to ``nodes`` (which holds its left siblings) and return the new complete nodes."""
    created: list[tuple[NodeKey, bytes]] = [((0, index), leaf)]
    nodes[(0, index)] = leaf
    level, position, acc = 0, index, leaf
    while position & 1:  # a right child completes its parent
        acc = hasher.node(nodes[(level, position - 1)], acc)
        level, position = level + 1, position >> 1
        nodes[(level, position)] = acc
        created.append(((level, position), acc))
    return created


def nodes_to_store_on_append(
    size_before: int, leaf_hash: bytes, reader: NodeReader, *, hasher: TreeHash = SHA256
) -> list[tuple[NodeKey, bytes]]:
    """The complete subtrees that appending ``leaf_hash`` at index ``size_before`` creates, leaf first.

    Reads the left siblings the new leaf completes (one per trailing 1-bit of ``size_before``) in one call.
    """
    _check_size(size_before, "size_before")
    _check_hash(leaf_hash, "leaf hash")
    siblings: list[NodeKey] = []
    level, position = 0, size_before
    while position & 1:
        siblings.append((level, position - 1))
        level, position = level + 1, position >> 1
    return _append_into(_fetch(reader, siblings), size_before, leaf_hash, hasher)


def nodes_to_store_on_extend(
    size_before: int, leaf_hashes: Sequence[bytes], reader: NodeReader, *, hasher: TreeHash = SHA256
) -> list[tuple[NodeKey, bytes]]:
    """The complete subtrees that appending several leaves creates, with one read of the tree's border."""
    _check_size(size_before, "size_before")
    for value in leaf_hashes:
        _check_hash(value, "leaf hash")
    nodes = _fetch(reader, _perfect_subtrees(0, size_before))
    created: list[tuple[NodeKey, bytes]] = []
    for offset, value in enumerate(leaf_hashes):
        created.extend(_append_into(nodes, size_before + offset, value, hasher))
    return created


def root(size: int, reader: NodeReader, *, hasher: TreeHash = SHA256) -> bytes:
    """MTH(D[0:size]): the root of the tree of ``size`` leaves, from one node per set bit of ``size``."""
    _check_size(size, "tree size")
    if size == 0:
        return hasher.empty_root
    return _assemble(reader, [(0, size)], hasher)[0]


def inclusion_proof(index: int, size: int, reader: NodeReader, *, hasher: TreeHash = SHA256) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 6962 §2.1.1), leaf upwards."""
    _check_size(size, "tree size")
    if not 0 <= index < size:
        raise ProofError(
            "index_out_of_range", f"叶子序号超出树的大小 / leaf index {index} is not below tree size {size}"
        )
    return _assemble(reader, _inclusion_ranges(index, size), hasher)


def consistency_proof(
    size1: int, size2: int, reader: NodeReader, *, hasher: TreeHash = SHA256
) -> list[bytes]:
    """The proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2`` (RFC 6962 §2.1.2)."""
    _check_size(size1, "size1")
    _check_size(size2, "size2")
    if size1 > size2:
        raise ProofError("size_order", f"size1 大于 size2 / size1 {size1} exceeds size2 {size2}")
    if size1 == size2:
        return []
    if size1 == 0:
        raise ProofError("empty_tree", _EMPTY_TREE)
    return _assemble(reader, _consistency_ranges(size1, size2), hasher)


# -- verification (RFC 9162 §2.1.3.2, §2.1.4.2) --------------------------------------------------------


def _proof_shape(index: int, size: int) -> tuple[int, int]:
    """(inner, border): proof hashes below and above where the paths to ``index`` and ``size-1`` meet."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _check_length(proof: Sequence[bytes], want: int) -> None:
    if len(proof) != want:
        raise ProofError(
            "bad_length", f"证明长度错误 / proof has {len(proof)} hashes, the tree shape needs {want}"
        )
    for position, value in enumerate(proof):
        _check_hash(value, f"proof[{position}]")


def _check_match(calculated: bytes, expected: bytes, zh: str, en: str) -> None:
    if calculated != expected:
        raise ProofError(
            "root_mismatch",
            f"计算出的{zh}与给定值不符 / calculated {en} {calculated.hex()} != expected {expected.hex()}",
        )


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], *, hasher: TreeHash = SHA256
) -> bytes:
    """The root that ``proof`` leads to from leaf ``index`` of a tree of ``size`` leaves."""
    # (1) the leaf must be inside the tree
    _check_size(size, "tree size")
    if not 0 <= index < size:
        raise ProofError(
            "index_out_of_range", f"叶子序号超出树的大小 / leaf index {index} is not below tree size {size}"
        )
    # (2) hash lengths and (3) the exact proof length the tree shape implies
    _check_hash(leaf_hash, "leaf hash")
    _check_length(proof, sum(_proof_shape(index, size)))
    # (4) chain the path upwards
    fn, sn, result = index, size - 1, leaf_hash
    for sibling in proof:
        if fn & 1 or fn == sn:
            result = hasher.node(sibling, result)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = hasher.node(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # unreachable after (3); kept as RFC 9162's own final check
        raise ProofError("bad_length", "证明过短 / proof ends below the root")
    return result


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes, *, hasher: TreeHash = SHA256
) -> None:
    """Check that ``leaf_hash`` sits at ``index`` of the tree of ``size`` leaves whose root is ``root``."""
    _check_hash(root, "root")
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof, hasher=hasher)
    _check_match(calculated, root, "根哈希", "root")


def root_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, *, hasher: TreeHash = SHA256
) -> bytes:
    """The root of the tree of ``size2`` leaves that ``proof`` shows extends ``root1`` (``size1`` leaves)."""
    # (1) sizes: ordered, and a proof only between two non-empty, different trees
    _check_size(size1, "size1")
    _check_size(size2, "size2")
    _check_hash(root1, "root1")
    if size1 > size2:
        raise ProofError("size_order", f"size1 大于 size2 / size1 {size1} exceeds size2 {size2}")
    if size1 == size2:
        if proof:
            raise ProofError(
                "non_empty_proof",
                f"两树大小相同，证明应为空 / equal sizes need an empty proof, not {len(proof)}",
            )
        return root1
    if size1 == 0:
        raise ProofError("empty_tree", _EMPTY_TREE)
    # (2) exact length: the path of leaf size1-1 in tree size2, above the complete subtree holding it
    inner, border = _proof_shape(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1
    seeded = size1 == 1 << shift  # size1 is itself a complete subtree: root1 is the first hash
    _check_length(proof, (0 if seeded else 1) + inner - shift + border)
    path = [root1, *proof] if seeded else list(proof)
    # (3) chain both roots at once (RFC 9162 §2.1.4.2)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for sibling in path[1:]:
        if fn & 1 or fn == sn:
            first, second = hasher.node(sibling, first), hasher.node(sibling, second)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = hasher.node(second, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # unreachable after (2); kept as RFC 9162's own final check
        raise ProofError("bad_length", "证明过短 / proof ends below the root")
    # (4) the proof must reproduce the first root too
    _check_match(first, root1, "旧树根哈希", "first root")
    return second


def verify_consistency(
    size1: int,
    size2: int,
    proof: Sequence[bytes],
    root1: bytes,
    root2: bytes,
    *,
    hasher: TreeHash = SHA256,
) -> None:
    """Check that the tree ``(size1, root1)`` is a prefix of the tree ``(size2, root2)``."""
    _check_hash(root2, "root2")
    calculated = root_from_consistency_proof(size1, size2, proof, root1, hasher=hasher)
    _check_match(calculated, root2, "新树根哈希", "second root")


# -- an in-memory store -----------------------------------------------------------------------------


class MemoryNodes:
    """A node store in a dict, for tests and small logs; ``size`` is the number of leaves appended."""

    def __init__(self, hasher: TreeHash = SHA256) -> None:
        self._nodes: dict[NodeKey, bytes] = {}
        self.size = 0
        self.hasher = hasher

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the stored hashes of ``keys`` (absent keys are left out)."""
        return {key: self._nodes[key] for key in keys if key in self._nodes}

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash and return its index."""
        index = self.size
        self._nodes.update(nodes_to_store_on_append(index, leaf_hash, self, hasher=self.hasher))
        self.size += 1
        return index

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """Append several leaf hashes with one read of the tree's border."""
        self._nodes.update(nodes_to_store_on_extend(self.size, leaf_hashes, self, hasher=self.hasher))
        self.size += len(leaf_hashes)

    def root(self) -> bytes:
        """The root of the tree at its current size."""
        return root(self.size, self, hasher=self.hasher)
