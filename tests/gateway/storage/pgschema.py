"""A throw-away PostgreSQL schema per test, in database ``test`` at 127.0.0.1:5432 (CI starts the server).

``JGX_TEST_POSTGRES`` overrides the server URL. A test that needs PostgreSQL FAILS with a clear message
when the server cannot be reached: the PostgreSQL backend is part of the product, not an optional extra.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

SERVER = os.environ.get("JGX_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(SERVER, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {SERVER} ({exc}). The storage suite runs against both "
            "backends: start PostgreSQL (CI does, see .ci/run) or set JGX_TEST_POSTGRES.",
            pytrace=False,
        )


@asynccontextmanager
async def fresh_schema(prefix: str = "t") -> AsyncIterator[str]:
    """A store URL naming a new, empty schema; the schema and everything in it is dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = await _admin()
    try:
        await admin.execute(f"CREATE SCHEMA {name}")
        yield f"{SERVER}?schema={name}"
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        await admin.close()


def new_schema_url(prefix: str = "t") -> tuple[str, str]:
    """(store URL, schema name) for a schema that does not exist yet (the store creates it)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    return f"{SERVER}?schema={name}", name


async def drop_schema(name: str) -> None:
    """Drop ``name`` and everything in it."""
    admin = await _admin()
    try:
        await admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    finally:
        await admin.close()
