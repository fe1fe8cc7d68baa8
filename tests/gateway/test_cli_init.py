"""``jgx init`` and `initialise`: a node directory whose trust verifies and whose certificate names it."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from click.testing import CliRunner
from grpc_health.v1 import _async as health_aio  # = health.aio, which type checkers cannot see
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.cli import main
from gateway.cli.init import InitError, initialise
from gateway.config import CONFIG_FILE, Config, Listen, load_config
from gateway.crl import load_crl
from gateway.keys import load_private_key
from gateway.pki import load_certificate, node_id_from_certificate, read_csr
from gateway.tls import channel_credentials, peer_node_id, server_credentials
from gateway.trust_update import load_trust

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
REAL_NOW = datetime.now(UTC)  # for certificates a real TLS handshake checks
EXPECTED_FILES = [
    "jgx.toml",
    "keys/admin.key",
    "keys/node.key",
    "tls/ca.crl",
    "tls/ca.crt",
    "tls/ca.key",
    "tls/node.crt",
    "tls/node.key",
    "trust.json",
]


def _files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


class TestInitialise:
    def test_creates_a_complete_node(self, tmp_path: Path) -> None:
        """Initialising writes keys, CA, certificate, trust and jgx.toml and returns the configuration."""
        config = initialise(tmp_path / "hub", "sc.hub", now=NOW, listen=Listen(grpc_port=8443))
        assert EXPECTED_FILES == _files(tmp_path / "hub")
        assert config == load_config(tmp_path / "hub" / CONFIG_FILE)
        assert 8443 == config.listen.grpc_port

    def test_trust_verifies_and_registers_the_node_key(self, tmp_path: Path) -> None:
        """The trust configuration verifies with its own admin key and lists the node's signing key."""
        config = initialise(tmp_path, "sc.hub", now=NOW)
        trust = load_trust(config.paths.trust.read_bytes(), now=NOW + timedelta(days=1))
        node_key = load_private_key(config.paths.node_key.read_bytes())
        node = trust.node("sc.hub")
        assert ("hub", [node_key.key_id], "127.0.0.1:7443") == (
            node.role,
            [k.key_id for k in node.keys],
            node.endpoint,
        )
        assert "四川省互联网+监管系统交换枢纽" == node.name_zh
        assert trust.allows("sc.hub", "SC-06", "cn.national")

    def test_certificate_names_the_node_and_chains_to_the_ca(self, tmp_path: Path) -> None:
        """The TLS certificate carries the node id and is issued by the CA written beside it."""
        paths = initialise(tmp_path, "sc.amr", now=NOW, name_zh="四川省市场监督管理局").paths
        cert = load_certificate(paths.tls_cert.read_bytes())
        cert.verify_directly_issued_by(load_certificate(paths.tls_ca.read_bytes()))
        assert "sc.amr" == node_id_from_certificate(cert)

    def test_private_keys_are_readable_by_the_owner_only(self, tmp_path: Path) -> None:
        """Every private key file is written with mode 0600."""
        initialise(tmp_path, "sc.hub", now=NOW)
        modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in EXPECTED_FILES}
        assert {name: 0o600 for name in EXPECTED_FILES if name.endswith(".key")} == {
            name: mode for name, mode in modes.items() if name.endswith(".key")
        }

    def test_refuses_to_overwrite_without_force(self, tmp_path: Path) -> None:
        """A second initialisation is refused, and with force it replaces the keys."""
        first = initialise(tmp_path, "sc.hub", now=NOW)
        old_key = first.paths.node_key.read_bytes()
        with pytest.raises(InitError) as caught:
            initialise(tmp_path, "sc.hub", now=NOW)
        assert "--force" in caught.value.detail
        assert old_key == first.paths.node_key.read_bytes()
        initialise(tmp_path, "sc.hub", now=NOW, force=True)
        assert old_key != first.paths.node_key.read_bytes()


class TestRevocationList:
    def test_the_node_holding_the_ca_honours_its_empty_crl(self, tmp_path: Path) -> None:
        """`jgx init` writes the CA's (empty) CRL, signed by the CA, and names it in jgx.toml."""
        config = initialise(tmp_path, "sc.hub", now=NOW)
        crl = load_crl((tmp_path / "tls" / "ca.crl").read_bytes(), config.paths.tls_ca.read_bytes())
        assert (tmp_path.resolve() / "tls" / "ca.crl", {}, 1) == (config.crl, dict(crl.revoked), crl.number)


