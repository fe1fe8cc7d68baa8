"""docs/integrator-guide.md §5 as printed: a new user certifies the market-regulation reference adapter."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "integrator-guide.md").read_text("utf-8")


def section_commands() -> list[str]:
    """The shell blocks of §5, one command per block line (continuations joined)."""
    section = GUIDE.split("## 5. Certify your adapter", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return [line for block in blocks for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_the_certification_walk_through_runs_as_printed(tmp_path: Path) -> None:
    """Every command of the walk-through exits 0, leaving the HTML report and a valid certificate, and the
    adapter's production store is never created (the suite's traffic went to the scratch store)."""
    port = str(free_port())
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    commands = [c.replace("7601", port) for c in section_commands()]
    adapter_line = next(c for c in commands if c.startswith("jgx adapter run"))
    results: list[tuple[str, int]] = []
    adapter: subprocess.Popen[bytes] | None = None
    try:
        for command in commands:
            if command == adapter_line:
                adapter = subprocess.Popen(["bash", "-c", command], cwd=tmp_path, env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
                wait_for(int(port))
                continue
            done = subprocess.run(
                ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, check=False
            )
            results.append((command[:70], done.returncode))
    finally:
        if adapter is not None:
            adapter.terminate()
            adapter.wait(timeout=20)
    failed = [r for r in results if r[1] != 0]
    html = (tmp_path / "conformance-out" / "report.html").read_text("utf-8")
    assert ([], True, True, False) == (
        failed,
        "verdict PASS" in html,
        (tmp_path / "conformance-out" / "certificate.dsse.json").exists(),
        (tmp_path / "nodes" / "amr" / "adapter.sqlite").exists(),
    )


def wait_for(port: int, *, attempts: int = 200) -> None:
    """Until something listens on 127.0.0.1:`port` (the adapter has started)."""
    for _ in range(attempts):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")
