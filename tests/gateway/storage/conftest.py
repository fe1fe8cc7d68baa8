"""The storage suite runs against every backend: add a backend by adding one param to ``store``."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.storage import Entry, Seen, Store
from gateway.storage.postgres import PostgresStore
from gateway.storage.sqlite import SqliteStore
from tests.gateway.storage.pgschema import fresh_schema

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An open, empty store of each backend (PostgreSQL: in a schema of its own, dropped afterwards)."""
    async with contextlib.AsyncExitStack() as stack:
        backend: Store
        if request.param == "sqlite":
            backend = SqliteStore(tmp_path / "jgx.db")
        elif request.param == "postgresql":
            backend = PostgresStore(await stack.enter_async_context(fresh_schema()))
        else:  # pragma: no cover - a new backend must be wired here
            raise NotImplementedError(request.param)
        await backend.open()
        stack.push_async_callback(backend.close)
        yield backend


def entry(
    n: int,
    *,
    sender: str = "sc.amr",
    outbox: tuple[str, ...] = (),
    seen: bool = False,
    correlation_id: str = "",
    delivers: int | None = None,
) -> Entry:
    """A submission entry whose leaf, envelope and receipt are derived from ``n``."""
    envelope = f"envelope-{n}".encode()
    digest = hashlib.sha256(envelope).digest()
    return Entry(
        leaf=f"leaf-{n}".encode(),
        kind="delivery" if delivers is not None else "submission",
        time=NOW + timedelta(seconds=n),
        envelope_sha256=digest,
        outcome=1,
        sender=sender,
        recipient="sc.hub",
        message_id=f"m-{n}",
        standard="SC-06",
        standard_version="1.0.0",
        correlation_id=correlation_id,
        envelope=envelope,
        payload=b"{}",
        receipt=lambda index: f"receipt-{n}@{index}".encode(),
        outbox=outbox,
        seen=Seen(sender, f"m-{n}", NOW + timedelta(hours=1)) if seen else None,
        delivers=delivers,
    )


def mth(leaves: list[bytes]) -> bytes:
    """Reference RFC 6962 Merkle tree hash, recomputed from every leaf (the test oracle)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()
