"""A throw-away MariaDB database per test, on the server at 127.0.0.1:3306 (CI starts it, see .ci/run).

``JGX_TEST_MARIADB`` overrides the server URL. A test that needs MariaDB FAILS with a clear message when
the server cannot be reached, as the PostgreSQL tests do: MySQL/MariaDB front databases are part of the
product, so their tests never skip silently.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pymysql
import pytest
import sqlalchemy as sa

SERVER = os.environ.get("JGX_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4")


def _admin() -> pymysql.connections.Connection[pymysql.cursors.Cursor]:
    url = sa.make_url(SERVER)
    try:
        return pymysql.connect(
            host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
            password=url.password or "", database=url.database, connect_timeout=10,
        )  # fmt: skip
    except pymysql.MySQLError as exc:
        pytest.fail(
            f"MariaDB is not reachable at {url.host}:{url.port} ({exc}). The bridge's database tests "
            "run on SQLite, PostgreSQL and MariaDB: start MariaDB (CI does, see .ci/run) or set "
            "JGX_TEST_MARIADB.",
            pytrace=False,
        )


@contextmanager
def fresh_database(prefix: str = "qzk", charset: str = "utf8mb4") -> Iterator[str]:
    """The name of a new, empty database (MySQL's schema) whose default character set is ``charset``; it
    and everything in it is dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = _admin()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name} CHARACTER SET {charset}")
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()
