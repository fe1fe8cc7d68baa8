"""``jgx trust request`` and ``jgx trust merge``: a department joins in two commands.

The model and its checks are `gateway.trust_request`.

The department writes one signed request file; the admin reviews it (a summary and the diff of the
trust document) and merges it into the next version, signed at once when the admin key is given.
"""

from __future__ import annotations

import difflib
from datetime import timedelta
from pathlib import Path

import click

from gateway.cli._common import (
    AT_OPTION,
    in_languages,
    io_error,
    io_failure,
    private_key_from,
    read_bytes,
    verdict_error,
    when,
    write_bytes,
)
from gateway.cli._node import load_node, token_key
from gateway.config import CONFIG_FILE
from gateway.errors import JgxError, TrustError
from gateway.keys import PrivateKey
from gateway.trust import ROLES, AclEntry, Node
from gateway.trust_request import make_request, merge_requests, read_request
from gateway.trust_update import load_trust, sign_trust

__all__ = ["merge", "request"]


@click.command("request")
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
    help="The node directory (jgx init): node id, keys/node.key and tls/node.csr from it.",
)  # fmt: skip
@click.option("--node-id", help="The node id (default: from --dir's jgx.toml).")
@click.option("--key", "key_files", multiple=True, help="Private signing key to register (repeatable).")
@click.option("--csr", type=click.Path(dir_okay=False, path_type=Path), help="TLS CSR to hand in with it.")
@click.option("--role", type=click.Choice(ROLES), default="department", show_default=True, help="What it is.")
@click.option("--name-zh", required=True, help="Chinese name, e.g. 四川省生态环境厅.")
@click.option("--name-en", required=True, help="English name.")
@click.option("--region", default="", help="GB/T 2260 region code, e.g. 510000.")
@click.option("--uscc", default="", help="The agency's unified social credit code.")
@click.option("--endpoint", default="", help="host:port where the node (or its adapter) listens.")
@click.option("--gateway", "gateway_id", default="", help="Gateway receiving on its behalf, e.g. sc.hub.")
@click.option("--recipient", "recipients", multiple=True, help="ACL asked for: recipient (repeatable).")
@click.option("--standard", "standards", multiple=True, help="ACL asked for: standard (repeatable).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Request file.")
@AT_OPTION
def request(
    *,
    directory: Path | None,
    node_id: str | None,
    key_files: tuple[str, ...],
    csr: Path | None,
    role: str,
    name_zh: str,
    name_en: str,
    region: str,
    uscc: str,
    endpoint: str,
    gateway_id: str,
    recipients: tuple[str, ...],
    standards: tuple[str, ...],
    out: Path,
    at: str | None,
) -> None:
    """Write a signed join request (入网申请) to hand to the trust administrators.

    \b
    Example (a department node made with jgx init --csr):
      jgx trust request --dir nodes/env --name-zh 四川省生态环境厅 --name-en "Ecology and environment" \\
          --gateway sc.hub --recipient sc.hub --standard SC-08 --out sc.env.request.json
    It carries the node record, its public keys, the ACL asked for (this node as sender) and the
    TLS CSR; every key signs it, so the admin can tell it was not changed on the way.
    """
    token_keys: list[PrivateKey] = []
    if directory is not None:
        if not (directory / CONFIG_FILE).exists():
            io_error(f"{directory} 中没有 {CONFIG_FILE}", f"no {CONFIG_FILE} in {directory}")
        config = load_node(directory)
        node_id = node_id or config.node_id
        if not key_files and config.token_key is not None:  # the node's key is on its PKCS#11 token
            token_keys.append(token_key(config))
        key_files = key_files or (() if token_keys else (str(config.paths.node_key),))
        default_csr = config.directory / "tls" / "node.csr"
        csr = csr or (default_csr if default_csr.exists() else None)
    if node_id is None or not (key_files or token_keys):
        io_error("须给出 --dir，或 --node-id 与 --key", "give --dir, or --node-id and --key")
    if bool(recipients) != bool(standards):
        io_error("--recipient 与 --standard 须同时给出", "give --recipient and --standard together")
    keys = [private_key_from(k) for k in key_files] + token_keys
    acl = [AclEntry(node_id, recipients, standards)] if recipients else []
    node = Node(node_id, name_zh, name_en, role, (), region, uscc, endpoint, gateway_id)
    try:
        signed = make_request(node, keys, acl, now=when(at), csr=read_bytes(csr) if csr else None)
    except JgxError as exc:
        io_failure("申请无效", "the request is invalid", exc)
    write_bytes(out, signed)
    click.echo(
        f"已写入入网申请 / wrote join request {out} for {node_id}: {len(keys)} key(s), CSR {csr or 'none'}"
    )
    click.echo("  交给信任配置管理员 / hand it to the trust administrators: jgx trust merge " + str(out))


