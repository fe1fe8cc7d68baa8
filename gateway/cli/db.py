"""``jgx db``: the node's database — apply versioned schema migrations, show the schema version."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli._common import EXIT_VERDICT, io_failure
from gateway.config import CONFIG_FILE, ConfigError, load_config
from gateway.storage import StorageError
from gateway.storage.migrations import SchemaState, apply_migrations, schema_state

_DIR = click.option(
    "--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
    help="The node directory holding jgx.toml ([storage] url names the database).",
)  # fmt: skip
_URL = click.option(
    "--storage", "url", default=None, metavar="URL",
    help="A storage URL instead of jgx.toml's, e.g. postgresql://jgx@db:5432/jgx?schema=hub.",
)  # fmt: skip


def _target(directory: Path, url: str | None) -> tuple[str, Path]:
    """The storage URL to work on and the directory relative SQLite paths are taken from."""
    if url is not None:
        return url, directory.resolve()
    try:
        config = load_config(directory / CONFIG_FILE)
    except ConfigError as exc:
        io_failure("无法读取节点配置", "cannot read the node's configuration", exc)
    return config.storage_url, config.directory


def _shown(url: str) -> str:
    """The URL without a password, for printing."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, user = head.partition("//")
    return f"{scheme}//{user.split(':', 1)[0]}:***@{tail}"


@click.group()
def db() -> None:
    """The node's database (数据库): versioned schema migrations.

    \b
    Opening a store applies pending migrations; `jgx db migrate` does it as its own step,
    e.g. before rolling a new release out to several replicas. It is safe to run from
    several replicas at once: each version is applied exactly once.
    Examples:
      jgx db status --dir node/
      jgx db migrate --dir node/
      jgx db migrate --storage 'postgresql://jgx@db.internal:5432/jgx?schema=hub'
    """


def _run(directory: Path, url: str | None, *, apply: bool) -> tuple[str, SchemaState]:
    target, base = _target(directory, url)
    try:
        return target, (apply_migrations if apply else schema_state)(target, base=base)
    except StorageError as exc:
        io_failure("数据库不可用", "the database is not usable", exc)


@db.command()
@_DIR
@_URL
def migrate(directory: Path, url: str | None) -> None:
    """Apply every pending schema migration to the node's database.

    \b
    Exit 0 when the schema is at the latest version afterwards, 2 when the database
    cannot be reached or its URL is wrong.
    Example:
      jgx db migrate --dir node/
    """
    target, state = _run(directory, url, apply=True)
    change = "已是最新 / already current" if state.before == state.after else "已迁移 / migrated"
    click.echo(f"{change}: {state.backend} {_shown(target)} schema {state.before} → {state.after}")


@db.command()
@_DIR
@_URL
def status(directory: Path, url: str | None) -> None:
    """Show the schema version of the node's database and the latest this release knows.

    \b
    Exit 0 when it is current, 1 when migrations are pending (run `jgx db migrate`).
    Example:
      jgx db status --dir node/
    """
    target, state = _run(directory, url, apply=False)
    click.echo(f"{state.backend} {_shown(target)}: schema {state.after}, latest {state.latest}")
    if state.after < state.latest:
        click.echo("有待执行的迁移 / migrations are pending: jgx db migrate", err=True)
        raise SystemExit(EXIT_VERDICT)
