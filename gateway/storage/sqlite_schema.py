"""Versioned schema of the SQLite store: each migration runs once, recorded in ``schema_migrations``.

Times are integers (microseconds since the Unix epoch, UTC) so that "due" comparisons are exact and
independent of text formats. Hashes and envelopes are BLOBs, kept exactly as received.
"""

from __future__ import annotations

import sqlite3
import time

__all__ = ["MIGRATIONS", "migrate"]

_V1 = """
CREATE TABLE leaves (
    idx        INTEGER PRIMARY KEY,           -- contiguous from 0 (the log index)
    leaf       BLOB    NOT NULL,              -- serialized LogLeaf exactly as hashed
    leaf_hash  BLOB    NOT NULL               -- SHA-256(0x00 || leaf)
);
CREATE TABLE nodes (                          -- complete subtrees of the RFC 6962 tree
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE messages (                       -- searchable side row of each leaf
    log_index        INTEGER PRIMARY KEY REFERENCES leaves(idx),
    kind             TEXT    NOT NULL,
    time_us          INTEGER NOT NULL,
    sender           TEXT    NOT NULL,
    recipient        TEXT    NOT NULL,
    message_id       TEXT    NOT NULL,
    standard         TEXT    NOT NULL,
    standard_version TEXT    NOT NULL,
    correlation_id   TEXT    NOT NULL,
    action           TEXT    NOT NULL,
    outcome          INTEGER NOT NULL,
    reason_codes     TEXT    NOT NULL,        -- space-separated reason codes
    envelope_sha256  BLOB    NOT NULL,
    envelope         BLOB,
    payload          BLOB,
    receipt          BLOB,
    duplicate_of     INTEGER
);
CREATE INDEX messages_by_message_id ON messages(message_id, sender);
CREATE INDEX messages_by_correlation ON messages(correlation_id) WHERE correlation_id <> '';
CREATE TABLE seen (                           -- (sender, message_id) consumed by the replay check
    sender          TEXT    NOT NULL,
    message_id      TEXT    NOT NULL,
    log_index       INTEGER NOT NULL REFERENCES leaves(idx),
    envelope_sha256 BLOB    NOT NULL,
    until_us        INTEGER NOT NULL,
    PRIMARY KEY (sender, message_id)
);
CREATE INDEX seen_by_digest ON seen(envelope_sha256);
CREATE INDEX seen_by_until ON seen(until_us);
CREATE TABLE checkpoints (
    size      INTEGER PRIMARY KEY,
    root_hash BLOB    NOT NULL,
    note      TEXT    NOT NULL,
    time_us   INTEGER NOT NULL
);
CREATE TABLE outbox (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    log_index          INTEGER NOT NULL REFERENCES leaves(idx),
    recipient          TEXT    NOT NULL,
    state              TEXT    NOT NULL DEFAULT 'pending',
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_us    INTEGER NOT NULL,
    claimed_until_us   INTEGER NOT NULL DEFAULT 0,
    claimed_by         TEXT    NOT NULL DEFAULT '',
    last_error         TEXT    NOT NULL DEFAULT '',
    delivery_index     INTEGER
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_us);
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    time_us INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    detail  TEXT    NOT NULL
);
"""

# Delivery claims the oldest pending row of each (sender, recipient) channel.
_V2 = """
CREATE INDEX outbox_by_channel ON outbox(recipient, state, id);
"""

# Version 3: the operator console. Search indexes end in (time_us, log_index) so that every filter
# walks its index newest first and continues from a keyset cursor; reason codes get a table of their
# own (one row per code) so "outcome + reason" is an index range, not a scan of the text column.
_V3 = """
CREATE INDEX messages_by_time ON messages(time_us, log_index);
CREATE INDEX messages_by_sender_time ON messages(sender, time_us, log_index);
CREATE INDEX messages_by_recipient_time ON messages(recipient, time_us, log_index);
CREATE INDEX messages_by_standard_time ON messages(standard, time_us, log_index);
CREATE INDEX messages_by_outcome_time ON messages(outcome, time_us, log_index);
CREATE INDEX messages_with_action ON messages(time_us, log_index) WHERE action <> '';
CREATE TABLE message_reasons (
    reason    TEXT    NOT NULL,
    time_us   INTEGER NOT NULL,
    log_index INTEGER NOT NULL REFERENCES leaves(idx),
    PRIMARY KEY (reason, time_us, log_index)
) WITHOUT ROWID;
WITH RECURSIVE split(log_index, time_us, rest, code) AS (
    SELECT log_index, time_us, reason_codes || ' ', '' FROM messages WHERE reason_codes <> ''
    UNION ALL
    SELECT log_index, time_us, substr(rest, instr(rest, ' ') + 1), substr(rest, 1, instr(rest, ' ') - 1)
    FROM split WHERE rest <> ''
)
INSERT OR IGNORE INTO message_reasons (reason, time_us, log_index)
    SELECT code, time_us, log_index FROM split WHERE code <> '';
CREATE INDEX outbox_by_log_index ON outbox(log_index);
CREATE TABLE users (
    username      TEXT    PRIMARY KEY,
    role          TEXT    NOT NULL,           -- operator | auditor | department
    node          TEXT    NOT NULL,           -- the department's node id ('' for other roles)
    password_hash TEXT    NOT NULL,           -- scrypt$N$r$p$salt$hash
    created_us    INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_sha256 BLOB    PRIMARY KEY,         -- the cookie holds the token; only its digest is stored
    username     TEXT    NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_us   INTEGER NOT NULL,
    expires_us   INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(username);
CREATE INDEX sessions_by_expiry ON sessions(expires_us);
"""

# Version 4: delivery claims that keep up with a backlog. Each outbox row names its (sender, recipient)
# channel in one column, and a partial index over the pending rows by (channel, id) lets a claim find
# every channel's head with one index probe per channel (a skip scan), whatever the backlog.
_V4 = """
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT '';
UPDATE outbox SET channel = COALESCE(
    (SELECT m.sender FROM messages m WHERE m.log_index = outbox.log_index), '') || '>' || recipient;
CREATE INDEX outbox_pending_by_channel ON outbox(channel, id) WHERE state = 'pending';
"""

# Version 5: the log audit reads the seen and reason rows of each range of leaves (`Store.side_rows`).
_V5 = """
CREATE INDEX seen_by_log_index ON seen(log_index);
CREATE INDEX message_reasons_by_log_index ON message_reasons(log_index);
"""

# Version 6: the log's hash profile, fixed when the log is created (`gateway.treehash`). A log that
# already had leaves or checkpoints was built with SHA-256; an empty one takes the profile of the first
# store that opens it (`gateway.storage.profile`).
_V6 = """
CREATE TABLE log_profile (id INTEGER PRIMARY KEY CHECK (id = 1), hash TEXT NOT NULL);
INSERT INTO log_profile (id, hash) SELECT 1, 'sha256'
    WHERE EXISTS (SELECT 1 FROM leaves) OR EXISTS (SELECT 1 FROM checkpoints);
"""

# version -> SQL script. Append new versions; never edit an applied one.
MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3, 4: _V4, 5: _V5, 6: _V6}


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration newer than the database's version; return the resulting version."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_us INTEGER)"
    )
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    current = int(row[0])
    for version in sorted(v for v in MIGRATIONS if v > current):
        # executescript commits implicitly, so each migration is wrapped in its own transaction.
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{MIGRATIONS[version]}\n"
            f"INSERT INTO schema_migrations VALUES ({version}, {time.time_ns() // 1000});\nCOMMIT;"
        )
        current = version
    return current
