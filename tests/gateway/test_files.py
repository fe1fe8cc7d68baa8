"""Whole-file replacement that replicas sharing a node directory can do at the same moment."""

from __future__ import annotations

import threading
from pathlib import Path

from gateway._files import replace_file
from gateway.cli._node import last_used_trust, remember_trust
from gateway.config import default_config
from gateway.loghead import LogHead


def _race(write: object, writers: int = 16, rounds: int = 40) -> list[BaseException]:
    """Run ``write(n)`` from many threads at once; return what any of them raised."""
    assert callable(write)
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def writer(n: int) -> None:
        start.wait()
        for _ in range(rounds):
            try:
                write(n)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_replicas_remember_their_trust_file_at_once(tmp_path: Path) -> None:
    """Replicas starting together in one directory all record the trust document; none fails the other."""
    config = default_config(tmp_path, "sc.hub")
    versions = {n: f"version {n} ".encode() * 200 for n in range(16)}
    assert [] == _race(lambda n: remember_trust(config, versions[n]))
    record = last_used_trust(config)
    assert record.read_bytes() in versions.values()
    assert [record.name] == sorted(p.name for p in record.parent.iterdir())  # no temporary left behind


def test_a_replacement_is_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    """replace_file creates the folder, writes the bytes whole and cleans up after itself."""
    target = tmp_path / "a" / "b.txt"
    replace_file(target, b"one")
    replace_file(target, b"two")
    assert (b"two", ["b.txt"]) == (target.read_bytes(), [p.name for p in target.parent.iterdir()])


def test_two_log_heads_of_one_directory_checkpoint_at_once(tmp_path: Path) -> None:
    """Replicas sharing a node directory both record checkpoints; neither write fails the other."""
    heads = [LogHead(tmp_path) for _ in range(2)]
    notes = [f"jgx.exchange-log/sc.hub\n{n}\nroot\n\n— sig\n" for n in range(2)]
    assert [] == _race(lambda n: heads[n % 2].checkpointed(notes[n % 2]), writers=8)
    assert heads[0].checkpoint_note() in notes
