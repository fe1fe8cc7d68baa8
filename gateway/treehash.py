"""The exchange log's hash profile: which hash builds the Merkle tree and the digests a leaf commits to.

Pure: no I/O and no global state beyond the two constant profiles. ``sha256`` is RFC 6962 exactly;
``sm3`` is the same tree (0x00 leaf and 0x01 node prefixes, the same split) with SM3 (GB/T 32905) in
place of SHA-256, for a 国密 federation. A log takes its profile when it is created and keeps it.

SM3 comes from Python's ``hashlib`` when its OpenSSL offers ``sm3`` (OpenSSL 3 usually does, but a
build may leave it out), and from Tongsuo (``tongsuopy``) otherwise; both give GB/T 32905's digests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from tongsuopy.crypto import hashes as tongsuo_hashes

from gateway.errors import ReasonCode, VerificationError

__all__ = [
    "PROFILES",
    "SHA256",
    "SM3",
    "TreeHash",
    "UnknownProfileError",
    "profile",
    "sm3_hashlib",
    "sm3_tongsuo",
]

_ABC_SM3: Final = bytes.fromhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
"""SM3("abc"), GB/T 32905-2016 Annex A example 1: the fast path is taken only if it reproduces this."""


def sm3_tongsuo(data: bytes) -> bytes:
    """SM3 of ``data`` through Tongsuo (always available: tongsuopy is a dependency)."""
    h = tongsuo_hashes.Hash(tongsuo_hashes.SM3())
    h.update(data)
    return bytes(h.finalize())


def _hashlib_sm3() -> Callable[[bytes], bytes] | None:
    try:
        hashlib.new("sm3", b"abc")
    except ValueError:  # this OpenSSL build has no SM3
        return None

    def digest(data: bytes) -> bytes:
        return hashlib.new("sm3", data).digest()

    return digest if digest(b"abc") == _ABC_SM3 else None


sm3_hashlib: Final = _hashlib_sm3()
"""SM3 through ``hashlib`` (OpenSSL), or None where this Python's OpenSSL lacks it."""


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
SM3: Final = TreeHash("sm3", sm3_hashlib or sm3_tongsuo)
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
