"""Versioned schema of the PostgreSQL store: each migration runs once, recorded in ``schema_migrations``.

The tables mirror the SQLite store's (`gateway.storage.sqlite_schema`) so that both backends keep the
same rows: times are BIGINT microseconds since the Unix epoch (UTC), hashes and envelopes BYTEA exactly
as received. One more table, ``log_head``, holds the log's size in a single row; every append and every
checkpoint locks that row (``UPDATE``/``SELECT … FOR UPDATE``), which makes one writer at a time across every
replica sharing the schema. The SQL is plain: no extensions, no PL/pgSQL, nothing newer than what the
PostgreSQL-protocol databases of the production family (KingbaseES, openGauss) accept.

Migrations are serialised by an exclusive lock on ``schema_migrations``, so replicas that start at the
same time apply each version once. PostgreSQL's DDL is transactional: a migration and its version row
commit together or not at all.
"""

from __future__ import annotations

import contextlib
import re
import time
import urllib.parse
from typing import Final

import asyncpg

__all__ = ["LATEST", "MIGRATIONS", "SCHEMA_NAME", "migrate", "schema_version", "split_url"]

SCHEMA_NAME: Final = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# What PostgreSQL answers the loser when two sessions create the same schema or table at once (after
# the winner committed: unique checks on the catalogue wait for it).
_RACED: Final = (
    asyncpg.UniqueViolationError,
    asyncpg.DuplicateSchemaError,
    asyncpg.DuplicateTableError,
    asyncpg.DuplicateObjectError,
)

_V1: Final = """
CREATE TABLE log_head (                       -- one row: the log's size; locked by every writer
    id   SMALLINT PRIMARY KEY CHECK (id = 1),
    size BIGINT   NOT NULL
);
INSERT INTO log_head (id, size) VALUES (1, 0);
CREATE TABLE leaves (
    idx        BIGINT PRIMARY KEY,            -- contiguous from 0 (the log index)
    leaf       BYTEA  NOT NULL,               -- serialized LogLeaf exactly as hashed
    leaf_hash  BYTEA  NOT NULL                -- SHA-256(0x00 || leaf)
);
CREATE TABLE nodes (                          -- complete subtrees of the RFC 6962 tree
    level SMALLINT NOT NULL,
    idx   BIGINT   NOT NULL,
    hash  BYTEA    NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE messages (                       -- searchable side row of each leaf
    log_index        BIGINT  PRIMARY KEY REFERENCES leaves(idx),
    kind             TEXT    NOT NULL,
    time_us          BIGINT  NOT NULL,
    sender           TEXT    NOT NULL,
    recipient        TEXT    NOT NULL,
    message_id       TEXT    NOT NULL,
    standard         TEXT    NOT NULL,
    standard_version TEXT    NOT NULL,
    correlation_id   TEXT    NOT NULL,
    action           TEXT    NOT NULL,
    outcome          INTEGER NOT NULL,
    reason_codes     TEXT    NOT NULL,        -- space-separated reason codes
    envelope_sha256  BYTEA   NOT NULL,
    envelope         BYTEA,
    payload          BYTEA,
    receipt          BYTEA,
    duplicate_of     BIGINT
);
CREATE INDEX messages_by_message_id ON messages(message_id, sender);
CREATE INDEX messages_by_correlation ON messages(correlation_id);
CREATE TABLE seen (                           -- (sender, message_id) consumed by the replay check,
    sender          TEXT   NOT NULL,          -- shared by every replica: the unique key decides
    message_id      TEXT   NOT NULL,
    log_index       BIGINT NOT NULL REFERENCES leaves(idx),
    envelope_sha256 BYTEA  NOT NULL,
    until_us        BIGINT NOT NULL,
    PRIMARY KEY (sender, message_id)
);
CREATE INDEX seen_by_digest ON seen(envelope_sha256);
CREATE INDEX seen_by_until ON seen(until_us);
CREATE TABLE checkpoints (
    size      BIGINT PRIMARY KEY,
    root_hash BYTEA  NOT NULL,
    note      TEXT   NOT NULL,
    time_us   BIGINT NOT NULL
);
CREATE TABLE outbox (
    id                 BIGSERIAL PRIMARY KEY,
    log_index          BIGINT  NOT NULL REFERENCES leaves(idx),
    recipient          TEXT    NOT NULL,
    state              TEXT    NOT NULL DEFAULT 'pending',
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_us    BIGINT  NOT NULL,
    claimed_until_us   BIGINT  NOT NULL DEFAULT 0,
    claimed_by         TEXT    NOT NULL DEFAULT '',
    last_error         TEXT    NOT NULL DEFAULT '',
    delivery_index     BIGINT
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_us);
CREATE TABLE audit (
    id      BIGSERIAL PRIMARY KEY,
    time_us BIGINT NOT NULL,
    actor   TEXT   NOT NULL,
    action  TEXT   NOT NULL,
    detail  TEXT   NOT NULL
)
"""

# Delivery claims the oldest pending row of each (sender, recipient) channel.
_V2: Final = """
CREATE INDEX outbox_by_channel ON outbox(recipient, state, id)
"""

