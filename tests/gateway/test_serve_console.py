"""``jgx serve`` starts the operator console beside the exchange, on the console address it is given."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from tests.gateway.nodes import ServeProcess, write_node


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


def test_jgx_console_serves_a_nodes_log_alone(tmp_path: Path) -> None:
    """``jgx console --dir`` serves the login page over an existing node's database and stops on SIGTERM."""
    fed = Federation.create(datetime.now(UTC))
    write_node(tmp_path, fed)

    async def create_database() -> None:
        store = SqliteStore(tmp_path / "jgx.db")
        await store.open()
        await store.close()

    asyncio.run(create_database())
    process = subprocess.Popen(
        [sys.executable, "-c", "from gateway.cli import main; main()", "console", "--dir", str(tmp_path),
         "--listen", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        url = line.split("console on ", 1)[1].strip()
        with urllib.request.urlopen(url + "login", timeout=10) as response:
            status = response.status
    finally:
        process.terminate()
        code = process.wait(timeout=30)
    assert (200, 0) == (status, code)


def test_jgx_console_serves_tls_from_its_console_table(tmp_path: Path) -> None:
    """With [console] tls_cert and tls_key in jgx.toml, ``jgx console`` answers over HTTPS."""
    fed = Federation.create(datetime.now(UTC))
    write_node(tmp_path, fed)
    toml = tmp_path / "jgx.toml"
    text = toml.read_text(encoding="utf-8")
    for key, path in (("tls_cert", "tls/node.crt"), ("tls_key", "tls/node.key")):
        text = text.replace(f'{key} = ""', f'{key} = "{path}"')  # the [console] table jgx init writes
    toml.write_text(text, encoding="utf-8")

    async def create_database() -> None:
        store = SqliteStore(tmp_path / "jgx.db")
        await store.open()
        await store.close()

    asyncio.run(create_database())
    process = subprocess.Popen(
        [sys.executable, "-c", "from gateway.cli import main; main()", "console", "--dir", str(tmp_path),
         "--listen", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        url = process.stderr.readline().split("console on ", 1)[1].strip()
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "ca.crt"))
        with urllib.request.urlopen(url + "login", timeout=10, context=context) as response:
            status = response.status
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert (True, 200) == (url.startswith("https://127.0.0.1:"), status)
