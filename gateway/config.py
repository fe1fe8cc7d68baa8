"""A node's configuration file, ``jgx.toml``: who the node is, where it listens, what it trusts.

The model is frozen dataclasses with defaults a single-machine node can run with. Reading is
``tomllib``; writing is the small renderer below (the file holds strings, numbers, booleans and one
table of peers, nothing TOML-exotic). Relative paths in the file are relative to the file's directory.
Every defect is a :class:`ConfigError` naming the key, in Chinese and English; unknown keys are refused
so that a typo never silently falls back to a default.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from gateway.console_settings import CONSOLE_KEYS, ConsoleSettings, console_table, parse_console_table
from gateway.crl import STALE_POLICIES
from gateway.errors import JgxError, ReasonCode
from gateway.keystore import TokenKeySettings, parse_keys_table, render_keys_table
from gateway.pki import NODE_ID
from gateway.policy import LocalLimits
from gateway.treehash import PROFILES, SHA256, TreeHash

__all__ = [
    "CONFIG_FILE",
    "Config",
    "ConfigError",
    "Connections",
    "Delivery",
    "Limits",
    "Listen",
    "Paths",
    "default_config",
    "load_config",
    "parse_config",
    "render_config",
]

CONFIG_FILE: Final = "jgx.toml"
_ADDRESS: Final = re.compile(r"^(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})$")
_STORAGE_SCHEMES: Final = ("sqlite:///", "postgresql://", "postgres://")


class ConfigError(JgxError):
    """``jgx.toml`` cannot be used: a key is missing, unknown, or has a bad value."""

    def __init__(self, key: str, zh: str, en: str) -> None:
        self.key = key
        self.detail_zh, self.detail_en = f"jgx.toml [{key}]: {zh}", f"jgx.toml [{key}]: {en}"
        super().__init__(ReasonCode.MALFORMED, f"jgx.toml [{key}]: {zh} / {en}")


@dataclass(frozen=True, slots=True)
class Listen:
    """Where the node listens: gRPC (mTLS), the operator console (HTTP), Prometheus metrics."""

    host: str = "127.0.0.1"
    grpc_port: int = 7443
    console_port: int = 7080
    metrics_port: int = 9464


@dataclass(frozen=True, slots=True)
class Paths:
    """Files the node reads, as absolute paths."""

    trust: Path
    node_key: Path
    tls_cert: Path
    tls_key: Path
    tls_ca: Path

    @classmethod
    def under(cls, directory: Path) -> Paths:
        """The layout ``jgx init`` writes under ``directory``."""
        return cls(
            trust=directory / "trust.json",
            node_key=directory / "keys" / "node.key",
            tls_cert=directory / "tls" / "node.crt",
            tls_key=directory / "tls" / "node.key",
            tls_ca=directory / "tls" / "ca.crt",
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-node protections: a token bucket per sender, and limits that tighten the trust policy.

    ``max_envelope_bytes`` and ``replay_ttl_seconds`` may only tighten the trust configuration's
    policies of the same names (`gateway.policy`); None follows the federation.
    """

    max_envelope_bytes: int | None = None
    rate_limit_per_sender: float = 50.0  # envelopes per second, sustained
    rate_burst: int = 100
    replay_ttl_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Connections:
    """What one peer may hold open on the gRPC listener, and when silent connections are closed."""

    max_concurrent_streams: int = 100  # per HTTP/2 connection (gRPC core; a client queues beyond it)
    max_calls_per_peer: int = 200  # Exchange calls open at once per TLS node id (per address without TLS)
    stream_idle_seconds: float = 300.0  # a SubmitStream with no envelope for this long is ended
    keepalive_seconds: float = 60.0  # the node pings a connection silent for this long…
    keepalive_timeout_seconds: float = 20.0  # …and closes it when the ping is not answered in time
    connection_idle_seconds: float = 900.0  # a connection without calls for this long is closed (GOAWAY)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How the delivery worker retries: exponential backoff from ``backoff_base`` up to ``backoff_cap``."""

    max_attempts: int = 12
    max_age: timedelta = timedelta(hours=72)
    backoff_base: timedelta = timedelta(seconds=1)
    backoff_cap: timedelta = timedelta(minutes=10)
    call_timeout: timedelta = timedelta(seconds=10)  # one delivery call to the recipient
    # How long a claimed row stays reserved for its worker: a replica that dies holding rows gives them
    # up to the others after this long. Longer than a call, so a live worker is never overtaken.
    lease: timedelta = timedelta(seconds=15)

    def delay(self, attempt: int) -> timedelta:
        """The wait before retry number ``attempt`` (1 = first retry), without jitter."""
        return min(self.backoff_cap, self.backoff_base * (1 << max(0, min(attempt - 1, 40))))


