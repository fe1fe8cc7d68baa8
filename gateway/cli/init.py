"""``jgx init``: everything a new node needs in one directory.

`initialise` is the reusable part (``jgx serve`` calls it on first run): it writes the node's
Ed25519 signing key, a trust-administration key, an internal CA with its (empty) revocation list and
the node's TLS certificate, a signed single-hub trust configuration, and ``jgx.toml``. It refuses to
overwrite any of them unless ``force`` is given. The click command is a thin shell around it.

A node joining an existing federation uses the CSR path instead (``csr=True``): it writes only its
own keys, a certificate signing request and ``jgx.toml``; the certificate comes from the federation's
CA operator (``jgx pki issue``) and the trust configuration from its admins (``jgx trust merge``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from gateway.cli._common import io_failure
from gateway.cli.keys import ALGORITHM_CHOICES, algorithm_option
from gateway.config import CONFIG_FILE, Config, Listen, default_config, render_config
from gateway.crl import revoke
from gateway.errors import JgxError, ReasonCode, os_reason
from gateway.keys import Algorithm, generate_key
from gateway.pki import create_ca, create_csr, issue_node_certificate
from gateway.treehash import PROFILES, TreeHash, default_profile
from gateway.trust import AclEntry, Node, TrustConfig, key_record
from gateway.trust_update import sign_trust

__all__ = ["InitError", "NodeFiles", "init", "initialise"]

_HUB_NAMES = {"sc.hub": ("四川省互联网+监管系统交换枢纽", "Sichuan regulation exchange hub")}


class InitError(JgxError):
    """``jgx init`` cannot proceed: files exist (without ``--force``) or cannot be written."""

    def __init__(self, zh: str, en: str) -> None:
        self.detail_zh, self.detail_en = zh, en  # each line of the CLI's failure gets its own (in_languages)
        super().__init__(ReasonCode.MALFORMED, f"{zh} / {en}")


@dataclass(frozen=True, slots=True)
class NodeFiles:
    """The files `initialise` writes for a configuration, in the order it writes them."""

    node_key: Path
    admin_key: Path
    ca_cert: Path
    ca_key: Path
    crl: Path
    tls_cert: Path
    tls_key: Path
    csr: Path
    trust: Path
    config: Path

    @classmethod
    def of(cls, config: Config) -> NodeFiles:
        """Where the node described by ``config`` keeps its files."""
        paths, directory = config.paths, config.directory
        return cls(
            node_key=paths.node_key,
            admin_key=directory / "keys" / "admin.key",
            ca_cert=paths.tls_ca,
            ca_key=directory / "tls" / "ca.key",
            crl=config.crl or directory / "tls" / "ca.crl",
            tls_cert=paths.tls_cert,
            tls_key=paths.tls_key,
            csr=directory / "tls" / "node.csr",
            trust=paths.trust,
            config=directory / CONFIG_FILE,
        )

    def all(self) -> tuple[Path, ...]:
        """Every file, in writing order."""
        return tuple(getattr(self, name) for name in self.__slots__)


def _write(path: Path, data: bytes, *, private: bool) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if private:
            path.chmod(0o600)  # also when the file existed (with --force) under a wider mode
    except OSError as exc:
        zh, en = os_reason(exc)
        raise InitError(f"无法写入 {path}: {zh}", f"cannot write {path}: {en}") from exc


def initialise(
    directory: Path,
    node_id: str,
    *,
    now: datetime,
    force: bool = False,
    name_zh: str | None = None,
    name_en: str | None = None,
    region: str = "510000",
    listen: Listen | None = None,
    hosts: Sequence[str] = ("127.0.0.1", "localhost"),
    trust_lifetime: timedelta = timedelta(days=365),
    ca: tuple[bytes, bytes] | None = None,
    csr: bool = False,
    algorithm: Algorithm = Algorithm.ED25519,
    log_hash: TreeHash | None = None,
) -> Config:
    """Create a hub node's keys, CA, CRL, TLS certificate, signed trust configuration and ``jgx.toml``.

    With ``ca`` (certificate and key PEM of an existing federation CA) the node's certificate is issued
    by that CA, so it can talk to the nodes already holding one; the CA key is then not copied.
    With ``csr`` nobody's CA key is needed: only the node's keys, its CSR and ``jgx.toml`` are written.
    ``log_hash`` is the exchange log's hash profile; by default sm3 for an SM2 node, sha256 otherwise.
    """
    if csr and ca is not None:
        raise InitError(
            "--csr 与 --ca-cert/--ca-key 不能同时使用", "--csr and --ca-cert/--ca-key exclude each other"
        )
    config = default_config(directory, node_id)
    if log_hash is None:
        log_hash = default_profile(algorithm)
    config = replace(config, log_hash=log_hash)
    if listen is not None:
        config = replace(config, listen=listen)
    own_ca = ca is None and not csr
    if own_ca:  # the node holding the CA keeps its revocation list and honours it
        config = replace(config, crl=config.directory / "tls" / "ca.crl")
    files = NodeFiles.of(config)
    if csr:
        targets = [files.node_key, files.tls_key, files.csr, files.config]
    else:
        targets = [
            p for p in files.all() if p != files.csr and (own_ca or p not in (files.ca_key, files.crl))
        ]
    existing = ", ".join(str(p.relative_to(config.directory)) for p in targets if p.exists())
    if existing and not force:
        raise InitError(
            f"{config.directory} 中已有文件 ({existing})，使用 --force 覆盖",
            f"{config.directory} already holds {existing}; use --force to overwrite",
        )

    if csr:
        return _initialise_request(config, files, hosts, algorithm)
    # (1) signing keys: the node's own and the trust administrator's
    node_key, admin_key = generate_key(algorithm), generate_key(algorithm)
    # (2) the internal CA and this node's mTLS certificate
    ca_cert, ca_key = ca if ca is not None else create_ca(f"jgx CA of {node_id}", now)
    tls_cert, tls_key = issue_node_certificate(ca_cert, ca_key, node_id, hosts, now=now)
    crl = revoke(ca_cert, ca_key, None, [], now=now, days=30) if own_ca else b""
    # (3) a single-hub trust configuration, signed by the administrator
    default_zh, default_en = _HUB_NAMES.get(node_id, (node_id, node_id))
    trust = TrustConfig.new(
        [admin_key.public_key], threshold=1, issued_at=now, expires_at=now + trust_lifetime
    )
    trust = trust.with_node(
        Node(
            node_id,
            name_zh or default_zh,
            name_en or default_en,
            "hub",
            (key_record(node_key.public_key),),
            region=region,
            endpoint=config.grpc_address,
        )
    ).with_acl(AclEntry(node_id, ("*",), ("*",)))
    signed = sign_trust(trust, [admin_key])

    for path, data, private in (
        (files.node_key, node_key.to_pem(), True),
        (files.admin_key, admin_key.to_pem(), True),
        (files.ca_cert, ca_cert, False),
        (files.ca_key, ca_key, True),
        (files.crl, crl, False),
        (files.tls_cert, tls_cert, False),
        (files.tls_key, tls_key, True),
        (files.trust, signed, False),
        (files.config, render_config(config).encode("utf-8"), False),
    ):
        if path in targets:
            _write(path, data, private=private)
    return config


def _initialise_request(
    config: Config, files: NodeFiles, hosts: Sequence[str], algorithm: Algorithm
) -> Config:
    """The CSR path: the node's signing key, TLS key and CSR, and jgx.toml; nothing of anyone else's."""
    node_key = generate_key(algorithm)
    request, tls_key = create_csr(config.node_id, hosts)
    for path, data, private in (
        (files.node_key, node_key.to_pem(), True),
        (files.tls_key, tls_key, True),
        (files.csr, request, False),
        (files.config, render_config(config).encode("utf-8"), False),
    ):
        _write(path, data, private=private)
    return config


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--node-id", required=True, help="The node's id, e.g. sc.hub (lower-case ASCII, . _ -).")
@click.option("--name-zh", help="Chinese name of the node (default: the id; sc.hub has its own).")
@click.option("--name-en", help="English name of the node.")
@click.option("--region", default="510000", show_default=True, help="GB/T 2260 region code.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--grpc-port", type=int, default=7443, show_default=True, help="gRPC (mTLS) port.")
@click.option("--console-port", type=int, default=7080, show_default=True, help="Console (HTTP) port.")
@click.option("--metrics-port", type=int, default=9464, show_default=True, help="Prometheus metrics port.")
@click.option(
    "--ca-cert", type=click.Path(dir_okay=False, path_type=Path), help="Certificate of an existing CA to use."
)
@click.option("--ca-key", type=click.Path(dir_okay=False, path_type=Path), help="Its private key (PEM).")
@click.option(
    "--csr", "request", is_flag=True,
    help="Join an existing federation: write a key and a CSR for its CA operator instead of a certificate.",
)  # fmt: skip
@algorithm_option("Signing and trust-admin key algorithm: sm2 for a 国密 federation (SM2-with-SM3).")
@click.option(
    "--log-hash", type=click.Choice(sorted(PROFILES)), default=None,
    help="The exchange log's hash profile, fixed for the log's life: sha256 (RFC 6962) or sm3 (国密). "
    "Default: sm3 with --algorithm sm2, sha256 otherwise.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite existing keys, certificates and configuration.")
def init(
    *,
    directory: Path,
    node_id: str,
    name_zh: str | None,
    name_en: str | None,
    region: str,
    host: str,
    grpc_port: int,
    console_port: int,
    metrics_port: int,
    ca_cert: Path | None,
    ca_key: Path | None,
    request: bool,
    algorithm: str,
    log_hash: str | None,
    force: bool,
) -> None:
    """Set up a node (初始化节点): keys, CA and TLS certificate, signed trust, jgx.toml.

    \b
    Example:
      jgx init nodes/hub --node-id sc.hub
      jgx init nodes/hub --node-id sc.hub --grpc-port 8443 --force
      jgx init nodes/hub --node-id sc.hub --algorithm sm2          # SM2 keys, sm3 log
      jgx init nodes/hub --node-id sc.hub --log-hash sm3
      jgx init nodes/env --node-id sc.env --csr     # a department joining: no CA key needed
      jgx init nodes/amr --node-id sc.amr --ca-cert nodes/hub/tls/ca.crt --ca-key nodes/hub/tls/ca.key
    Creates in DIRECTORY: keys/node.key (signing), keys/admin.key (trust administration),
    tls/ca.crt, tls/ca.key, tls/ca.crl (revocation list), tls/node.crt, tls/node.key, trust.json
    (signed by the admin key) and jgx.toml. With --csr only keys/node.key, tls/node.key,
    tls/node.csr and jgx.toml: send the CSR to the federation's CA operator (jgx pki issue) and
    make a join request (jgx trust request --dir DIRECTORY). The older --ca-cert/--ca-key path
    issues the certificate from a CA key copied here (the key itself is not copied). Keep the *.key
    files secret (mode 0600). Refuses to overwrite without --force.
    """
    listen = Listen(host, grpc_port, console_port, metrics_port)
    wildcard = host in ("0.0.0.0", "::")  # noqa: S104 - comparing, not binding
    hosts = tuple(dict.fromkeys([*([] if wildcard else [host]), "127.0.0.1", "localhost"]))
    if (ca_cert is None) != (ca_key is None):
        click.echo(
            "错误 / error: --ca-cert 与 --ca-key 须同时给出 / give both --ca-cert and --ca-key", err=True
        )
        sys.exit(2)
    try:
        ca = (ca_cert.read_bytes(), ca_key.read_bytes()) if ca_cert and ca_key else None
    except OSError as exc:
        io_failure("无法读取 CA 文件", "cannot read the CA files", exc)
    try:
        config = initialise(
            directory,
            node_id,
            now=datetime.now(UTC),
            force=force,
            algorithm=ALGORITHM_CHOICES[algorithm],
            log_hash=None if log_hash is None else PROFILES[log_hash],
            name_zh=name_zh,
            name_en=name_en,
            region=region,
            listen=listen,
            hosts=hosts,
            ca=ca,
            csr=request,
        )
    except JgxError as exc:  # a refusal to overwrite, an invalid node id, an unwritable directory
        io_failure("无法初始化节点", "cannot initialise the node", exc)
    click.echo(f"已初始化节点 / initialised node {node_id} in {config.directory}")
    for path in NodeFiles.of(config).all():
        if path.exists():
            click.echo(f"  {path.relative_to(config.directory)}")
    click.echo(f"配置文件 / configuration: {config.directory / CONFIG_FILE}")
    if request:
        csr = NodeFiles.of(config).csr
        click.echo("下一步 / next steps:")
        click.echo(
            f"  1. 将 {csr} 交给联盟 CA 管理员 / send {csr} to the federation's CA operator (jgx pki issue)"
        )
        click.echo(f"  2. 入网申请 / join request: jgx trust request --dir {config.directory} --name-zh …")
        click.echo(
            "  3. 放入 / put in place: tls/node.crt, tls/ca.crt (and [tls] crl), trust.json from the admins"
        )
