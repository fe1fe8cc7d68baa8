"""``jgx.toml``: defaults, round trip through the file, and a clear refusal for each kind of mistake."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import (
    CONFIG_FILE,
    ConfigError,
    Delivery,
    Limits,
    Listen,
    default_config,
    load_config,
    parse_config,
    render_config,
)
from gateway.errors import ReasonCode


class TestDefaults:
    def test_default_node_keeps_everything_in_its_directory(self, tmp_path: Path) -> None:
        """A default node stores its SQLite database and its files inside its own directory."""
        config = default_config(tmp_path, "sc.hub")
        assert f"sqlite:///{tmp_path.resolve() / 'jgx.db'}" == config.storage_url
        assert tmp_path.resolve() / "tls" / "ca.crt" == config.paths.tls_ca
        assert ("127.0.0.1:7443", True, {}) == (config.grpc_address, config.require_tls13, config.peers)

    def test_round_trip_through_the_file(self, tmp_path: Path) -> None:
        """A configuration written to jgx.toml reads back equal, with paths relative to the file."""
        config = default_config(tmp_path, "sc.hub").with_peer("cn.national", "10.1.2.3:7443")
        path = tmp_path / CONFIG_FILE
        path.write_text(render_config(config), encoding="utf-8")
        assert config == load_config(path)
        assert 'trust = "trust.json"' in path.read_text(encoding="utf-8")

    def test_the_crl_and_its_policy_round_trip(self, tmp_path: Path) -> None:
        """[tls] crl (relative to the file), crl_stale and reload_seconds read back as written."""
        config = replace(default_config(tmp_path, "sc.hub"), crl=tmp_path.resolve() / "tls" / "ca.crl",
                         crl_stale="refuse", tls_reload_seconds=0.0)  # fmt: skip
        path = tmp_path / CONFIG_FILE
        path.write_text(render_config(config), encoding="utf-8")
        assert config == load_config(path)
        assert 'crl = "tls/ca.crl"' in path.read_text(encoding="utf-8")
        assert (None, "keep") == (
            default_config(tmp_path, "sc.hub").crl,
            default_config(tmp_path, "x").crl_stale,
        )

    def test_backoff_doubles_up_to_the_cap(self) -> None:
        """Retry delays double from the base and stop at the cap."""
        delivery = Delivery(backoff_base=timedelta(seconds=2), backoff_cap=timedelta(seconds=30))
        assert [2, 2, 4, 8, 16, 30, 30] == [delivery.delay(n).total_seconds() for n in range(7)]
        assert timedelta(seconds=30) == delivery.delay(10_000)


class TestReading:
    def test_every_section_is_read(self, tmp_path: Path) -> None:
        """Values in every section override the defaults; relative paths resolve against the directory."""
        text = """
