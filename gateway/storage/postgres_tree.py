"""Reading the Merkle tree's stored nodes through asyncpg for the synchronous `gateway.merkle` functions.

`gateway.merkle` asks its ``NodeReader`` once per operation for every node it needs, and raises
`merkle.MissingNodeError` naming the keys it lacked. `with_nodes` runs the computation on what was
fetched so far, fetches what it lacked in one query, and runs it again: two round trips per proof or
append, whatever the tree's size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from gateway import merkle
from gateway.storage.base import NodeKey, StorageError

__all__ = ["Conn", "border", "fetch_nodes", "with_nodes"]

T = TypeVar("T")
Conn = asyncpg.Connection | PoolConnectionProxy  # a connection of its own, or one lent by the pool
_CHUNK = 500  # node keys per query (two parameters each, far below the protocol's 32767)


class _Prefetched:
    """merkle's ``NodeReader`` over nodes already fetched; a miss raises MissingNodeError with the keys."""

    def __init__(self, nodes: Mapping[NodeKey, bytes]) -> None:
        self._nodes = nodes

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        return {key: self._nodes[key] for key in keys if key in self._nodes}


async def fetch_nodes(conn: Conn, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    """Stored hashes of the complete subtrees at ``keys``; missing keys are absent from the result."""
    found: dict[NodeKey, bytes] = {}
    wanted = list(dict.fromkeys(keys))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        clause = " OR ".join(f"(level = ${2 * n + 1} AND idx = ${2 * n + 2})" for n in range(len(chunk)))
        params = [value for key in chunk for value in key]
        for row in await conn.fetch(f"SELECT level, idx, hash FROM nodes WHERE {clause}", *params):  # noqa: S608
            found[(int(row[0]), int(row[1]))] = bytes(row[2])
    return found


async def with_nodes(
    conn: Conn, work: Callable[[merkle.NodeReader], T], nodes: dict[NodeKey, bytes] | None = None
) -> T:
    """Run a synchronous Merkle computation, fetching the nodes it asks for (one query per ask).

    ``nodes`` are known already (and receive what is fetched); when they suffice, nothing is read.
    """
    nodes = {} if nodes is None else nodes
    while True:
        try:
            return work(_Prefetched(nodes))
        except merkle.MissingNodeError as missing:
            found = await fetch_nodes(conn, missing.missing)
            if not found:
                raise StorageError(str(missing)) from missing
            nodes.update(found)


def border(size: int, nodes: dict[NodeKey, bytes]) -> tuple[int, dict[NodeKey, bytes]]:
    """The complete subtrees covering leaves [0, size) (one per set bit of size), from ``nodes``."""
    keys, start = [], 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    if any(key not in nodes for key in keys):
        return -1, {}
    return size, {key: nodes[key] for key in keys}
