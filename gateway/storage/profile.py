"""The log's hash profile as its database records it (table ``log_profile``, schema version 6).

The first store that opens a log records its profile there (a log that had leaves before profiles
existed was recorded ``sha256`` by the migration); every later open must name the same one.
"""

from __future__ import annotations

from typing import Final

from gateway.storage.base import LogProfileMismatch
from gateway.treehash import PROFILES, SHA256, TreeHash

__all__ = ["READ", "RECORD_POSTGRES", "RECORD_SQLITE", "settle"]

RECORD_SQLITE: Final = "INSERT OR IGNORE INTO log_profile (id, hash) VALUES (1, ?)"
RECORD_POSTGRES: Final = "INSERT INTO log_profile (id, hash) VALUES (1, $1) ON CONFLICT DO NOTHING"
READ: Final = "SELECT hash FROM log_profile WHERE id = 1"


def settle(recorded: str, wanted: TreeHash | None) -> TreeHash:
    """The profile a store works with: the one ``recorded``, which must be ``wanted``.

    ``wanted`` None (a reader of a database named without its jgx.toml) adopts the recorded profile.
    LogProfileMismatch otherwise.
    """
    if wanted is None and recorded in PROFILES:
        return PROFILES[recorded]
    configured = wanted or SHA256
    if recorded != configured.name:
        raise LogProfileMismatch(recorded, configured.name)
    return configured
