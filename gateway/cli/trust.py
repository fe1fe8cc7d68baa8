"""``jgx trust``: create, edit, sign, verify and show the trust configuration (信任配置).

The workflow: ``create`` writes an unsigned document (plain JSON); ``add-node``, ``add-key``,
``revoke-key``, ``allow`` and ``set-policy`` edit it; ``sign`` turns it into the signed DSSE JSON
envelope, and adds more admin signatures to a signed one until the threshold is met; ``verify``
checks it (against the previous version when rotating); ``next`` starts version N+1 from a signed one.
A department joins with ``request`` (one signed file) and the admin's ``merge`` (`gateway.cli.trust_join`).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import click

from gateway._json import loads_strict
from gateway._time import format_time, parse_time
from gateway.cli import trust_join
from gateway.cli._common import (
    AT_OPTION,
    io_error,
    io_failure,
    private_key_from,
    public_key_from,
    read_bytes,
    verdict_error,
    when,
    write_bytes,
)
from gateway.dsse import TRUST_TYPE, json_envelope_parts
from gateway.errors import JgxError, TrustError
from gateway.trust import ROLES, AclEntry, Node, TrustConfig, key_record
from gateway.trust_update import add_trust_signature, count_signatures, load_trust, sign_trust


def _is_signed(data: bytes) -> bool:
    try:
        doc = loads_strict(data)
    except JgxError:
        return False
    return isinstance(doc, dict) and doc.get("payloadType") == TRUST_TYPE


def _payload(data: bytes) -> bytes:
    if _is_signed(data):
        return json_envelope_parts(loads_strict(data))[0]
    return data


def _load_document(path: str) -> TrustConfig:
    """An unsigned or signed document, parsed without checking signatures (for editing and showing)."""
    try:
        return TrustConfig.from_json_bytes(_payload(read_bytes(path)))
    except JgxError as exc:
        io_failure(f"{path} 不是有效的信任配置", f"{path} is not a valid trust configuration", exc)


def _save(path: str, config: TrustConfig) -> None:
    write_bytes(path, config.to_json_bytes() + b"\n")


@click.group()
def trust() -> None:
    """The trust configuration: nodes, keys, ACL, policies and admin keys, signed by a threshold.

    \b
    Example (one admin, threshold 1):
      jgx keys generate --out keys/admin
      jgx keys generate --out keys/sc.hub
      jgx keys generate --out keys/sc.amr
      jgx trust create trust.json --admin keys/admin.pub --threshold 1
      jgx trust add-node trust.json sc.hub --role hub --name-zh 交换枢纽 --name-en Hub --key keys/sc.hub.pub
      jgx trust add-node trust.json sc.amr --role department --name-zh 市场监管局 \\
          --name-en "Market regulation" --gateway sc.hub --key keys/sc.amr.pub
      jgx trust allow trust.json --sender sc.amr --recipient sc.hub --standard SC-06
      jgx trust sign trust.json --key keys/admin.key --out trust.signed.json
      jgx trust verify trust.signed.json
    """


trust.add_command(trust_join.request)
trust.add_command(trust_join.merge)


@trust.command()
@click.argument("out", type=click.Path())
@click.option(
    "--admin", "admins", multiple=True, required=True, help="Admin public key file (repeat for several)."
)
@click.option(
    "--threshold", type=click.IntRange(min=1), default=1, show_default=True, help="Admin signatures needed."
)
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True, help="Validity in days.")
@AT_OPTION
def create(out: str, admins: tuple[str, ...], threshold: int, days: int, at: str | None) -> None:
    """Write a new unsigned document (version 1, no nodes, deny-all ACL) to OUT."""
    now = when(at)
    keys = [public_key_from(a) for a in admins]
    if threshold > len(keys):
        io_error(
            f"门限 {threshold} 大于管理员密钥数 {len(keys)}",
            f"threshold {threshold} exceeds {len(keys)} admin keys",
        )
    config = TrustConfig.new(keys, threshold=threshold, issued_at=now, expires_at=now + timedelta(days=days))
    _save(out, config)
    click.echo(f"created {out}: version 1, {len(keys)} admin key(s), threshold {threshold}")


@trust.command("add-node")
@click.argument("document", type=click.Path())
@click.argument("node_id")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the node is.")
@click.option("--name-zh", required=True, help="Chinese name, e.g. 四川省市场监督管理局.")
@click.option("--name-en", required=True, help="English name.")
@click.option("--key", "key_files", multiple=True, help="Public key file of the node (repeatable).")
@click.option("--region", default="", help="GB/T 2260 region code, e.g. 510000.")
@click.option("--uscc", default="", help="The agency's unified social credit code.")
@click.option("--endpoint", default="", help="host:port where the node (or its adapter) listens.")
@click.option(
    "--gateway", "gateway_id", default="", help="Node id of the gateway that receives on its behalf."
)
def add_node(
    document: str,
    node_id: str,
    role: str,
    name_zh: str,
    name_en: str,
    key_files: tuple[str, ...],
    region: str,
    uscc: str,
    endpoint: str,
    gateway_id: str,
) -> None:
    """Add (or replace) node NODE_ID in the unsigned DOCUMENT."""
    config = _load_document(document)
    keys = tuple(key_record(public_key_from(k)) for k in key_files)
    node = Node(node_id, name_zh, name_en, role, keys, region, uscc, endpoint, gateway_id)
    _checked_save(document, config.with_node(node))
    click.echo(f"{document}: node {node_id} ({role}) with {len(keys)} key(s)")


@trust.command("add-key")
@click.argument("document", type=click.Path())
@click.argument("node_id")
@click.argument("key_file", type=click.Path())
@click.option("--valid-from", metavar="TIME", help="Start of the key's validity (RFC 3339, UTC with Z).")
@click.option("--valid-to", metavar="TIME", help="End of the key's validity (RFC 3339, UTC with Z).")
def add_key(document: str, node_id: str, key_file: str, valid_from: str | None, valid_to: str | None) -> None:
    """Add the public key in KEY_FILE to NODE_ID (key rotation: add the new, later revoke the old)."""
    config = _load_document(document)
    key = public_key_from(key_file)
    try:
        start, end = (parse_time(t) if t else None for t in (valid_from, valid_to))
    except JgxError as exc:
        io_failure("时间格式无效", "invalid time (RFC 3339, UTC with Z)", exc)
    try:
        config = config.with_node_key(node_id, key_record(key, valid_from=start, valid_to=end))
    except JgxError as exc:
        io_failure(f"无此节点: {node_id}", f"no such node: {node_id}", exc)
    _checked_save(document, config)
    click.echo(f"{document}: {node_id} key {key.key_id}")


@trust.command("revoke-key")
@click.argument("document", type=click.Path())
@click.argument("key_id")
def revoke_key(document: str, key_id: str) -> None:
    """Mark KEY_ID revoked: signatures by it are refused with KEY_REVOKED from the next version on."""
    config = _load_document(document)
    try:
        config = config.with_key_revoked(key_id)
    except JgxError:
        io_error(f"信任配置中无此密钥: {key_id}", f"no such key in the document: {key_id}")
    _checked_save(document, config)
    click.echo(f"{document}: key {key_id} revoked")


@trust.command()
@click.argument("document", type=click.Path())
@click.option("--sender", required=True, help="Sender node id, or * for any.")
@click.option(
    "--recipient", "recipients", multiple=True, required=True, help="Recipient node id or * (repeatable)."
)
@click.option(
    "--standard", "standards", multiple=True, required=True, help="SC-01 … SC-20 or * (repeatable)."
)
def allow(document: str, sender: str, recipients: tuple[str, ...], standards: tuple[str, ...]) -> None:
    """Add an ACL entry: SENDER may send STANDARDs to RECIPIENTs (everything else is denied)."""
    config = _load_document(document).with_acl(AclEntry(sender, recipients, standards))
    _checked_save(document, config)
    click.echo(f"{document}: {sender} -> {', '.join(recipients)}: {', '.join(standards)}")


@trust.command("set-policy")
@click.argument("document", type=click.Path())
@click.argument("name")
@click.argument("value")
def set_policy(document: str, name: str, value: str) -> None:
    """Set policy NAME to VALUE (JSON), e.g. max_envelope_bytes 1048576, clock_skew_seconds 300,
    deadlines '{"SC-11": {"working_days": 7}}'."""
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        parsed = value
    _checked_save(document, _load_document(document).with_policies(**{name: parsed}))
    click.echo(f"{document}: policy {name} = {json.dumps(parsed, ensure_ascii=False)}")


def _checked_save(path: str, config: TrustConfig) -> None:
    try:
        TrustConfig.from_json_bytes(config.to_json_bytes())
    except TrustError as exc:
        io_failure("修改后的文档无效", "the edited document is invalid", exc)
    _save(path, config)


@trust.command("next")
@click.argument("signed", type=click.Path())
@click.option("--out", required=True, type=click.Path(), help="Where to write the unsigned next version.")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True, help="Validity in days.")
@AT_OPTION
def next_version(signed: str, out: str, days: int, at: str | None) -> None:
    """Start version N+1 from the signed version N (edit it, then sign it with N's and its own admins)."""
    now = when(at)
    config = _load_document(signed).bump(issued_at=now, expires_at=now + timedelta(days=days))
    _save(out, config)
    click.echo(f"wrote {out}: version {config.version} (unsigned)")


@trust.command()
@click.argument("document", type=click.Path())
@click.option("--key", "key_files", multiple=True, required=True, help="Admin private key file (repeatable).")
@click.option(
    "--out", type=click.Path(), help="Output file; default: DOCUMENT itself when it is already signed."
)
def sign(document: str, key_files: tuple[str, ...], out: str | None) -> None:
    """Sign DOCUMENT (unsigned JSON → DSSE JSON envelope) or add signatures to an already signed one.

    \b
    Example, two admins signing in turn (threshold signing):
      jgx trust sign trust.json --key admin1.key --out trust.signed.json
      jgx trust sign trust.signed.json --key admin2.key
    """
    data = read_bytes(document)
    keys = [private_key_from(k) for k in key_files]
    if _is_signed(data):
        signed = data
        for key in keys:
            signed = add_trust_signature(signed, key)
    else:
        signed = sign_trust(_load_document(document), keys)
    target = out or (document if _is_signed(data) else None)
    if target is None:
        io_error("未签名文档需指定 --out", "an unsigned document needs --out")
    write_bytes(target, signed)
    click.echo(f"wrote {target}: {len(keys)} signature(s) added")


@trust.command()
@click.argument("signed", type=click.Path())
@click.option("--previous", type=click.Path(), help="The signed previous version (checks rotation rules).")
@AT_OPTION
def verify(signed: str, previous: str | None, at: str | None) -> None:
    """Verify a signed trust configuration; exit 0 when it is valid, 1 with the reason code when not.

    \b
    Example:
      jgx trust verify trust.v2.json --previous trust.v1.json
    """
    now = when(at)
    try:
        prior = load_trust(read_bytes(previous), now=now, check_expiry=False) if previous else None
        config = load_trust(read_bytes(signed), now=now, previous=prior)
    except TrustError as exc:
        verdict_error(exc)
    payload, _, signatures = json_envelope_parts(loads_strict(read_bytes(signed)))
    own = count_signatures(payload, signatures, config.admin_keys, config.admin_threshold, now)
    click.echo(f"OK 有效: version {config.version}, {len(config.nodes)} nodes, {own.describe()}")
    click.echo(f"   valid until {format_time(config.expires_at)}")


@trust.command()
@click.argument("document", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the document as JSON.")
def show(document: str, as_json: bool) -> None:
    """Show a trust configuration (signed or unsigned) in a readable form."""
    config = _load_document(document)
    if as_json:
        click.echo(config.to_json_bytes().decode("utf-8"))
        return
    click.echo(f"信任配置 trust configuration v{config.version}")
    click.echo(f"  issued {format_time(config.issued_at)}  expires {format_time(config.expires_at)}")
    click.echo(f"  admins: threshold {config.admin_threshold} of {len(config.admin_keys)}")
    for k in config.admin_keys:
        click.echo(f"    {k.key_id}  {k.algorithm.value}")
    click.echo("  nodes 节点:")
    for node in sorted(config.nodes.values(), key=lambda n: n.node_id):
        via = f" via {node.gateway}" if node.gateway else ""
        click.echo(f"    {node.node_id:<14} {node.role:<10} {node.name_zh} / {node.name_en}{via}")
        for k in node.keys:
            flag = " REVOKED 已吊销" if k.revoked else ""
            click.echo(f"      key {k.key_id}  {k.algorithm.value}{flag}")
    click.echo("  acl 访问控制 (deny by default):")
    for e in config.acl:
        click.echo(f"    {e.sender} -> {', '.join(e.recipients)}: {', '.join(e.standards)}")
    if config.policies:
        click.echo(f"  policies: {json.dumps(dict(config.policies), ensure_ascii=False, sort_keys=True)}")
