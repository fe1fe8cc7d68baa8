"""What the PostgreSQL store's mixins need from the store they are mixed into: its connections."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from typing import Any

import asyncpg

from gateway.storage.postgres_tree import Conn

__all__ = ["PostgresHost"]


class PostgresHost(ABC):
    """The connection helpers `PostgresStore` provides to `PostgresOutbox` and `PostgresConsole`."""

    @abstractmethod
    def _conn(self, *, transaction: bool = False) -> contextlib.AbstractAsyncContextManager[Conn]:
        """A pooled connection, optionally inside a transaction."""

    @abstractmethod
    async def _fetch(self, sql: str, *params: Any) -> list[asyncpg.Record]:
        """Rows of one statement."""

    @abstractmethod
    async def _write(self, sql: str, *params: Any) -> str:
        """Run one statement in its own transaction; its status tag."""