@dataclass(frozen=True, slots=True)
class Config:
    """One node's configuration."""

    node_id: str
    directory: Path
    paths: Paths
    storage_url: str
    listen: Listen = field(default_factory=Listen)
    limits: Limits = field(default_factory=Limits)
    delivery: Delivery = field(default_factory=Delivery)
    connections: Connections = field(default_factory=Connections)
    clock_skew: timedelta | None = None  # tightens the trust policy's clock_skew_seconds; None follows it
    require_tls13: bool = True
    peers: Mapping[str, str] = field(default_factory=dict)  # node id -> "host:port"
    crl: Path | None = None  # the federation CA's revocation list (gateway.crl); None: no CRL
    crl_stale: str = "keep"  # past its nextUpdate: keep enforcing it, or refuse every client certificate
    tls_reload_seconds: float = 10.0  # how often certificate, key, CA and CRL files are looked at
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    token_key: TokenKeySettings | None = None  # [keys.pkcs11]: the signing key is on a token, not node_key
    log_hash: TreeHash = SHA256  # [log] hash: the exchange log's hash profile, fixed when the log is made

    @property
    def grpc_address(self) -> str:
        """``host:port`` of the gRPC listener."""
        return f"{self.listen.host}:{self.listen.grpc_port}"

    @property
    def local_limits(self) -> LocalLimits:
        """The limits this node sets to tighten the trust configuration's policies."""
        return LocalLimits(
            max_envelope_bytes=self.limits.max_envelope_bytes,
            clock_skew_seconds=None if self.clock_skew is None else self.clock_skew.total_seconds(),
            replay_ttl_seconds=self.limits.replay_ttl_seconds,
        )

    def with_peer(self, node_id: str, address: str) -> Config:
        """This configuration with one more peer."""
        _check_peer(node_id, address)
        return replace(self, peers={**self.peers, node_id: address})


def default_config(directory: Path, node_id: str) -> Config:
    """A node ``node_id`` living in ``directory`` with every default (SQLite store inside it)."""
    directory = directory.resolve()
    _check_node_id("node_id", node_id)
    return Config(node_id, directory, Paths.under(directory), f"sqlite:///{directory / 'jgx.db'}")


# -- reading -----------------------------------------------------------------------------------------


def load_config(path: Path) -> Config:
    """Read and check ``jgx.toml``; relative paths are taken from the file's directory."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("file", f"无法读取 {path}", f"cannot read {path}: {exc}") from exc
    return parse_config(text, directory=path.resolve().parent)


def parse_config(text: str, *, directory: Path) -> Config:
    """Check the text of ``jgx.toml`` and build the configuration."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("file", "不是有效的 TOML", f"not valid TOML: {exc}") from exc
    directory = directory.resolve()
    known = {"node_id", "listen", "storage", "paths", "limits", "delivery", "connections", "clock", "tls"}
    known.update(("peers", "console", "keys"))
    known.update(("peers", "console", "log"))
    _refuse_unknown("", doc, known)
    node_id = _get(doc, "node_id", str, None)
    _check_node_id("node_id", node_id)
    base = default_config(directory, node_id)

    listen = _table(doc, "listen", {"host", "grpc_port", "console_port", "metrics_port"})
    host = _get(listen, "listen.host", str, base.listen.host)
    if not host:
        raise ConfigError("listen.host", "不能为空", "must not be empty")
    ports = {name: _port(listen, f"listen.{name}", getattr(base.listen, name)) for name in _PORTS}

    storage = _table(doc, "storage", {"url"})
    storage_url = _get(storage, "storage.url", str, base.storage_url)
    if not storage_url.startswith(_STORAGE_SCHEMES):
        raise ConfigError(
            "storage.url", "须为 sqlite:///… 或 postgresql://…", "must be sqlite:///… or postgresql://…"
        )

    paths_doc = _table(doc, "paths", set(Paths.__slots__))
    paths = Paths(
        **{
            name: _path(directory, _get(paths_doc, f"paths.{name}", str, str(getattr(base.paths, name))))
            for name in Paths.__slots__
        }
    )

    limits_doc = _table(doc, "limits", set(Limits.__slots__))
    limits = Limits(
        max_envelope_bytes=_optional(limits_doc, "limits.max_envelope_bytes", _positive_int),
        rate_limit_per_sender=_positive_float(
            limits_doc, "limits.rate_limit_per_sender", base.limits.rate_limit_per_sender
        ),
        rate_burst=_positive_int(limits_doc, "limits.rate_burst", base.limits.rate_burst),
        replay_ttl_seconds=_optional(limits_doc, "limits.replay_ttl_seconds", _positive_float),
    )

    delivery = _delivery(_table(doc, "delivery", set(_DELIVERY_KEYS)))
    connections = _connections(_table(doc, "connections", set(Connections.__slots__)))
    clock = _table(doc, "clock", {"skew_seconds"})
    skew = _optional(clock, "clock.skew_seconds", _positive_float, allow_zero=True)
    if skew is not None and skew > 86_400:
        raise ConfigError("clock.skew_seconds", "不能超过一天", "must not exceed one day (86400)")
    tls = _table(doc, "tls", {"require_tls13", "crl", "crl_stale", "reload_seconds"})
    require_tls13 = _get(tls, "tls.require_tls13", bool, True)
    crl_text = _get(tls, "tls.crl", str, "")
    crl_stale = _get(tls, "tls.crl_stale", str, base.crl_stale)
    if crl_stale not in STALE_POLICIES:
        raise ConfigError(
            "tls.crl_stale", "须为 keep 或 refuse", f"must be one of {', '.join(STALE_POLICIES)}"
        )
    reload_seconds = _positive_float(tls, "tls.reload_seconds", base.tls_reload_seconds, allow_zero=True)

    peers_doc = _table(doc, "peers", None)
    peers: dict[str, str] = {}
    for peer, address in peers_doc.items():
        if not isinstance(address, str):
            raise ConfigError(f"peers.{peer}", "地址须为字符串", "the address must be a string")
        _check_peer(peer, address)
        peers[peer] = address
    console = parse_console_table(_table(doc, "console", set(CONSOLE_KEYS)), directory)
    token_key = parse_keys_table(_table(doc, "keys", None), directory, ConfigError)
    log_hash = _get(_table(doc, "log", {"hash"}), "log.hash", str, SHA256.name)
    if log_hash not in PROFILES:
        raise ConfigError(
            "log.hash", f"须为 {' 或 '.join(PROFILES)}", f"must be one of {', '.join(PROFILES)}"
        )

    return Config(
        node_id=node_id,
        directory=directory,
        paths=paths,
        storage_url=storage_url,
        listen=Listen(host=host, **ports),
        limits=limits,
        delivery=delivery,
        connections=connections,
        clock_skew=None if skew is None else timedelta(seconds=skew),
        require_tls13=require_tls13,
        peers=peers,
        crl=_path(directory, crl_text) if crl_text else None,
        crl_stale=crl_stale,
        tls_reload_seconds=reload_seconds,
        console=console,
        token_key=token_key,
        log_hash=PROFILES[log_hash],
    )


