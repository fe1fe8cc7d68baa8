"""The node directory as `jgx serve`, `jgx log` and `jgx trace` read it (``jgx.toml``, `gateway.config`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gateway._files import replace_file
from gateway.checkpoint import NoteVerifier
from gateway.cli._common import io_error, io_failure
from gateway.cli._signer import KeySource, file_key, open_token_or_exit, signing_key
from gateway.config import CONFIG_FILE, Config, load_config
from gateway.errors import JgxError
from gateway.keys import PrivateKey, PublicKey
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
        io_failure(f"无法使用 {directory / CONFIG_FILE}", f"cannot use {directory / CONFIG_FILE}", exc)


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
    """The node's key file (``[paths] node_key``), or exit 2; not checked against the trust configuration
    (`node_signing_key` is what a node signs with)."""
    return file_key(config.paths.node_key)


def token_key(config: Config) -> PrivateKey:
    """The node's key on the PKCS#11 token of ``[keys.pkcs11]``, or exit 2 naming the step that failed."""
    if config.token_key is None:
        io_error(
            f"{config.directory / CONFIG_FILE} 没有 [keys.pkcs11]",
            f"{config.directory / CONFIG_FILE} has no [keys.pkcs11] table",
        )
    return open_token_or_exit(config.token_key)


def node_signing_key(config: Config, trust: TrustConfig) -> PrivateKey:
    """The key `jgx serve` signs receipts and checkpoints with (`gateway.cli._signer.signing_key`)."""
    return signing_key(KeySource(config.paths.node_key, config.token_key), config.node_id, trust)


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
        io_failure(
            f"信任配置被拒绝（上次使用的版本记录在 {record}）",
            f"the trust configuration is refused (the version last used is kept in {record})",
            exc,
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
        io_failure(
            "信任配置中没有本节点的日志公钥",
            "the trust configuration has no log key for this node",
            exc,
        )


def node_keys(config: Config, now: datetime) -> dict[str, PublicKey]:
    """Every public key the trust configuration lists for this node, by key id (revoked or expired too:
    a rotation must not make the receipts signed before it unverifiable)."""
    trust = node_trust(config, now)
    try:
        return {record.key_id: record.public_key for record in trust.node(config.node_id).keys}
    except JgxError as exc:
        io_failure("信任配置中没有本节点", "the trust configuration does not list this node", exc)
