"""Where the CLI finds a node's SQLite database: ``--db PATH`` or ``[storage] sqlite`` of ``DIR/jgx.toml``."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from gateway.cli._common import io_error
from gateway.storage.sqlite import SqliteStore

T = TypeVar("T")

DB_OPTIONS = (
    click.option(
        "--db", "db", type=click.Path(dir_okay=False, path_type=Path), help="The SQLite database file."
    ),
    click.option(
        "--dir",
        "directory",
        default=".",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The node directory holding jgx.toml (used when --db is not given).",
    ),
)


def db_options(fn: Callable[..., T]) -> Callable[..., T]:
    """Add ``--db`` and ``--dir`` to a command."""
    for option in reversed(DB_OPTIONS):
        fn = option(fn)
    return fn


def database(db: Path | None, directory: Path) -> Path:
    """The database path from the options; exit 2 when there is none."""
    if db is None:
        config = directory / "jgx.toml"
        name = "jgx.db"
        if config.exists():
            try:
                name = str(
                    tomllib.loads(config.read_text(encoding="utf-8")).get("storage", {}).get("sqlite", name)
                )
            except (OSError, tomllib.TOMLDecodeError) as exc:
                io_error(f"无法读取 {config}: {exc}", f"cannot read {config}: {exc}")
        db = directory / name
    if not db.exists():
        io_error(f"数据库不存在: {db}", f"no database at {db}")
    return db


def with_store(path: Path, work: Callable[[SqliteStore], Awaitable[T]]) -> T:
    """Open the store at ``path``, run ``work`` on it, close it."""

    async def run() -> T:
        store = SqliteStore(path)
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())
