"""Adapters and bridges signing with a key on a PKCS#11 token (SoftHSM2): ``[keys.pkcs11]`` in the node
directory's ``jgx.toml``, no key file. `jgx adapter run` and `jgx bridge run` as child processes send to
the real hub over mTLS, which accepts envelopes signed by the token key; a wrong PIN, or a token key that
is not the node's in the trust configuration, stops every such command with exit 2 before it signs."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.demo.national import NationalDatabase
from gateway import hsm
from gateway.config import CONFIG_FILE, default_config, render_config
from gateway.keys import PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.testing import BRIDGE_NODES, DEFAULT_NODES, Federation
from gateway.trust import key_record
from tests.adapters.bridge.front import Front, FrontDb, RunningHub, inspection, mapping_text, running_hub
from tests.adapters.bridge.test_national import _config as national_config
from tests.gateway.nodes import ROOT
from tests.gateway.softhsm import PIN_ENV, Hsm

T0 = datetime(2026, 11, 27, 9, 0, 0)


async def _jgx(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """The jgx CLI in a child process (its own SoftHSM: the module's state is per process)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from gateway.cli import main; main()", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _token_federation(softhsm: Hsm, node_id: str, label: str) -> tuple[Federation, PrivateKey]:
    """A federation in which ``node_id``'s only key is the token key ``jgx-edge/label``."""
    key = hsm.open_token_key(softhsm.settings("jgx-edge", label))
    fed = Federation.create(datetime.now(UTC), nodes={**DEFAULT_NODES, **BRIDGE_NODES})
    fed.resign(fed.trust.with_node(replace(fed.trust.node(node_id), keys=(key_record(key.public_key),))))
    return fed, key


def _token_node_dir(hub: RunningHub, softhsm: Hsm, directory: Path, node_id: str, label: str) -> Path:
    """``node_id``'s directory (trust, mTLS certificate) with ``[keys.pkcs11]`` and no key file."""
    hub.node_dir(directory, node_id)
    (directory / "keys" / "node.key").unlink()
    config = replace(default_config(directory, node_id), token_key=softhsm.settings("jgx-edge", label))
    (directory / CONFIG_FILE).write_text(render_config(config), encoding="utf-8")
    return directory


async def _signers(hub: RunningHub) -> list[tuple[str, str, str]]:
    """(sender, outcome, signing key id) of every envelope in the hub's log."""
    found = []
    for index in range(await hub.hub.store.size()):
        stored = await hub.hub.store.message(index)
        assert stored is not None
        assert stored.envelope is not None
        envelope = exchange_pb2.Envelope.FromString(stored.envelope)
        message = exchange_pb2.Message.FromString(envelope.body)
        outcome = exchange_pb2.Outcome.Name(stored.outcome)
        found += [(message.sender, outcome, s.key_id) for s in envelope.signatures]
    return found


@pytest.mark.slow
async def test_jgx_adapter_run_signs_with_the_token_key_the_hub_accepts(softhsm: Hsm, tmp_path: Path) -> None:
    """`jgx adapter run --department sjs` with [keys.pkcs11] and no keys/node.key submits the shipped
    records over mTLS; the real hub accepts each, and every envelope carries the token key's id."""
    fed, key = _token_federation(softhsm, "sc.sjs", "sjs")
    async with running_hub(fed, tmp_path / "hub.sqlite") as hub:
        node = _token_node_dir(hub, softhsm, tmp_path / "sjs", "sc.sjs", "sjs")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from gateway.cli import main; main()", "adapter", "run",
            "--department", "sjs", "--dir", str(node), "--hub", f"localhost:{hub.port}",
            "--listen", "127.0.0.1:0", "--store", str(tmp_path / "adapter.sqlite"),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            for _ in range(600):
                if await hub.hub.store.size() >= 8 or process.returncode is not None:
                    break
                await asyncio.sleep(0.05)
        finally:
            if process.returncode is None:
                process.terminate()
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
        signers = await _signers(hub)
    assert 8 == len(signers), err.decode()
    assert {("sc.sjs", "OUTCOME_ACCEPTED", key.key_id)} == set(signers)


def _front(tmp_path: Path) -> tuple[Front, FrontDb]:
    front = Front(f"sqlite:///{tmp_path / 'front.db'}", None, tmp_path / "bridge-state.sqlite")
    return front, front.db()


@pytest.mark.slow
async def test_jgx_bridge_run_signs_with_the_token_key_the_hub_accepts(softhsm: Hsm, tmp_path: Path) -> None:
    """`jgx bridge run --once` on a SQLite front table, its node directory holding [keys.pkcs11] and no
    key file: the hub accepts both rows, signed by the token key, and the result table says accepted."""
    fed, key = _token_federation(softhsm, "sc.amr", "amr")
    front, db = _front(tmp_path)
    db.insert([inspection(1, T0), inspection(2, T0 + timedelta(seconds=1))])
    async with running_hub(fed, tmp_path / "hub.sqlite") as hub:
        node = _token_node_dir(hub, softhsm, tmp_path / "amr", "sc.amr", "amr")
        mapping = tmp_path / "mapping.toml"
        text = mapping_text(front.url, front.state, f"localhost:{hub.port}")
        mapping.write_text(text.replace('dir = "nodes/amr"', f'dir = "{node}"'), "utf-8")
        code, out, err = await _jgx("bridge", "run", str(mapping), "--once")
        signers = await _signers(hub)
    results = [r["status"] for r in db.results()]
    db.close()
    assert 0 == code, out + err
    assert [("sc.amr", "OUTCOME_ACCEPTED", key.key_id)] * 2 == signers
    assert ["accepted", "accepted"] == results


def _refusing_commands(tmp_path: Path, node: Path, hub_port: int) -> dict[str, tuple[str, ...]]:
    """Every command that signs as a node from a node directory, set up to reach its key."""
    front, db = _front(tmp_path)
    db.close()
    mapping = tmp_path / "mapping.toml"
    text = mapping_text(front.url, front.state, f"localhost:{hub_port}")
    text = text.replace('dir = "nodes/amr"', f'dir = "{node}"')
    mapping.write_text(text + '\n[inbound]\ntable = "jgx_inbound"\nstandards = ["SC-14"]\n', "utf-8")
    url = f"sqlite:///{tmp_path / 'national.db'}"
    national = national_config(tmp_path, NationalDatabase("SQLite", url, None, sa.create_engine(url)))
    national.write_text(
        national.read_text("utf-8")
        .replace('dir = "nodes/national-bridge"', f'dir = "{node}"')
        .replace('hub = "127.0.0.1:7443"', f'hub = "localhost:{hub_port}"'),
        "utf-8",
    )
    return {
        "adapter run": ("adapter", "run", "--department", "amr", "--dir", str(node),
                        "--hub", f"localhost:{hub_port}", "--listen", "127.0.0.1:0"),
        "bridge run": ("bridge", "run", str(mapping), "--once"),
        "bridge serve": ("bridge", "serve", str(mapping), "--listen", "127.0.0.1:0"),
        "bridge national serve": ("bridge", "national", "serve", str(national), "--listen", "127.0.0.1:0"),
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("command", ["adapter run", "bridge run", "bridge serve", "bridge national serve"])
@pytest.mark.parametrize(
    ("change", "clues"),
    [
        ("wrong-pin", ("[pin]", "CKR_PIN_INCORRECT", "拒绝了口令")),
        ("other-key", ("[key_id]", "KEY_UNKNOWN", "令牌上的密钥")),
    ],
)
async def test_a_command_whose_token_key_is_not_usable_exits_2_before_signing(
    softhsm: Hsm, tmp_path: Path, command: str, change: str, clues: tuple[str, ...]
) -> None:
    """A wrong PIN, or a token key that is not the node's in the trust configuration: the adapter and
    every bridge command exits 2 naming the problem (in Chinese and English), and the hub logs nothing."""
    fed, _ = _token_federation(softhsm, "sc.amr", "amr")
    async with running_hub(fed, tmp_path / "hub.sqlite") as hub:
        label = "sjs" if change == "other-key" else "amr"
        node = _token_node_dir(hub, softhsm, tmp_path / "amr", "sc.amr", label)
        args = _refusing_commands(tmp_path, node, hub.port)[command]
        pin = {PIN_ENV: "000000"} if change == "wrong-pin" else {}
        code, _, err = await _jgx(*args, env=pin)
        logged = await hub.hub.store.size()
    assert (2, 0) == (code, logged), err
    for clue in clues:
        assert clue in err
