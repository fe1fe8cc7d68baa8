"""Node directories for CLI and process tests: a federation's hub with its key, trust file and jgx.toml."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc

from gateway.config import CONFIG_FILE, default_config, render_config
from gateway.pki import create_ca, issue_node_certificate
from gateway.testing import Federation
from gateway.tls import channel_credentials

ROOT = Path(__file__).resolve().parents[2]


def write_node(directory: Path, fed: Federation) -> Path:
    """Write sc.hub's node directory for ``fed`` (its key and trust, a test CA and TLS certificate)."""
    config = default_config(directory, "sc.hub")
    paths = config.paths
    now = datetime.now(UTC)  # certificates are checked against the real clock by TLS
    ca_cert, ca_key = create_ca("jgx test CA", now)
    tls_cert, tls_key = issue_node_certificate(ca_cert, ca_key, "sc.hub", now=now)
    for path, data in (
        (paths.node_key, fed.keys["sc.hub"].to_pem()),
        (paths.trust, fed.signed_trust),
        (paths.tls_ca, ca_cert),
        (directory / "tls" / "ca.key", ca_key),
        (paths.tls_cert, tls_cert),
        (paths.tls_key, tls_key),
        (directory / CONFIG_FILE, render_config(config).encode()),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return directory


def client_credentials(directory: Path, node_id: str) -> grpc.ChannelCredentials:
    """mTLS credentials of ``node_id`` issued by the node directory's test CA."""
    ca_cert = (directory / "tls" / "ca.crt").read_bytes()
    cert, key = issue_node_certificate(
        ca_cert, (directory / "tls" / "ca.key").read_bytes(), node_id, now=datetime.now(UTC)
    )
    return channel_credentials(cert, key, ca_cert)


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
        assert self.port, "jgx serve did not start: " + "".join(self.banner)[-3000:]

    def terminate(self) -> int:
        """SIGTERM (graceful drain) and wait; the exit code."""
        self.process.terminate()
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.process.kill()
        self.process.wait(timeout=60)


@dataclass(frozen=True)
class UnreadableFinding:
    """A finding whose pointer raises when read: a validator bug, so its receipt cannot be built as judged."""

    rule_id: str = "SC-06.S005"
    clause: str = "SC-06 4.5"
    severity: str = "warning"
    message_zh: str = "坏"
    message_en: str = "bad"

    @property
    def pointer(self) -> str:
        raise RuntimeError("a validator bug")
