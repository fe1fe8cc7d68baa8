"""The foundation's CLI: keys, trust configuration and envelopes, from a user's point of view."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main

Run = Callable[..., Result]


@pytest.fixture
def jgx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def _setup(jgx: Run, *, admins: int = 1, threshold: int = 1) -> None:
    run = jgx
    for i in range(admins):
        assert 0 == run("keys", "generate", "--out", f"keys/admin{i}").exit_code
    assert 0 == run("keys", "generate", "--out", "keys/hub").exit_code
    assert 0 == run("keys", "generate", "--algorithm", "p256", "--out", "keys/amr").exit_code
    admin_args = [a for i in range(admins) for a in ("--admin", f"keys/admin{i}.pub")]
    steps = [
        ("trust", "create", "trust.json", *admin_args, "--threshold", str(threshold)),
        (
            "trust",
            "add-node",
            "trust.json",
            "sc.hub",
            "--role",
            "hub",
            "--name-zh",
            "枢纽",
            "--name-en",
            "Hub",
            "--key",
            "keys/hub.pub",
        ),
        (
            *("trust", "add-node", "trust.json", "sc.amr", "--role", "department", "--name-zh", "市场监管"),
            *("--name-en", "AMR", "--gateway", "sc.hub", "--key", "keys/amr.pub"),
        ),
        (
            "trust",
            "allow",
            "trust.json",
            "--sender",
            "sc.amr",
            "--recipient",
            "sc.hub",
            "--standard",
            "SC-06",
        ),
    ]
    for step in steps:
        result = run(*step)
        assert 0 == result.exit_code, result.output


def test_from_keys_to_a_verified_envelope_and_a_tampered_one(jgx: Run, tmp_path: Path) -> None:
    """A user builds trust, signs a record, verifies it, and sees the reason for a tampered byte."""
    run = jgx
    _setup(jgx)
    assert (
        0
        == run(
            "trust", "sign", "trust.json", "--key", "keys/admin0.key", "--out", "trust.signed.json"
        ).exit_code
    )
    assert 0 == run("trust", "verify", "trust.signed.json").exit_code
    (tmp_path / "rec.json").write_text('{"punishDocumentCode": "川市监罚〔2026〕1号"}', encoding="utf-8")
    signed = run(
        "envelope",
        "sign",
        "rec.json",
        "--key",
        "keys/amr.key",
        "--sender",
        "sc.amr",
        "--recipient",
        "sc.hub",
        "--standard",
        "SC-06",
        "--business-key",
        "CF-1",
        "--out",
        "rec.env",
    )
    assert 0 == signed.exit_code, signed.output
    ok = run("envelope", "verify", "rec.env", "--trust", "trust.signed.json", "--as", "sc.hub")
    assert 0 == ok.exit_code
    assert "OK" in ok.output
    data = (tmp_path / "rec.env").read_bytes()
    (tmp_path / "bad.env").write_bytes(data.replace(b"CF-1", b"CF-2", 1))
    bad = run("envelope", "verify", "bad.env", "--trust", "trust.signed.json", "--as", "sc.hub")
    assert 1 == bad.exit_code
    assert "SIGNATURE_INVALID" in bad.output
    shown = run("envelope", "show", "rec.env")
    assert "川市监罚〔2026〕1号" in shown.output
    as_json = run("envelope", "show", "--json", "rec.env")
    (tmp_path / "rec.dsse.json").write_text(as_json.output, encoding="utf-8")
    again = run("envelope", "verify", "rec.dsse.json", "--trust", "trust.signed.json", "--as", "sc.hub")
    assert 0 == again.exit_code, "the DSSE JSON form verifies like the wire form"


def test_threshold_signing_and_rotation(jgx: Run) -> None:
    """2-of-2: refused with one signature, accepted with two; v2 is checked against v1's admins."""
    run = jgx
    _setup(jgx, admins=2, threshold=2)
    run("trust", "sign", "trust.json", "--key", "keys/admin0.key", "--out", "v1.json")
    short = run("trust", "verify", "v1.json")
    assert 1 == short.exit_code
    assert "TRUST_THRESHOLD_NOT_MET" in short.output
    assert 0 == run("trust", "sign", "v1.json", "--key", "keys/admin1.key").exit_code
    assert 0 == run("trust", "verify", "v1.json").exit_code
    assert 0 == run("trust", "next", "v1.json", "--out", "v2.json").exit_code
    run("keys", "generate", "--out", "keys/newadmin")
    run(
        "trust",
        "sign",
        "v2.json",
        "--key",
        "keys/admin0.key",
        "--key",
        "keys/admin1.key",
        "--out",
        "v2.signed.json",
    )
    assert 0 == run("trust", "verify", "v2.signed.json", "--previous", "v1.json").exit_code
    rollback = run("trust", "verify", "v1.json", "--previous", "v2.signed.json")
    assert 1 == rollback.exit_code
    assert "TRUST_ROLLBACK" in rollback.output


def test_usage_and_io_errors_exit_2(jgx: Run) -> None:
    """A missing file or a bad option exits 2 with a message in both languages."""
    missing = jgx("envelope", "verify", "nope.env", "--trust", "nope.json", "--as", "sc.hub")
    assert 2 == missing.exit_code
    assert "无法读取" in missing.output
    assert "cannot read" in missing.output
    assert 2 == jgx("keys", "generate").exit_code


@pytest.mark.parametrize(
    "verb",
    [
        ("keys", "generate"),
        ("keys", "id"),
        ("trust",),
        ("trust", "sign"),
        ("trust", "verify"),
        ("envelope",),
        ("envelope", "sign"),
        ("envelope", "verify"),
        ("envelope", "open"),
        ("demo",),
    ],
)
def test_every_verb_explains_itself_with_an_example(jgx: Run, verb: tuple[str, ...]) -> None:
    """--help on each verb exits 0 and shows an example."""
    result = jgx(*verb, "--help")
    assert 0 == result.exit_code
    assert "Example" in result.output


def test_the_console_script_is_installed() -> None:
    """The `jgx` entry point runs the CLI."""
    out = subprocess.run(
        [Path(sys.executable).parent / "jgx", "--help"], capture_output=True, text=True, check=True
    )
    assert "trust" in out.stdout


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (("--valid-to", "2026-01-01T00:00:00Z"), (0, {"valid_to": "2026-01-01T00:00:00Z"})),
        (("--valid-from", "2026-01-01T00:00:00Z"), (0, {"valid_from": "2026-01-01T00:00:00Z"})),
        (("--valid-to", "2026-01-01 00:00"), (2, {})),
    ],
)
def test_add_key_records_the_validity_window_it_is_given(
    jgx: Run, tmp_path: Path, window: tuple[str, str], expected: tuple[int, dict[str, str]]
) -> None:
    """``trust add-key --valid-from/--valid-to`` writes the validity; a time without Z is a usage error."""
    import json

    _setup(jgx)
    assert 0 == jgx("keys", "generate", "--out", "keys/lapsed").exit_code
    result = jgx("trust", "add-key", "trust.json", "sc.hub", "keys/lapsed.pub", *window)
    keys = json.loads((tmp_path / "trust.json").read_text("utf-8"))["nodes"]["sc.hub"]["keys"]
    written = {k: v for k, v in keys[-1].items() if k in ("valid_from", "valid_to")}
    assert expected == (result.exit_code, written)
