"""``jgx serve`` starts the operator console beside the exchange, on the console address it is given."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from tests.gateway.nodes import ServeProcess


def test_serve_starts_the_console_on_its_own_port(tmp_path: Path) -> None:
    """The console answers its login page in Chinese while the node serves, and stops with it."""
    serve = ServeProcess(tmp_path, "--listen", "127.0.0.1:0", "--console", "127.0.0.1:0")
    try:
        [line] = [line for line in serve.banner if "console on" in line]
        url = line.split("console on ", 1)[1].strip()
        with urllib.request.urlopen(url + "login", timeout=10) as response:
            status, page = response.status, response.read().decode("utf-8")
    finally:
        code = serve.terminate()
    assert (200, True, 0) == (status, "登录" in page, code)


def test_serve_without_a_console(tmp_path: Path) -> None:
    """``--console off`` serves the exchange alone."""
    serve = ServeProcess(tmp_path, "--listen", "127.0.0.1:0", "--console", "off")
    code = serve.terminate()
    assert (0, []) == (code, [line for line in serve.banner if "console on" in line])