class TestCsrPath:
    def test_a_joining_node_writes_only_its_own_keys_and_a_csr(self, tmp_path: Path) -> None:
        """`--csr`: signing key, TLS key, CSR naming the node, jgx.toml; no CA, no certificate, no trust."""
        result = CliRunner().invoke(main, ["init", str(tmp_path), "--node-id", "sc.env", "--csr"])
        assert 0 == result.exit_code, result.output
        assert ["jgx.toml", "keys/node.key", "tls/node.csr", "tls/node.key"] == _files(tmp_path)
        request = read_csr((tmp_path / "tls" / "node.csr").read_bytes())
        assert ("sc.env", ("127.0.0.1", "localhost")) == (request.node_id, tuple(sorted(request.hosts)))
        assert "jgx pki issue" in result.output
        assert "jgx trust request" in result.output
        assert {"tls/node.key": 0o600, "keys/node.key": 0o600} == {
            name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in ("tls/node.key", "keys/node.key")
        }

    def test_csr_and_a_ca_key_exclude_each_other(self, tmp_path: Path) -> None:
        """Asking for a CSR while handing over a CA key is a usage error that writes nothing."""
        hub = initialise(tmp_path / "hub", "sc.hub", now=NOW)
        args = ["init", str(tmp_path / "env"), "--node-id", "sc.env", "--csr"]
        args += ["--ca-cert", str(hub.paths.tls_ca), "--ca-key", str(tmp_path / "hub" / "tls" / "ca.key")]
        result = CliRunner().invoke(main, args)
        assert (2, False) == (result.exit_code, (tmp_path / "env").exists())


class TestFederation:
    async def test_nodes_sharing_a_ca_talk_mutual_tls(self, tmp_path: Path) -> None:
        """A department initialised with the hub's CA reaches the hub's server, which sees its node id."""
        hub = initialise(tmp_path / "hub", "sc.hub", now=REAL_NOW)
        ca = (hub.paths.tls_ca.read_bytes(), (tmp_path / "hub" / "tls" / "ca.key").read_bytes())
        amr = initialise(tmp_path / "amr", "sc.amr", now=REAL_NOW, ca=ca)
        assert not (tmp_path / "amr" / "tls" / "ca.key").exists()
        seen: list[str] = []

        class Health(health_aio.HealthServicer):  # type: ignore[misc]
            async def Check(
                self, request: object, context: grpc.aio.ServicerContext[object, object]
            ) -> object:
                seen.append(peer_node_id(context))
                return await super().Check(request, context)

        def material(config: Config) -> tuple[bytes, bytes, bytes]:
            paths = config.paths
            return paths.tls_cert.read_bytes(), paths.tls_key.read_bytes(), paths.tls_ca.read_bytes()

        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
        port = server.add_secure_port("127.0.0.1:0", server_credentials(*material(hub)))
        await server.start()
        try:
            async with grpc.aio.secure_channel(
                f"127.0.0.1:{port}", channel_credentials(*material(amr))
            ) as channel:
                await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        finally:
            await server.stop(None)
        assert ["sc.amr"] == seen

    def test_ca_options_come_together(self, tmp_path: Path) -> None:
        """`--ca-cert` without `--ca-key` is a usage error."""
        result = CliRunner().invoke(
            main, ["init", str(tmp_path), "--node-id", "sc.amr", "--ca-cert", "x.crt"]
        )
        assert 2 == result.exit_code


class TestCommand:
    def test_init_prints_what_it_created(self, tmp_path: Path) -> None:
        """`jgx init` exits 0 and lists every file it created."""
        result = CliRunner().invoke(
            main, ["init", str(tmp_path / "n"), "--node-id", "sc.hub", "--grpc-port", "9443"]
        )
        assert (0, EXPECTED_FILES) == (result.exit_code, _files(tmp_path / "n"))
        assert all(name in result.output for name in EXPECTED_FILES)
        assert 9443 == load_config(tmp_path / "n" / CONFIG_FILE).listen.grpc_port

    def test_init_twice_is_a_usage_error(self, tmp_path: Path) -> None:
        """Running `jgx init` again on the same directory exits 2 and names --force."""
        runner = CliRunner()
        runner.invoke(main, ["init", str(tmp_path), "--node-id", "sc.hub"])
        result = runner.invoke(main, ["init", str(tmp_path), "--node-id", "sc.hub"])
        assert 2 == result.exit_code
        assert "--force" in result.output

    def test_bad_node_id_is_a_usage_error(self, tmp_path: Path) -> None:
        """An invalid node id exits 2 with a bilingual message and writes nothing."""
        result = CliRunner().invoke(main, ["init", str(tmp_path / "x"), "--node-id", "Bad Id"])
        assert (2, False) == (result.exit_code, (tmp_path / "x").exists())
        assert "node id" in result.output

    def test_help_has_an_example(self) -> None:
        """`jgx init --help` shows an example invocation."""
        result = CliRunner().invoke(main, ["init", "--help"])
        assert 0 == result.exit_code
        assert "jgx init nodes/hub --node-id sc.hub" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [((), "sha256"), (("--algorithm", "sm2"), "sm3"),
     (("--algorithm", "sm2", "--log-hash", "sha256"), "sha256"), (("--log-hash", "sm3"), "sm3")],
)  # fmt: skip
def test_init_chooses_the_log_hash_profile(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    """jgx init writes [log] hash: sm3 for an SM2 node unless --log-hash says otherwise, else sha256."""
    result = CliRunner().invoke(main, ["init", str(tmp_path / "n"), "--node-id", "sc.hub", *args])
    assert 0 == result.exit_code, result.output
    assert expected == load_config(tmp_path / "n" / CONFIG_FILE).log_hash.name