node_id = "sc.amr"
[listen]
host = "0.0.0.0"
grpc_port = 0
console_port = 8080
metrics_port = 9000
[storage]
url = "postgresql://127.0.0.1:5432/test"
[paths]
trust = "/etc/jgx/trust.json"
node_key = "secret/node.key"
[limits]
max_envelope_bytes = 65536
rate_limit_per_sender = 2.5
rate_burst = 5
[delivery]
max_attempts = 3
max_age_seconds = 3600
backoff_base_seconds = 0.5
backoff_cap_seconds = 60
[clock]
skew_seconds = 0
[tls]
require_tls13 = false
[peers]
"sc.hub" = "hub.jgx.example:7443"
"""
        config = parse_config(text, directory=tmp_path)
        assert Listen("0.0.0.0", 0, 8080, 9000) == config.listen
        assert "postgresql://127.0.0.1:5432/test" == config.storage_url
        assert (Path("/etc/jgx/trust.json"), tmp_path.resolve() / "secret" / "node.key") == (
            config.paths.trust,
            config.paths.node_key,
        )
        assert Limits(65536, 2.5, 5) == config.limits
        expected_delivery = Delivery(3, timedelta(hours=1), timedelta(seconds=0.5), timedelta(minutes=1))
        assert expected_delivery == config.delivery
        assert (timedelta(0), False) == (config.clock_skew, config.require_tls13)
        assert {"sc.hub": "hub.jgx.example:7443"} == dict(config.peers)

    @pytest.mark.parametrize(
        ("text", "key"),
        [
            ("", "node_id"),
            ('node_id = "SC HUB"', "node_id"),
            ('node_id = "sc.hub"\nnode = 1', "node"),
            ('node_id = "sc.hub"\n[listen]\ngrpc_prot = 1', "listen.grpc_prot"),
            ('node_id = "sc.hub"\n[listen]\ngrpc_port = 70000', "listen.grpc_port"),
            ('node_id = "sc.hub"\n[listen]\ngrpc_port = "7443"', "listen.grpc_port"),
            ('node_id = "sc.hub"\n[listen]\nhost = ""', "listen.host"),
            ('node_id = "sc.hub"\nlisten = 1', "listen"),
            ('node_id = "sc.hub"\n[storage]\nurl = "mysql://x"', "storage.url"),
            ('node_id = "sc.hub"\n[limits]\nmax_envelope_bytes = 0', "limits.max_envelope_bytes"),
            ('node_id = "sc.hub"\n[limits]\nrate_burst = true', "limits.rate_burst"),
            ('node_id = "sc.hub"\n[limits]\nrate_limit_per_sender = -1.0', "limits.rate_limit_per_sender"),
            ('node_id = "sc.hub"\n[limits]\nrate_limit_per_sender = nan', "limits.rate_limit_per_sender"),
            (
                'node_id = "sc.hub"\n[delivery]\nbackoff_base_seconds = 10\nbackoff_cap_seconds = 1',
                "delivery.backoff_cap_seconds",
            ),
            ('node_id = "sc.hub"\n[clock]\nskew_seconds = 100000', "clock.skew_seconds"),
            ('node_id = "sc.hub"\n[tls]\nrequire_tls13 = 1', "tls.require_tls13"),
            ('node_id = "sc.hub"\n[tls]\ncrl_stale = "ignore"', "tls.crl_stale"),
            ('node_id = "sc.hub"\n[tls]\nreload_seconds = -1', "tls.reload_seconds"),
            ('node_id = "sc.hub"\n[tls]\ncrl = 1', "tls.crl"),
            ('node_id = "sc.hub"\n[peers]\n"sc.amr" = "nowhere"', "peers.sc.amr"),
            ('node_id = "sc.hub"\n[peers]\n"sc.amr" = 7443', "peers.sc.amr"),
            ('node_id = "sc.hub"\n[peers]\n"SC" = "h:1"', "peers.SC"),
            ('node_id = "sc.hub"\n[paths]\ntrust = 3', "paths.trust"),
            ("node_id = ", "file"),
        ],
    )
    def test_mistakes_name_their_key(self, tmp_path: Path, text: str, key: str) -> None:
        """Each mistake is a MALFORMED ConfigError that names the offending key in both languages."""
        with pytest.raises(ConfigError) as caught:
            parse_config(text, directory=tmp_path)
        assert (key, ReasonCode.MALFORMED) == (caught.value.key, caught.value.reason)
        assert " / " in caught.value.detail

    def test_missing_file_is_a_config_error(self, tmp_path: Path) -> None:
        """A configuration file that cannot be read is reported, not raised as OSError."""
        with pytest.raises(ConfigError):
            load_config(tmp_path / "absent.toml")


class TestLogHash:
    def test_the_log_hash_profile_round_trips_and_defaults_to_sha256(self, tmp_path: Path) -> None:
        """[log] hash reads back as written; a file without it means sha256 (RFC 6962)."""
        from gateway.treehash import SHA256, SM3

        config = replace(default_config(tmp_path, "sc.hub"), log_hash=SM3)
        path = tmp_path / CONFIG_FILE
        path.write_text(render_config(config), encoding="utf-8")
        assert 'hash = "sm3"' in path.read_text(encoding="utf-8")
        assert SM3 is load_config(path).log_hash
        assert SHA256 is parse_config('node_id = "sc.hub"\n', directory=tmp_path).log_hash

    def test_an_unknown_profile_is_refused_by_name(self, tmp_path: Path) -> None:
        """[log] hash = "md5" is a ConfigError naming log.hash and the profiles jgx knows."""
        with pytest.raises(ConfigError) as caught:
            parse_config('node_id = "sc.hub"\n[log]\nhash = "md5"\n', directory=tmp_path)
        assert "log.hash" in str(caught.value)
        assert "sha256, sm3" in str(caught.value)
