"""`jgx envelope sign --seal` and `jgx envelope open`: a clue whose party number only cq.hub can read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

import standards
from gateway.cli import main
from gateway.keys import Algorithm
from gateway.testing import Federation

NOW = datetime(2025, 6, 20, 9, 0, tzinfo=UTC)
AT = "2025-06-20T09:00:00Z"
DISPATCH = Path(standards.__file__).parent / "data/SC-13/1.0.0/fixtures/good/dispatch.json"


def test_a_sealed_clue_is_signed_verified_by_the_hub_and_opened_by_the_partner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed with --seal, the hub verifies and validates it, cq.hub opens it, sc.hub's key cannot."""
    monkeypatch.chdir(tmp_path)
    fed = Federation.create(NOW, algorithm=Algorithm.SM2_SM3)
    (tmp_path / "trust.signed.json").write_bytes(fed.signed_trust)
    for node in ("sc.amr", "cq.hub", "sc.hub"):
        (tmp_path / f"{node}.key").write_bytes(fed.keys[node].to_pem())
    record = standards.mask(json.loads(DISPATCH.read_bytes()), "partner", standard="SC-13")
    (tmp_path / "clue.json").write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    signed = run(
        *("envelope", "sign", "clue.json", "--key", "sc.amr.key", "--sender", "sc.amr"),
        *("--recipient", "cq.hub", "--standard", "SC-13", "--action", "dispatch", "--business-key", "CY-1"),
        *("--seal", "/partyIdCode", "--trust", "trust.signed.json", "--at", AT, "--out", "clue.env"),
    )
    assert 0 == signed[0], signed[1]
    assert b"500103198808080314" not in (tmp_path / "clue.env").read_bytes()
    verified = run(
        "envelope",
        "verify",
        "clue.env",
        "--trust",
        "trust.signed.json",
        "--as",
        "sc.hub",
        "--validate",
        "--at",
        AT,
    )
    assert 0 == verified[0], verified[1]
    opened = run(
        *("envelope", "open", "clue.env", "--trust", "trust.signed.json", "--as", "cq.hub"),
        *("--key", "cq.hub.key", "--out", "opened.json", "--at", AT),
    )
    assert 0 == opened[0], opened[1]
    assert record == json.loads((tmp_path / "opened.json").read_text("utf-8"))
    refused = run(
        *("envelope", "open", "clue.env", "--trust", "trust.signed.json", "--as", "cq.hub"),
        *("--key", "sc.hub.key", "--out", "stolen.json", "--at", AT),
    )
    assert 1 == refused[0]
    assert "KEY_UNKNOWN" in refused[1]
    assert not (tmp_path / "stolen.json").exists()


def test_sealing_for_a_recipient_without_an_sm2_key_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In an Ed25519 federation --seal has no key to seal for: exit 2 with both languages."""
    monkeypatch.chdir(tmp_path)
    fed = Federation.create(NOW)
    (tmp_path / "trust.signed.json").write_bytes(fed.signed_trust)
    (tmp_path / "sc.amr.key").write_bytes(fed.keys["sc.amr"].to_pem())
    (tmp_path / "clue.json").write_bytes(DISPATCH.read_bytes())
    result = CliRunner().invoke(
        main,
        [
            *("envelope", "sign", "clue.json", "--key", "sc.amr.key", "--sender", "sc.amr"),
            *(
                "--recipient",
                "cq.hub",
                "--standard",
                "SC-13",
                "--business-key",
                "CY-1",
                "--seal",
                "/partyIdCode",
            ),
            *("--trust", "trust.signed.json", "--at", AT, "--out", "clue.env"),
        ],
    )
    assert 2 == result.exit_code
    assert "SM2" in result.output
    assert not (tmp_path / "clue.env").exists()
