"""``jgx pki``: node certificates without sharing private keys (证书申请、签发、吊销).

A department runs ``csr`` (its key never leaves its machine); the federation's CA operator runs
``issue`` on the CSR it receives, ``revoke`` when a certificate must stop working and ``crl`` to
refresh the revocation list before its ``nextUpdate``. Nodes re-read the CRL while serving
(``[tls] crl`` in jgx.toml, `gateway.node_tls`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
from cryptography.exceptions import InvalidSignature

from gateway._files import replace_file
from gateway.cli._common import (
    AT_OPTION,
    EXIT_VERDICT,
    io_error,
    io_failure,
    os_failure,
    read_bytes,
    when,
    write_bytes,
)
from gateway.cli._node import load_node
from gateway.config import CONFIG_FILE
from gateway.crl import REASONS, load_crl, revoke
from gateway.errors import JgxError
from gateway.pki import NodeRequest, create_csr, issue_certificate, load_certificate, read_csr

__all__ = ["pki"]


def _refuse(zh: str, en: str, error: JgxError) -> None:
    click.echo(f"拒绝 / refused: {zh} / {en}\n  {error.detail}", err=True)
    raise SystemExit(EXIT_VERDICT)


@dataclass(frozen=True)
class _Authority:
    cert: bytes
    key: bytes
    crl: Path


def _authority(
    directory: Path | None,
    ca_cert: Path | None,
    ca_key: Path | None,
    crl: Path | None,
    *,
    need_crl: bool = True,
) -> _Authority:
    """The CA's files: from a node directory (the node that holds the CA) or given one by one."""
    if directory is not None:
        if not (directory / CONFIG_FILE).exists():
            io_error(f"{directory} 中没有 {CONFIG_FILE}", f"no {CONFIG_FILE} in {directory}")
        config = load_node(directory)
        ca_cert = ca_cert or config.paths.tls_ca
        ca_key = ca_key or config.directory / "tls" / "ca.key"
        crl = crl or config.crl or config.directory / "tls" / "ca.crl"
    if ca_cert is None or ca_key is None:
        io_error("须给出 --dir 或 --ca-cert 与 --ca-key", "give --dir, or --ca-cert and --ca-key")
    if crl is None and need_crl:
        io_error("须给出 --dir 或 --crl", "give --dir or --crl (the CRL file to create or update)")
    return _Authority(read_bytes(ca_cert), read_bytes(ca_key), crl or Path())


