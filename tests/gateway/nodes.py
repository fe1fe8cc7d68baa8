"""Node directories for CLI and process tests: a federation's hub with its key, trust file and jgx.toml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gateway.testing import Federation

ROOT = Path(__file__).resolve().parents[2]


def write_node(directory: Path, fed: Federation, *, checkpoint_interval: float = 0.2) -> Path:
    """Write sc.hub's node directory for ``fed``; return it."""
    (directory / "keys").mkdir(parents=True, exist_ok=True)
    (directory / "keys" / "sc.hub.pem").write_bytes(fed.keys["sc.hub"].to_pem())
    (directory / "trust.json").write_bytes(fed.signed_trust)
    (directory / "jgx.toml").write_text(
        "[node]\n"
        'id = "sc.hub"\n'
        'signing_key = "keys/sc.hub.pem"\n'
        'trust = "trust.json"\n'
        "[server]\n"
        'listen = "127.0.0.1:0"\n'
        "[storage]\n"
        'sqlite = "jgx.db"\n'
        "[log]\n"
        "checkpoint_every = 50\n"
        f"checkpoint_interval_seconds = {checkpoint_interval}\n",
        encoding="utf-8",
    )
    return directory


def jgx(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the jgx CLI in a child process and wait for it."""
    return subprocess.run(
        [sys.executable, "-c", "from gateway.cli import main; main()", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


class ServeProcess:
    """``jgx serve`` in a child process; `port` once it listens."""

    def __init__(self, directory: Path, *extra: str) -> None:
        """Start serving ``directory`` (with ``extra`` arguments) and wait until it listens."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from gateway.cli import main; main()",
                "serve",
                "--dir",
                str(directory),
                *extra,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stderr is not None
        self.port = 0
        self.banner: list[str] = []
        for line in self.process.stderr:
            self.banner.append(line)
            if "listening on" in line:
                self.port = int(line.split("listening on ", 1)[1].split()[0].rsplit(":", 1)[1])
                break
        assert self.port, "jgx serve did not start"

    def terminate(self) -> int:
        """SIGTERM (graceful drain) and wait; the exit code."""
        self.process.terminate()
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.process.kill()
        self.process.wait(timeout=60)
