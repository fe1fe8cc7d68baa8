"""The node directory's own record of how far its log went: ``log/checkpoint.note`` and ``log/receipted``.

A database can lose its tail (a WAL file deleted or truncated, a restore from an older backup, a
PostgreSQL schema dropped) while the node directory survives. Every checkpoint the node signed went
out to auditors, and every receipt named a log index: the node must never append at an index such a
signature already covered, or it would sign a fork. So the directory keeps, beside the database:

- ``log/checkpoint.note``: the latest signed checkpoint, replaced atomically and fsynced each time the
  node stores one (every ``--checkpoint-every`` leaves or ``--checkpoint-interval`` seconds);
- ``log/receipted``: the log size after the latest commit whose receipts were released, written in
  place after the commit and before any of its receipts leaves the node. It is not fsynced: the
  database's own commit is (``synchronous=FULL``), so a power cut that loses this write also kept the
  commit, and the stale value it leaves is smaller, never larger, than the truth.

The ``log/`` directory itself is the marker that this directory had a database: `jgx serve` refuses to
create a new empty one there (`gateway.startcheck`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from gateway._files import fsync_folder, replace_file

__all__ = ["LogHead"]

_WIDTH = 20  # decimal digits of a uint64, zero-padded so that each write replaces the whole value


class LogHead:
    """Reads and writes ``DIR/log/checkpoint.note`` and ``DIR/log/receipted``."""

    def __init__(self, directory: Path) -> None:
        """The record of the node directory ``directory`` (nothing is created before `open`)."""
        self.folder = directory / "log"
        self.note_path = self.folder / "checkpoint.note"
        self.receipted_path = self.folder / "receipted"
        self._fd: int | None = None
        self._receipted = 0

    def exists(self) -> bool:
        """True when this directory recorded a log before (its database existed)."""
        return self.folder.is_dir()

    def checkpoint_note(self) -> str | None:
        """The latest signed checkpoint note the node stored, or None."""
        try:
            return self.note_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def receipted(self) -> int:
        """The log size the latest released receipts covered (0 when unknown or unreadable)."""
        try:
            text = self.receipted_path.read_bytes().decode("ascii", errors="replace").strip("\x00 \n")
        except FileNotFoundError:
            return 0
        return int(text) if text.isdigit() else 0

    def open(self) -> None:
        """Create ``log/`` (the marker) and open ``log/receipted`` for in-place writes."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._receipted = self.receipted()
        self._fd = os.open(self.receipted_path, os.O_RDWR | os.O_CREAT, 0o644)
        self._write_receipted(self._receipted)
        fsync_folder(self.folder)

    def committed(self, size: int) -> None:
        """Record that receipts up to log size ``size`` are about to be released (called after commit)."""
        if size > self._receipted and self._fd is not None:
            self._receipted = size
            self._write_receipted(size)

    def _write_receipted(self, size: int) -> None:
        assert self._fd is not None
        os.pwrite(self._fd, f"{size:0{_WIDTH}d}\n".encode("ascii"), 0)

    def checkpointed(self, note: str) -> None:
        """Replace ``log/checkpoint.note`` with ``note``, durably (write, fsync, rename, fsync the folder)."""
        replace_file(self.note_path, note.encode("utf-8"))

    def close(self) -> None:
        """Flush ``log/receipted`` to disk and close it."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
