"""Replacing a file whole, so a reader never sees half of it and two writers never trip over each other.

Replicas of one node may share its directory, and `jgx pki` may run while nodes re-read the CRL: each
write goes to a temporary file of its own (a unique name beside the target), is fsynced, and is renamed
over the target; the folder is fsynced so the rename survives a crash. A fixed temporary name would let
two processes truncate each other's file or rename it away under the other.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["fsync_folder", "replace_file"]


def replace_file(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Make ``path`` hold ``data``: a unique temporary file beside it, fsync, rename, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """fsync a directory, so the names in it (a rename, a new file) are durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