def _review(label: str, before: bytes, after: bytes) -> None:
    diff = difflib.unified_diff(
        before.decode("utf-8").splitlines(), after.decode("utf-8").splitlines(), label, "next", lineterm=""
    )
    for line in diff:
        click.echo(line)


@click.command("merge")
@click.argument("requests", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--trust", "trust_file", required=True, type=click.Path(dir_okay=False), help="Current signed trust."
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where the next version goes.")
@click.option(
    "--key", "key_files", multiple=True, help="Admin private key: sign the next version (repeatable)."
)
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True, help="Validity in days.")
@click.option("--replace", "replace_nodes", is_flag=True, help="Let a request update a node already present.")
@click.option("--dry-run", is_flag=True, help="Review only: show the summary and diff, write nothing.")
@AT_OPTION
def merge(
    *,
    requests: tuple[Path, ...],
    trust_file: str,
    out: Path | None,
    key_files: tuple[str, ...],
    days: int,
    replace_nodes: bool,
    dry_run: bool,
    at: str | None,
) -> None:
    """Review join requests and merge them into the next trust version (审核并合并入网申请).

    \b
    Example:
      jgx trust merge sc.env.request.json --trust trust.json --dry-run          # review only
      jgx trust merge sc.env.request.json --trust trust.json --key keys/admin.key --out trust.v2.json
    Prints what each request asks for and the diff of the trust document. A request that was
    changed after signing, or that conflicts with the configuration or another request, is
    refused (exit 1). Without --key the next version is written unsigned, for jgx trust sign.
    """
    now = when(at)
    try:
        current = load_trust(read_bytes(trust_file), now=now)
    except TrustError as exc:
        verdict_error(exc)
    joined = []
    for path in requests:
        try:
            joined.append(read_request(read_bytes(path)))
        except JgxError as exc:
            click.echo(f"拒绝申请 / request refused: {path}", err=True)
            verdict_error(exc)
    try:
        merged = merge_requests(
            current, joined, issued_at=now, expires_at=now + timedelta(days=days), replace_nodes=replace_nodes
        )
    except TrustError as exc:
        verdict_error(exc)
    for path, one in zip(requests, joined, strict=True):
        click.echo(f"申请 / request {path}:")
        for line in one.describe():
            click.echo(f"  {line}")
    _review(f"{trust_file} (version {current.version})", current.to_json_bytes(), merged.to_json_bytes())
    if dry_run:
        click.echo(f"仅审核，未写入 / review only: version {merged.version} not written")
        return
    if out is None:
        io_error("须给出 --out（或 --dry-run）", "give --out (or --dry-run)")
    if not key_files:
        write_bytes(out, merged.to_json_bytes() + b"\n")
        click.echo(f"已写入未签名的第 {merged.version} 版 / wrote unsigned version {merged.version} to {out}")
        click.echo(f"  next: jgx trust sign {out} --key ADMIN.key --out SIGNED.json")
        return
    keys = [private_key_from(k) for k in key_files]
    admins = {k.key_id for k in current.admin_keys}
    strangers = [str(f) for f, k in zip(key_files, keys, strict=True) if k.key_id not in admins]
    if strangers:
        io_error(
            f"{', '.join(strangers)} 不是第 {current.version} 版的管理员密钥",
            f"{', '.join(strangers)}: not an admin key of version {current.version}",
        )
    signed = sign_trust(merged, keys)
    write_bytes(out, signed)
    try:
        load_trust(signed, now=now, previous=current)
    except TrustError as exc:  # a threshold above the keys given: the other admins sign in turn
        zh, en = in_languages(exc)
        click.echo(f"已写入第 {merged.version} 版，签名未达门限: {zh}\n"
                   f"wrote version {merged.version} to {out}; more admin signatures: {en}")  # fmt: skip
        click.echo(f"  next: jgx trust sign {out} --key ADMIN2.key")
        return
    click.echo(f"OK 已签名 / signed version {merged.version} → {out}; it follows version {current.version}")
