"""The store a console CLI verb works on: ``--db PATH`` (SQLite) or the node of ``--dir`` (jgx.toml)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from gateway.cli._common import io_error, io_failure
from gateway.cli._node import load_node, node_store
from gateway.storage import StorageError, Store
from gateway.storage.sqlite import SqliteStore

T = TypeVar("T")

DB_OPTIONS = (
    click.option(
        "--db", "db", type=click.Path(dir_okay=False, path_type=Path), help="A SQLite database file."
    ),
    click.option(
        "--dir",
        "directory",
        default=".",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The node directory holding jgx.toml (its [storage] url; used when --db is not given).",
    ),
)


def db_options(fn: Callable[..., T]) -> Callable[..., T]:
    """Add ``--db`` and ``--dir`` to a command."""
    for option in reversed(DB_OPTIONS):
        fn = option(fn)
    return fn


def database(db: Path | None, directory: Path) -> Store:
    """The (not yet open) store the options name; exit 2 when there is none."""
    if db is None:
        return node_store(load_node(directory), must_exist=True)
    if not db.exists():
        io_error(f"数据库不存在: {db}", f"no database at {db}")
    return SqliteStore(db, hasher=None)  # no jgx.toml: the log's recorded hash profile


def with_store(store: Store, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open ``store``, run ``work`` on it, close it; exit 2 when it cannot be opened."""

    async def run() -> T:
        try:
            await store.open()
        except StorageError as exc:
            io_failure("数据库不可用", "the database is not usable", exc)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())