_DIR = click.option(
    "--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
    help="Node directory holding the CA (tls/ca.crt, tls/ca.key, [tls] crl), as jgx init writes it.",
)  # fmt: skip
_CA_CERT = click.option("--ca-cert", type=click.Path(dir_okay=False, path_type=Path), help="CA certificate.")
_CA_KEY = click.option("--ca-key", type=click.Path(dir_okay=False, path_type=Path), help="CA private key.")
_CRL = click.option(
    "--crl",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The CRL file to update (default: the node's).",
)
_DAYS_CRL = click.option(
    "--days",
    type=click.IntRange(min=1),
    default=7,
    show_default=True,
    help="Days until the CRL's nextUpdate.",
)


@click.group()
def pki() -> None:
    """Node certificates for mutual TLS: request, issue, revoke (nobody shares a private key).

    \b
    Example (the department, then the CA operator):
      jgx pki csr --node-id sc.env --out sc.env.csr --key-out nodes/env/tls/node.key
      jgx pki issue sc.env.csr --dir nodes/hub --out nodes/env/tls/node.crt
      jgx pki revoke nodes/env/tls/node.crt --dir nodes/hub --reason key-compromise
    """


@pki.command()
@click.option("--node-id", required=True, help="The node the certificate is for, e.g. sc.env.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Where the CSR goes."
)
@click.option(
    "--key-out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the new key goes (0600).",
)
@click.option(
    "--host",
    "hosts",
    multiple=True,
    help="DNS name or IP address the node serves on (repeatable; default: loopback).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing key file.")
def csr(node_id: str, out: Path, key_out: Path, hosts: tuple[str, ...], force: bool) -> None:
    """Make a TLS key and a certificate signing request (证书签名请求) for NODE_ID; send only the CSR.

    \b
    Example:
      jgx pki csr --node-id sc.env --out sc.env.csr --key-out nodes/env/tls/node.key --host env.example.cn
    The CSR names the node in its common name and as the URI urn:jgx:node:<id>; the key stays here.
    """
    if key_out.exists() and not force:
        io_error(f"{key_out} 已存在，使用 --force 覆盖", f"{key_out} exists; use --force to overwrite")
    try:
        request, key = create_csr(node_id, hosts or ("127.0.0.1", "localhost"))
    except JgxError as exc:
        io_failure("节点标识不合法", "invalid node id", exc)
    write_bytes(key_out, key, private=True)
    write_bytes(out, request)
    click.echo(f"证书签名请求 / CSR for {node_id}: {out}  (key 密钥: {key_out}, keep it here)")


def _request_from(path: Path) -> NodeRequest:
    """A CSR file, or a join request (`jgx trust request`) that carries one, checked."""
    data = read_bytes(path)
    if data.lstrip().startswith(b"{"):
        from gateway.trust_request import read_request  # a join request: its signatures are checked too

        try:
            joined = read_request(data)
        except JgxError as exc:
            _refuse("入网申请无效", "the join request is not valid", exc)
        if joined.csr is None:
            io_error(f"{path} 不含证书签名请求", f"{path} carries no CSR")
        data = joined.csr
    try:
        return read_csr(data)
    except JgxError as exc:
        _refuse("证书签名请求无效", "the CSR is not valid", exc)
        raise  # unreachable: _refuse exits


@pki.command()
@click.argument("request", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Certificate (PEM)."
)
@_DIR
@_CA_CERT
@_CA_KEY
@click.option("--days", type=click.IntRange(min=1), default=397, show_default=True, help="Validity in days.")
@AT_OPTION
def issue(
    request: Path,
    out: Path,
    directory: Path | None,
    ca_cert: Path | None,
    ca_key: Path | None,
    days: int,
    at: str | None,
) -> None:
    """Issue a node certificate (签发证书) from REQUEST: a CSR, or a join request carrying one.

    \b
    Example:
      jgx pki issue sc.env.csr --dir nodes/hub --out sc.env.crt
      jgx pki issue sc.env.request.json --ca-cert ca.crt --ca-key ca.key --out sc.env.crt --days 90
    The CSR's signature must verify (proof of possession) and it must name exactly one node. The
    certificate gets a random serial number, client and server authentication, the node's SAN,
    key identifiers and CA:false; the CA decides everything, the CSR only names the node and hosts.
    """
    authority = _authority(directory, ca_cert, ca_key, None, need_crl=False)
    checked = _request_from(request)
    try:
        cert = issue_certificate(authority.cert, authority.key, checked, now=when(at), days=days)
    except JgxError as exc:
        io_failure("无法用该 CA 签发", "cannot issue with this CA", exc)
    write_bytes(out, cert)
    issued = load_certificate(cert)
    click.echo(f"已签发 / issued {out}: node {checked.node_id}, serial {issued.serial_number:x}")
    start, end = issued.not_valid_before_utc, issued.not_valid_after_utc
    click.echo(f"  valid {start:%Y-%m-%dT%H:%M:%SZ} – {end:%Y-%m-%dT%H:%M:%SZ}")
    click.echo(f"  hosts: {', '.join(checked.hosts) or '-'}")


def _serial_of(certificate: Path | None, serial: str | None, ca: bytes) -> int:
    if (certificate is None) == (serial is None):
        io_error("须给出证书文件或 --serial 之一", "give a certificate file or --serial, not both")
    if serial is not None:
        try:
            return int(serial.removeprefix("0x").replace(":", ""), 16)
        except ValueError:
            io_error(f"序列号应为十六进制: {serial}", f"--serial must be hexadecimal: {serial}")
    assert certificate is not None
    try:
        cert = load_certificate(read_bytes(certificate))
        cert.verify_directly_issued_by(load_certificate(ca))
    except (JgxError, ValueError, TypeError, InvalidSignature) as exc:
        io_failure(
            f"{certificate} 不是本 CA 签发的证书", f"{certificate} is not a certificate of this CA", exc
        )
    return cert.serial_number


@pki.command("revoke")
@click.argument("certificate", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--serial", help="Serial number (hex) instead of the certificate file.")
@_DIR
@_CA_CERT
@_CA_KEY
@_CRL
@click.option(
    "--reason", type=click.Choice(list(REASONS)), default="unspecified", show_default=True, help="Why."
)
@_DAYS_CRL
@AT_OPTION
def revoke_command(
    certificate: Path | None,
    serial: str | None,
    directory: Path | None,
    ca_cert: Path | None,
    ca_key: Path | None,
    crl: Path | None,
    reason: str,
    days: int,
    at: str | None,
) -> None:
    """Revoke a node certificate (吊销证书): add it to the CA's CRL, signed anew.

    \b
    Example:
      jgx pki revoke nodes/env/tls/node.crt --dir nodes/hub --reason key-compromise
      jgx pki revoke --serial 5f1c0a… --ca-cert ca.crt --ca-key ca.key --crl ca.crl
    Nodes whose jgx.toml names this CRL ([tls] crl) refuse the certificate at their next look at
    the file ([tls] reload_seconds), without a restart. Copy the CRL to every other node.
    """
    authority = _authority(directory, ca_cert, ca_key, crl)
    number = _serial_of(certificate, serial, authority.cert)
    _write_crl(authority, [number], reason=reason, days=days, at=at)
    click.echo(f"已吊销 / revoked serial {number:x} ({reason})")


@pki.command("crl")
@_DIR
@_CA_CERT
@_CA_KEY
@_CRL
@_DAYS_CRL
@AT_OPTION
def crl_command(
    directory: Path | None,
    ca_cert: Path | None,
    ca_key: Path | None,
    crl: Path | None,
    days: int,
    at: str | None,
) -> None:
    """Create or refresh the CA's revocation list (吊销列表) with a new nextUpdate; nothing is revoked.

    \b
    Example (weekly, before nextUpdate passes):
      jgx pki crl --dir nodes/hub --days 7
    """
    authority = _authority(directory, ca_cert, ca_key, crl)
    _write_crl(authority, [], reason="unspecified", days=days, at=at)


def _write_crl(authority: _Authority, serials: list[int], *, reason: str, days: int, at: str | None) -> None:
    current = read_bytes(authority.crl) if authority.crl.exists() else None
    try:
        data = revoke(authority.cert, authority.key, current, serials, reason=reason, now=when(at), days=days)
        written = load_crl(data, authority.cert)
    except JgxError as exc:
        io_failure(f"无法更新吊销列表 {authority.crl}", f"cannot update the CRL {authority.crl}", exc)
    # Nodes re-read the CRL while serving: write beside it and rename, so none reads half a file.
    try:
        replace_file(authority.crl, data)
    except OSError as exc:
        os_failure(f"无法写入 {authority.crl}", f"cannot write {authority.crl}", exc)
    click.echo(
        f"吊销列表 / CRL {authority.crl}: #{written.number}, {len(written.revoked)} revoked, "
        f"next update {written.next_update:%Y-%m-%dT%H:%M:%SZ}"
    )