# The operator console: search indexes ending in (time_us, log_index) for keyset pages newest first,
# one row per reason code, accounts and sessions (the same shape as SQLite's version 3).
_V3: Final = """
CREATE INDEX messages_by_time ON messages(time_us, log_index);
CREATE INDEX messages_by_sender_time ON messages(sender, time_us, log_index);
CREATE INDEX messages_by_recipient_time ON messages(recipient, time_us, log_index);
CREATE INDEX messages_by_standard_time ON messages(standard, time_us, log_index);
CREATE INDEX messages_by_outcome_time ON messages(outcome, time_us, log_index);
CREATE INDEX messages_with_action ON messages(time_us, log_index) WHERE action <> '';
CREATE TABLE message_reasons (
    reason    TEXT   NOT NULL,
    time_us   BIGINT NOT NULL,
    log_index BIGINT NOT NULL REFERENCES leaves(idx),
    PRIMARY KEY (reason, time_us, log_index)
);
INSERT INTO message_reasons (reason, time_us, log_index)
    SELECT DISTINCT code, time_us, log_index
    FROM messages, unnest(string_to_array(reason_codes, ' ')) AS code
    WHERE reason_codes <> '' AND code <> '';
CREATE INDEX outbox_by_log_index ON outbox(log_index);
CREATE TABLE users (
    username      TEXT   PRIMARY KEY,
    role          TEXT   NOT NULL,
    node          TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    created_us    BIGINT NOT NULL
);
CREATE TABLE sessions (
    token_sha256 BYTEA  PRIMARY KEY,
    username     TEXT   NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    csrf_token   TEXT   NOT NULL,
    created_us   BIGINT NOT NULL,
    expires_us   BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(username);
CREATE INDEX sessions_by_expiry ON sessions(expires_us)
"""

# Delivery claims that keep up with a backlog (the same shape as SQLite's version 4): each outbox row
# names its (sender, recipient) channel, and a partial index over the pending rows by (channel, id)
# gives every channel's head with one index probe per channel, instead of an anti-join over the backlog.
_V4: Final = """
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT '';
UPDATE outbox SET channel = COALESCE(
    (SELECT m.sender FROM messages m WHERE m.log_index = outbox.log_index), '') || '>' || recipient;
CREATE INDEX outbox_pending_by_channel ON outbox(channel, id) WHERE state = 'pending'
"""

# Version 5: the log audit reads the seen and reason rows of each range of leaves (`Store.side_rows`).
_V5: Final = """
CREATE INDEX seen_by_log_index ON seen(log_index);
CREATE INDEX message_reasons_by_log_index ON message_reasons(log_index)
"""

# Version 6: the log's hash profile, fixed when the log is created (as SQLite's version 6).
_V6: Final = """
CREATE TABLE log_profile (id SMALLINT PRIMARY KEY CHECK (id = 1), hash TEXT NOT NULL);
INSERT INTO log_profile (id, hash) SELECT 1, 'sha256'
    WHERE EXISTS (SELECT 1 FROM leaves) OR EXISTS (SELECT 1 FROM checkpoints)
"""

# version -> SQL script. Append new versions; never edit an applied one.
MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3, 4: _V4, 5: _V5, 6: _V6}
LATEST: Final = max(MIGRATIONS)


def split_url(url: str) -> tuple[str, str | None]:
    """(asyncpg DSN, schema) from a store URL: the ``schema`` query parameter is ours, the rest asyncpg's."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), None)
    if schema is not None and not SCHEMA_NAME.match(schema):
        raise ValueError(f"schema name {schema!r} must match {SCHEMA_NAME.pattern}")
    rest = urllib.parse.urlencode([(key, value) for key, value in query if key != "schema"])
    scheme = "postgresql" if parts.scheme in {"postgres", "postgresql"} else parts.scheme
    return urllib.parse.urlunsplit((scheme, parts.netloc, parts.path, rest, parts.fragment)), schema


async def _ensure_schema(conn: asyncpg.Connection, schema: str | None) -> None:
    """Create ``schema`` (the store's own namespace) if it does not exist yet."""
    if schema is None:
        return
    if not SCHEMA_NAME.match(schema):
        raise ValueError(f"schema name {schema!r} must match {SCHEMA_NAME.pattern}")
    exists = await conn.fetchval("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", schema)
    if exists is None:
        with contextlib.suppress(*_RACED):  # another replica created it meanwhile
            await conn.execute(f"CREATE SCHEMA {schema}")


async def schema_version(conn: asyncpg.Connection) -> int:
    """The version the database is at (0 before the first migration)."""
    exists = await conn.fetchval(
        "SELECT 1 FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
    )
    if exists is None:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


async def migrate(conn: asyncpg.Connection, *, schema: str | None = None) -> tuple[int, int]:
    """Apply every migration newer than the database's version: (version before, version after)."""
    await _ensure_schema(conn, schema)
    # Two replicas may race on this statement; the loser's error is harmless, the lock orders the rest.
    with contextlib.suppress(*_RACED):
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_us BIGINT)"
        )
    async with conn.transaction():
        await conn.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
        before = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
        for version in sorted(v for v in MIGRATIONS if v > before):
            await conn.execute(MIGRATIONS[version])  # a script: the simple query protocol runs it whole
            await conn.execute(
                "INSERT INTO schema_migrations (version, applied_at_us) VALUES ($1, $2)",
                version,
                time.time_ns() // 1000,
            )
    return before, max(before, LATEST)
