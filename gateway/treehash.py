"""The exchange log's hash profile: which hash builds the Merkle tree and the digests a leaf commits to.

Pure: no I/O and no global state beyond the two constant profiles. ``sha256`` is RFC 6962 exactly;
``sm3`` is the same tree (0x00 leaf and 0x01 node prefixes, the same split) with SM3 (GB/T 32905) in
place of SHA-256, for a 国密 federation. A log takes its profile when it is created and keeps it.

SM3 is `gateway.sm2.sm3`, the one SM3 of jgx: ``hashlib``'s when its OpenSSL offers ``sm3`` (OpenSSL 3
usually does, but a build may leave it out), else ``cryptography``'s; each is tested against GB/T 32905.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from gateway.errors import ReasonCode, VerificationError
from gateway.keys import Algorithm
from gateway.sm2 import sm3

__all__ = [
    "PROFILES",
    "SHA256",
    "SM3",
    "TreeHash",
    "UnknownProfileError",
    "default_profile",
    "profile",
]

def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass(frozen=True, slots=True)
class TreeHash:
    """One hash profile: its name (as configured and declared in checkpoints) and its hash function."""

    name: str
    digest: Callable[[bytes], bytes]
    size: int = 32

    def leaf(self, data: bytes) -> bytes:
        """The leaf hash ``H(0x00 || data)`` (RFC 6962 §2.1)."""
        return self.digest(b"\x00" + data)

    def node(self, left: bytes, right: bytes) -> bytes:
        """The interior node hash ``H(0x01 || left || right)`` (RFC 6962 §2.1)."""
        return self.digest(b"\x01" + left + right)

    @property
    def empty_root(self) -> bytes:
        """MTH({}) = H(""): the root of the empty tree."""
        return self.digest(b"")

    def __repr__(self) -> str:
        return f"TreeHash({self.name!r})"


SHA256: Final = TreeHash("sha256", _sha256)
"""RFC 6962 as published: SHA-256 (the default profile)."""
SM3: Final = TreeHash("sm3", sm3)
"""The 国密 profile: the RFC 6962 tree with SM3."""
PROFILES: Final = {SHA256.name: SHA256, SM3.name: SM3}


class UnknownProfileError(VerificationError):
    """A hash profile name jgx does not know (MALFORMED)."""

    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(PROFILES)
        super().__init__(
            ReasonCode.MALFORMED, f"未知的日志哈希方案 / unknown log hash profile {name!r} (known: {known})"
        )


def profile(name: str) -> TreeHash:
    """The profile called ``name`` (``sha256`` or ``sm3``); UnknownProfileError otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfileError(name) from None


def default_profile(algorithm: Algorithm) -> TreeHash:
    """The profile a new log takes when none is named: sm3 for an SM2 node (国密), else sha256."""
    return SM3 if algorithm is Algorithm.SM2_SM3 else SHA256
