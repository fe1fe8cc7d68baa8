"""The one way every jgx process finds the private key it signs with as a node: `jgx serve` (receipts and
checkpoints), `jgx adapter run`, `jgx bridge run|serve` and `jgx bridge national serve` (envelopes).

The key is where the node directory's ``jgx.toml`` says: on the PKCS#11 token of ``[keys.pkcs11]``, or
in the PKCS#8 file ``[paths] node_key`` (default ``keys/node.key``). A directory without ``jgx.toml``
(an adapter's or a bridge's, laid out by hand) has the default layout and a key file. Whichever it is,
the key must be one of the node's unrevoked keys in the trust configuration, or the process exits 2
before signing anything: a key nobody can verify only produces envelopes the hub refuses (KEY_UNKNOWN)
and receipts no one can check.

Keys given explicitly on the command line (``jgx envelope sign --key``, ``jgx trust sign --key``, the
join request of ``jgx trust request``) are not node keys in this sense and are loaded where they are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.cli._common import io_error, io_failure, read_bytes
from gateway.config import CONFIG_FILE, Paths, load_config
from gateway.errors import JgxError, ReasonCode
from gateway.keys import PrivateKey, load_private_key
from gateway.keystore import TokenKeySettings
from gateway.trust import TrustConfig

__all__ = ["KeySource", "directory_key", "file_key", "open_token_or_exit", "signing_key"]


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where a node's signing key is: the key file, unless ``token`` names a key on a PKCS#11 token."""

    key_file: Path
    token: TokenKeySettings | None = None


def node_files(directory: Path) -> tuple[Paths, KeySource]:
    """The files of the node directory (``[paths]`` of its ``jgx.toml``, or the default layout when it
    has none) and where its signing key is; exit 2 when ``jgx.toml`` is there but unusable."""
    config_file = directory / CONFIG_FILE
    if not config_file.exists():
        paths = Paths.under(directory)
        return paths, KeySource(paths.node_key)
    try:
        config = load_config(config_file)
    except JgxError as exc:
        io_failure(f"无法使用 {config_file}", f"cannot use {config_file}", exc)
    return config.paths, KeySource(config.paths.node_key, config.token_key)


def directory_key(directory: Path, node_id: str, trust: TrustConfig) -> tuple[PrivateKey, Paths]:
    """`signing_key` of the node directory for ``node_id``, with the directory's files (TLS, trust)."""
    paths, source = node_files(directory)
    return signing_key(source, node_id, trust), paths


def signing_key(source: KeySource, node_id: str, trust: TrustConfig) -> PrivateKey:
    """The key ``node_id`` signs with, set up as its trust record says (SM2 signer id), or exit 2 naming
    why: the file or token cannot be used, or the key is not one of ``node_id``'s unrevoked keys in the
    trust configuration (the same rule for a key file and a token key)."""
    key = open_token_or_exit(source.token) if source.token is not None else file_key(source.key_file)
    try:
        node = trust.node(node_id)
    except JgxError as exc:
        io_failure("信任配置中没有本节点", "the trust configuration does not list this node", exc)
    listed = [record.key_id for record in node.keys if not record.revoked]
    if key.key_id not in listed:
        where_zh, where_en = (
            ("令牌上的密钥", "the token's key") if source.token is not None else
            (f"{source.key_file} 中的密钥", f"the key in {source.key_file}")
        )  # fmt: skip
        io_error(
            f"无法使用节点签名密钥 [key_id]: {where_zh} {key.key_id} 不是信任配置中节点 {node_id} 的密钥"
            f"（或已吊销）（{ReasonCode.KEY_UNKNOWN.value}）",
            f"cannot use the node's signing key [key_id]: {where_en} {key.key_id} is not an unrevoked "
            f"key of {node_id} in the trust configuration (listed: {', '.join(listed) or 'none'}) "
            f"({ReasonCode.KEY_UNKNOWN.value})",
        )
    return trust.signing_key(key)


def file_key(path: Path) -> PrivateKey:
    """A PKCS#8 PEM key file, or exit 2."""
    try:
        return load_private_key(read_bytes(path))
    except JgxError as exc:
        io_failure(f"无法读取节点签名密钥 {path}", f"cannot load {path}", exc)


def open_token_or_exit(settings: TokenKeySettings) -> PrivateKey:
    """The key on the token of ``settings`` (logged in), or exit 2 naming the step that failed."""
    from gateway.hsm import TokenKeyError, open_token_key

    try:
        return open_token_key(settings)
    except TokenKeyError as exc:
        io_error(
            f"无法使用令牌上的节点签名密钥 [{exc.problem}]: {exc.zh}",
            f"cannot use the node's signing key on the token [{exc.problem}]: {exc.en} ({exc.reason.value})",
        )
