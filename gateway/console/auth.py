"""Accounts of the console: scrypt password hashes, session tokens, roles and what each role may see.

Pure: no I/O and no clock reads. Passwords are hashed with scrypt (RFC 7914) from the standard library
into a self-describing string ``scrypt$N$r$p$salt$hash`` (base64 salt and hash), so parameters can grow
later without breaking stored hashes. Session tokens are 32 random bytes; the store keeps only their
SHA-256, so a copy of the database does not hand out live sessions.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final

__all__ = [
    "Principal",
    "Role",
    "check_password",
    "hash_password",
    "new_csrf_token",
    "new_session_token",
    "token_digest",
]

SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_SALT_BYTES: Final = 16
_HASH_BYTES: Final = 32
MIN_PASSWORD_LENGTH: Final = 10


class Role(enum.StrEnum):
    """What a console user is: 运维 operator, 审计 auditor, or a 部门 department's user."""

    OPERATOR = "operator"  # runs the exchange: replays dead letters; sees payloads masked
    AUDITOR = "auditor"  # checks the log: sees everything, payloads unmasked, changes nothing
    DEPARTMENT = "department"  # one node's user: sees only what its node sent or received


@dataclass(frozen=True, slots=True)
class Principal:
    """The logged-in user as the console's checks see it."""

    username: str
    role: Role
    node: str = ""

    @property
    def party(self) -> str:
        """The node a department user is confined to ('' for the other roles)."""
        return self.node if self.role == Role.DEPARTMENT else ""

    def may_see(self, sender: str, recipient: str) -> bool:
        """Whether a log row between ``sender`` and ``recipient`` is visible to this user."""
        return self.role != Role.DEPARTMENT or self.node in (sender, recipient)

    @property
    def may_replay(self) -> bool:
        """Only operators put dead letters back on the queue."""
        return self.role == Role.OPERATOR

    @property
    def may_audit(self) -> bool:
        """Operators and auditors read the audit log of operator actions."""
        return self.role in (Role.OPERATOR, Role.AUDITOR)

    def sees_personal_data(self, sender: str, recipient: str) -> bool:
        """Auditors, and a department for its own messages, see payloads unmasked (SC-20)."""
        if self.role == Role.AUDITOR:
            return True
        return self.role == Role.DEPARTMENT and self.node in (sender, recipient)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The scrypt hash string of ``password`` with a fresh random salt (or ``salt``, for tests)."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=_HASH_BYTES
    )
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the stored hash string; False for any malformed string."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
        if n > 2**20 or r > 32 or p > 16:  # refuse parameters that would exhaust memory
            return False
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=2**27
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


def new_session_token() -> str:
    """A fresh random session token (URL-safe text, 256 bits)."""
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    """A fresh random CSRF token for one session."""
    return secrets.token_urlsafe(24)


def token_digest(token: str) -> bytes:
    """The SHA-256 under which a session token is stored."""
    return hashlib.sha256(token.encode("utf-8")).digest()