_PORTS: Final = ("grpc_port", "console_port", "metrics_port")
_DELIVERY_KEYS: Final = {
    "max_attempts": "max_attempts",
    "max_age_seconds": "max_age",
    "backoff_base_seconds": "backoff_base",
    "backoff_cap_seconds": "backoff_cap",
    "call_timeout_seconds": "call_timeout",
    "lease_seconds": "lease",
}


def _delivery(doc: Mapping[str, Any]) -> Delivery:
    base = Delivery()
    attempts = _positive_int(doc, "delivery.max_attempts", base.max_attempts)
    seconds = {
        key: _positive_float(doc, f"delivery.{key}", getattr(base, attr).total_seconds())
        for key, attr in _DELIVERY_KEYS.items()
        if key != "max_attempts"
    }
    if seconds["backoff_cap_seconds"] < seconds["backoff_base_seconds"]:
        raise ConfigError(
            "delivery.backoff_cap_seconds",
            "不能小于 backoff_base_seconds",
            "must not be below backoff_base_seconds",
        )
    if seconds["lease_seconds"] <= seconds["call_timeout_seconds"]:
        raise ConfigError(
            "delivery.lease_seconds",
            "须大于 call_timeout_seconds（否则仍在投递的行会被其他副本接手）",
            "must exceed call_timeout_seconds (else another replica takes over a row still being delivered)",
        )
    return Delivery(
        max_attempts=attempts,
        max_age=timedelta(seconds=seconds["max_age_seconds"]),
        backoff_base=timedelta(seconds=seconds["backoff_base_seconds"]),
        backoff_cap=timedelta(seconds=seconds["backoff_cap_seconds"]),
        call_timeout=timedelta(seconds=seconds["call_timeout_seconds"]),
        lease=timedelta(seconds=seconds["lease_seconds"]),
    )


def _connections(doc: Mapping[str, Any]) -> Connections:
    base = Connections()
    values: dict[str, Any] = {}
    for name in Connections.__slots__:
        default = getattr(base, name)
        key = f"connections.{name}"
        read = _positive_int if isinstance(default, int) else _positive_float
        values[name] = read(doc, key, default)
    return Connections(**values)


def _refuse_unknown(where: str, doc: Mapping[str, Any], known: set[str]) -> None:
    for key in doc:
        if key not in known:
            name = f"{where}.{key}" if where else key
            raise ConfigError(name, "未知的配置项", f"unknown key; known keys: {', '.join(sorted(known))}")


