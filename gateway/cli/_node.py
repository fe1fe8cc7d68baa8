"""The node directory as `jgx serve`, `jgx log` and `jgx trace` read it (``jgx.toml``, `gateway.config`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gateway._files import replace_file
from gateway.checkpoint import NoteVerifier
from gateway.cli._common import io_error, io_failure
from gateway.config import CONFIG_FILE, Config, load_config
from gateway.errors import JgxError
from gateway.keys import PrivateKey, PublicKey, load_private_key
from gateway.logbook import log_verifier
from gateway.storage import StorageError, Store, store_for
from gateway.storage.sqlite import SqliteStore
from gateway.trust import TrustConfig
from gateway.trust_update import load_trust, load_trust_after

__all__ = [
    "last_used_trust",
    "load_node",
    "node_key",
    "node_keys",
    "node_signing_key",
    "node_store",
    "node_trust",
    "remember_trust",
    "serving_trust",
    "token_key",
    "verifier",
]


def load_node(directory: Path) -> Config:
    """The node's configuration, or exit 2 saying what is wrong with ``jgx.toml``."""
    try:
        return load_config(directory / CONFIG_FILE)
    except JgxError as exc:
        io_error(
            f"无法使用 {directory / CONFIG_FILE}: {exc.detail}",
            f"cannot use {directory / CONFIG_FILE}: {exc}",
        )


def node_store(config: Config, *, must_exist: bool = False) -> Store:
    """The node's store from ``[storage] url`` (SQLite or PostgreSQL), not yet open; exit 2 if unusable.

    ``must_exist`` refuses a SQLite file that is not there (reading commands must not create one).
    """
    try:
        store = store_for(config.storage_url, base=config.directory, hasher=config.log_hash)
    except StorageError as exc:
        io_failure("存储地址不可用", "the storage URL is not usable", exc)
    if must_exist and isinstance(store, SqliteStore) and not store.path.exists():
        io_error(f"数据库不存在: {store.path}", f"no database at {store.path}")
    return store


def node_key(config: Config) -> PrivateKey:
    """The node's signing key (receipts and checkpoints), or exit 2."""
    try:
        return load_private_key(config.paths.node_key.read_bytes())
    except (OSError, JgxError) as exc:
        io_error(
            f"无法读取节点签名密钥 {config.paths.node_key}: {exc}",
            f"cannot load {config.paths.node_key}: {exc}",
        )


def token_key(config: Config) -> PrivateKey:
    """The node's key on the PKCS#11 token of ``[keys.pkcs11]``, or exit 2 naming the step that failed."""
    from gateway.hsm import TokenKeyError, open_token_key

    if config.token_key is None:
        io_error(
            f"{config.directory / CONFIG_FILE} 没有 [keys.pkcs11]",
            f"{config.directory / CONFIG_FILE} has no [keys.pkcs11] table",
        )
    try:
        return open_token_key(config.token_key)
    except TokenKeyError as exc:
        io_error(
            f"无法使用令牌上的节点签名密钥 [{exc.problem}]: {exc.zh}",
            f"cannot use the node's signing key on the token [{exc.problem}]: {exc.en} ({exc.reason.value})",
        )


def node_signing_key(config: Config, trust: TrustConfig) -> PrivateKey:
    """The key the node signs receipts and checkpoints with, set up as the trust configuration says, or
    exit 2: the PKCS#8 file, or with ``[keys.pkcs11]`` the token's key, which must be one of this node's
    unrevoked keys in the trust configuration (a node never starts signing with a key nobody can verify)."""
    if config.token_key is None:
        return trust.signing_key(node_key(config))
    from gateway.hsm import TokenKeyError, check_in_trust

    key = token_key(config)
    try:
        node = trust.node(config.node_id)
        check_in_trust(key, config.node_id, (record.key_id for record in node.keys if not record.revoked))
    except TokenKeyError as exc:
        io_error(
            f"无法使用令牌上的节点签名密钥 [{exc.problem}]: {exc.zh}",
            f"cannot use the node's signing key on the token [{exc.problem}]: {exc.en} ({exc.reason.value})",
        )
    except JgxError as exc:
        io_failure("信任配置中没有本节点", "the trust configuration does not list this node", exc)
    return trust.signing_key(key)


def node_trust(config: Config, now: datetime) -> TrustConfig:
    """The verified trust configuration, or exit 2 saying why it is refused."""
    try:
        return load_trust(config.paths.trust.read_bytes(), now=now)
    except OSError as exc:
        io_failure(f"无法读取信任配置 {config.paths.trust}", f"cannot read {config.paths.trust}", exc)
    except JgxError as exc:
        io_failure("信任配置被拒绝", "the trust configuration is refused", exc)


def last_used_trust(config: Config) -> Path:
    """Where the node keeps the signed trust document it last ran with (rollback protection)."""
    return config.directory / "state" / "trust-last-used.json"


def serving_trust(config: Config, now: datetime) -> tuple[TrustConfig, bytes]:
    """The trust configuration `jgx serve` may run with and its signed bytes, or exit 2 saying why.

    Refused besides what `node_trust` refuses: an older version than the one the node last ran with
    (TRUST_ROLLBACK), and a newer one its admins did not hand over to (TRUST_THRESHOLD_NOT_MET).
    """
    try:
        signed = config.paths.trust.read_bytes()
    except OSError as exc:
        io_failure(f"无法读取信任配置 {config.paths.trust}", f"cannot read {config.paths.trust}", exc)
    record = last_used_trust(config)
    try:
        last = record.read_bytes() if record.exists() else None
    except OSError as exc:
        io_failure(f"无法读取 {record}", f"cannot read {record}", exc)
    try:
        return load_trust_after(signed, last_used=last, now=now), signed
    except JgxError as exc:
        io_error(
            f"信任配置被拒绝（上次使用的版本记录在 {record}）: {exc.diagnostics()}",
            f"the trust configuration is refused (the version last used is kept in {record}): {exc}",
        )


def remember_trust(config: Config, signed: bytes) -> None:
    """Record ``signed`` as the trust document the node runs with (atomically, durably)."""
    record = last_used_trust(config)
    if record.exists() and record.read_bytes() == signed:
        return
    replace_file(record, signed)  # replicas sharing the directory may write it at the same moment


def verifier(config: Config, now: datetime) -> NoteVerifier:
    """The log's checkpoint verifier with the node's key from the trust configuration (never the data)."""
    trust = node_trust(config, now)
    try:
        return log_verifier(config.node_id, trust.node(config.node_id).keys[0].public_key, config.log_hash)
    except (JgxError, IndexError) as exc:
        io_error(
            f"信任配置中没有本节点的日志公钥: {exc}",
            f"the trust configuration has no log key for this node: {exc}",
        )


def node_keys(config: Config, now: datetime) -> dict[str, PublicKey]:
    """Every public key the trust configuration lists for this node, by key id (revoked or expired too:
    a rotation must not make the receipts signed before it unverifiable)."""
    trust = node_trust(config, now)
    try:
        return {record.key_id: record.public_key for record in trust.node(config.node_id).keys}
    except JgxError as exc:
        io_failure("信任配置中没有本节点", "the trust configuration does not list this node", exc)
