"""``jgx db migrate`` and ``jgx db status`` on both backends, from jgx.toml or an explicit URL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.config import CONFIG_FILE, default_config, render_config
from gateway.storage import sqlite_schema
from gateway.storage.postgres_schema import LATEST
from tests.gateway.storage.pgschema import drop_schema, new_schema_url


def test_migrate_brings_a_new_sqlite_file_to_the_latest_version(tmp_path: Path) -> None:
    """status reports pending migrations (exit 1); migrate applies them once; status is then current."""
    config = default_config(tmp_path, "sc.hub")
    (tmp_path / CONFIG_FILE).write_text(render_config(config), encoding="utf-8")
    runner = CliRunner()
    before = runner.invoke(main, ["db", "status", "--dir", str(tmp_path)])
    first = runner.invoke(main, ["db", "migrate", "--dir", str(tmp_path)])
    second = runner.invoke(main, ["db", "migrate", "--dir", str(tmp_path)])
    after = runner.invoke(main, ["db", "status", "--dir", str(tmp_path)])
    assert (1, 0, 0, 0) == (before.exit_code, first.exit_code, second.exit_code, after.exit_code)
    assert f"schema 0 → {max(sqlite_schema.MIGRATIONS)}" in first.output
    assert "already current" in second.output
    assert (tmp_path / "jgx.db").exists()


@pytest.mark.postgres
def test_migrate_creates_and_migrates_a_postgresql_schema() -> None:
    """An explicit postgresql:// URL with a new schema is created and migrated to the latest version."""
    url, schema = new_schema_url("cli")
    try:
        migrated = CliRunner().invoke(main, ["db", "migrate", "--storage", url])
        status = CliRunner().invoke(main, ["db", "status", "--storage", url])
    finally:
        asyncio.run(drop_schema(schema))
    assert (0, 0) == (migrated.exit_code, status.exit_code), migrated.output
    assert f"schema 0 → {LATEST}" in migrated.output
    assert f"schema {LATEST}, latest {LATEST}" in status.output


def test_an_unreachable_database_or_missing_configuration_exits_2(tmp_path: Path) -> None:
    """A server that refuses connections, an unknown scheme or no jgx.toml is a usage/I-O error."""
    runner = CliRunner()
    refused = runner.invoke(main, ["db", "migrate", "--storage", "postgresql://jgx:secret@127.0.0.1:1/x"])
    unknown = runner.invoke(main, ["db", "migrate", "--storage", "mysql://db/jgx"])
    missing = runner.invoke(main, ["db", "status", "--dir", str(tmp_path)])
    assert (2, 2, 2) == (refused.exit_code, unknown.exit_code, missing.exit_code)
    assert "secret" not in refused.output
