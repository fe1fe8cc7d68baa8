"""The build digest an adapter puts in its manifest: SHA-256 over the source of the packages it runs.

A certificate binds the adapter's build digest (DESIGN §8), so the digest must change whenever the
code that judges, signs and maps changes, and be reproducible from an installed tree.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["build_digest"]


def build_digest(packages: Sequence[str] = ("adapters", "gateway", "standards")) -> str:
    """Lowercase hex SHA-256 over each package's files (relative path, length, bytes), in sorted order."""
    digest = hashlib.sha256()
    for name in packages:
        root = Path(importlib.import_module(name).__file__ or "").parent
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            data = path.read_bytes()
            digest.update(f"{name}/{path.relative_to(root).as_posix()} {len(data)}\n".encode())
            digest.update(data)
    return digest.hexdigest()