def _table(doc: Mapping[str, Any], name: str, known: set[str] | None) -> Mapping[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(name, "须为表", "must be a table")
    if known is not None:
        _refuse_unknown(name, value, known)
    return value


def _get(doc: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    leaf = key.rsplit(".", 1)[-1]
    if leaf not in doc:
        if default is None:
            raise ConfigError(key, "缺少必填项", "required key is missing")
        return default
    value = doc[leaf]
    # bool is an int in Python; a number is never accepted where a flag is meant, nor the reverse.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(key, f"类型应为 {kind.__name__}", f"must be of type {kind.__name__}, not {value!r}")
    return value


def _port(doc: Mapping[str, Any], key: str, default: int) -> int:
    value: int = _get(doc, key, int, default)
    if not 0 <= value <= 65535:
        raise ConfigError(key, "端口须在 0–65535 之间", f"port {value} is outside 0–65535")
    return value


def _positive_int(doc: Mapping[str, Any], key: str, default: int) -> int:
    value: int = _get(doc, key, int, default)
    if value < 1:
        raise ConfigError(key, "须为正整数", f"must be a positive integer, not {value}")
    return value


def _positive_float(doc: Mapping[str, Any], key: str, default: float, *, allow_zero: bool = False) -> float:
    leaf = key.rsplit(".", 1)[-1]
    raw = doc.get(leaf, default)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ConfigError(key, "须为数值", f"must be a number, not {raw!r}")
    value = float(raw)
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(key, "须为正数", f"must be positive, not {value}")
    return value


def _optional(doc: Mapping[str, Any], key: str, read: Any, **options: Any) -> Any:
    """``read(doc, key, default)`` when the key is present, else None (follow the trust policy)."""
    return read(doc, key, 0, **options) if key.rsplit(".", 1)[-1] in doc else None


def _path(directory: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else directory / path


def _check_node_id(key: str, node_id: str) -> None:
    if not NODE_ID.match(node_id):
        raise ConfigError(key, "节点标识不合法", f"node id {node_id!r} must match {NODE_ID.pattern}")


def _check_peer(node_id: str, address: str) -> None:
    _check_node_id(f"peers.{node_id}", node_id)
    match = _ADDRESS.match(address)
    if match is None or not 0 < int(match["port"]) <= 65535:
        raise ConfigError(
            f"peers.{node_id}", "地址须为 主机:端口", f"address must be host:port, not {address!r}"
        )


# -- writing -----------------------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _relative(directory: Path, path: Path) -> str:
    return str(path.relative_to(directory)) if path.is_relative_to(directory) else str(path)


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """Settings that are set: an unset limit follows the trust policy and is not written."""
    return {key: value for key, value in values.items() if value is not None}


def _tls_values(config: Config) -> dict[str, Any]:
    values: dict[str, Any] = {"require_tls13": config.require_tls13}
    if config.crl is not None:
        values["crl"] = _relative(config.directory, config.crl)
    values["crl_stale"] = config.crl_stale
    values["reload_seconds"] = config.tls_reload_seconds
    return values


def render_config(config: Config) -> str:
    """The text of ``jgx.toml`` for ``config`` (paths inside its directory are written relative)."""
    sections: list[tuple[str, dict[str, Any]]] = [
        ("listen", {name: getattr(config.listen, name) for name in Listen.__slots__}),
        ("storage", {"url": config.storage_url}),
        ("log", {"hash": config.log_hash.name}),
        (
            "paths",
            {name: _relative(config.directory, getattr(config.paths, name)) for name in Paths.__slots__},
        ),
        ("limits", _present({name: getattr(config.limits, name) for name in Limits.__slots__})),
        (
            "delivery",
            {
                key: getattr(config.delivery, attr)
                if key == "max_attempts"
                else getattr(config.delivery, attr).total_seconds()
                for key, attr in _DELIVERY_KEYS.items()
            },
        ),
        ("connections", {name: getattr(config.connections, name) for name in Connections.__slots__}),
        ("clock", _present({"skew_seconds": config.local_limits.clock_skew_seconds})),
        ("tls", _tls_values(config)),
        ("console", console_table(config.console, config.directory)),
        ("peers", {f'"{peer}"': address for peer, address in sorted(config.peers.items())}),
    ]
    lines = [
        "# jgx node configuration (监管交换节点配置). Relative paths are relative to this file.",
        f"node_id = {_toml_value(config.node_id)}",
    ]
    token = render_keys_table(config.token_key, lambda path: _relative(config.directory, path))
    if token:
        sections.append(("keys.pkcs11", token))
    for name, values in sections:
        lines += ["", f"[{name}]", *(f"{key} = {_toml_value(value)}" for key, value in values.items())]
    return "\n".join(lines) + "\n"
