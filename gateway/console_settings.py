"""The ``[console]`` table of ``jgx.toml``: time zone, TLS, trusted proxies, login throttling.

Pure: the table is checked here and turned into `ConsoleSettings`; the console (`gateway.console`) reads
the result. Kept apart from `gateway.config` so that module stays the node's own settings and this one
the operator console's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.errors import JgxError, ReasonCode

__all__ = [
    "CONSOLE_KEYS",
    "DEFAULT_TIME_ZONE",
    "ConsoleSettings",
    "ConsoleSettingsError",
    "console_table",
    "parse_console_table",
]

DEFAULT_TIME_ZONE: Final = "Asia/Shanghai"
CONSOLE_KEYS: Final = frozenset({"time_zone", "tls_cert", "tls_key", "trusted_proxies", "secure_cookies"})
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConsoleSettingsError(JgxError):
    """A ``[console]`` key of ``jgx.toml`` has a bad value."""

    def __init__(self, key: str, zh: str, en: str) -> None:
        self.key = key
        self.detail_zh, self.detail_en = f"jgx.toml [console.{key}]: {zh}", f"jgx.toml [console.{key}]: {en}"
        super().__init__(ReasonCode.MALFORMED, f"jgx.toml [console.{key}]: {zh} / {en}")


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """How the console shows time, whether it serves TLS, and whom it believes about the client.

    ``trusted_proxies`` are the addresses (or networks) of reverse proxies whose ``X-Forwarded-Proto``
    and ``X-Forwarded-For`` headers are believed; from anyone else those headers are ignored.
    ``secure_cookies`` forces ``Secure`` cookies even on plain HTTP (TLS ended by a proxy that
    sends no ``X-Forwarded-Proto``).
    """

    time_zone: str = DEFAULT_TIME_ZONE
    tls_cert: Path | None = None
    tls_key: Path | None = None
    trusted_proxies: tuple[str, ...] = ()
    secure_cookies: bool = False

    @property
    def zone(self) -> ZoneInfo:
        """The time zone every page shows and reads times in."""
        return ZoneInfo(self.time_zone)

    @property
    def serves_tls(self) -> bool:
        """Whether the console itself answers over TLS."""
        return self.tls_cert is not None

    def trusts_proxy(self, address: str) -> bool:
        """Whether ``address`` (the TCP peer) is one of the configured reverse proxies."""
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(peer in _network(p) for p in self.trusted_proxies)


def _network(text: str) -> Network:
    return ipaddress.ip_network(text, strict=False)


def parse_console_table(doc: Mapping[str, Any], directory: Path) -> ConsoleSettings:
    """Check the ``[console]`` table (unknown keys already refused) and build the settings."""
    zone = doc.get("time_zone", DEFAULT_TIME_ZONE)
    if not isinstance(zone, str) or not zone:
        raise ConsoleSettingsError("time_zone", "须为 IANA 时区名", "must be an IANA time zone name")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConsoleSettingsError(
            "time_zone", f"未知时区 {zone!r}", f"unknown time zone {zone!r} (e.g. Asia/Shanghai)"
        ) from None
    cert, key = (_file(doc, name, directory) for name in ("tls_cert", "tls_key"))
    if (cert is None) != (key is None):
        raise ConsoleSettingsError(
            "tls_cert", "tls_cert 与 tls_key 须同时给出", "tls_cert and tls_key go together"
        )
    proxies = doc.get("trusted_proxies", [])
    if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
        raise ConsoleSettingsError(
            "trusted_proxies", "须为地址字符串列表", 'must be a list of addresses, e.g. ["127.0.0.1"]'
        )
    for proxy in proxies:
        try:
            _network(proxy)
        except ValueError:
            raise ConsoleSettingsError(
                "trusted_proxies", f"地址无效 {proxy!r}", f"not an IP address or network: {proxy!r}"
            ) from None
    secure = doc.get("secure_cookies", False)
    if not isinstance(secure, bool):
        raise ConsoleSettingsError("secure_cookies", "须为 true 或 false", "must be true or false")
    return ConsoleSettings(zone, cert, key, tuple(proxies), secure)


def _file(doc: Mapping[str, Any], name: str, directory: Path) -> Path | None:
    value = doc.get(name, "")
    if not isinstance(value, str):
        raise ConsoleSettingsError(name, "须为文件路径", "must be a file path")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else directory / path


def console_table(settings: ConsoleSettings, directory: Path) -> dict[str, Any]:
    """The ``[console]`` table as ``jgx.toml`` writes it (paths inside ``directory`` relative)."""

    def relative(path: Path | None) -> str:
        if path is None:
            return ""
        return str(path.relative_to(directory)) if path.is_relative_to(directory) else str(path)

    return {
        "time_zone": settings.time_zone,
        "tls_cert": relative(settings.tls_cert),
        "tls_key": relative(settings.tls_key),
        "trusted_proxies": list(settings.trusted_proxies),
        "secure_cookies": settings.secure_cookies,
    }
