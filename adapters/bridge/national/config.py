"""The national bridge's configuration file (TOML): who the bridge is, the national database, the routes.

    [national]
    node = "sc.national-bridge"          # the province's node that runs the bridge (its key signs)
    dir = "node"                         # its node directory (key, trust.json, TLS), as `jgx init` writes
    hub = "127.0.0.1:7443"               # the provincial hub
    state = "national-state.sqlite"      # the bridge's journal and watermark
    source_region = "510000"             # cd_source = province region + department code
    default_recipient = "sc.amr"         # a task no route names goes here ("" = refuse it)
    poll_seconds = 30                    # between polls of the down-table and flushes of the up-tables
    batch_size = 200                     # down rows per read
    lookback_seconds = 300               # re-read this far behind the watermark (late commits)
    [database]
    url = "postgresql+psycopg://user@national-front/qzk"
    schema = "gjqzk"                     # optional
    prefix = ""                          # optional, before every table name
    connect_timeout = 5                  # optional: seconds before the database counts as unavailable
    [routes]                             # taskInfo unionDeptNo (or unionRegionNo) → the department's node
    "510000SCJG" = "sc.amr"

Pure: text in, a frozen `NationalLink` out, or a `MappingError` naming the key in both languages.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.bridge.mapping import MappingError

__all__ = ["NationalLink", "load_link", "parse_link"]


@dataclass(frozen=True, slots=True)
class NationalLink:
    """The national bridge as its configuration declares it."""

    node: str
    database_url: str
    state: Path
    source_region: str = "510000"
    default_recipient: str = ""
    routes: Mapping[str, str] = field(default_factory=dict)
    db_schema: str | None = None
    prefix: str = ""
    hub: str = ""
    node_dir: Path | None = None
    batch_size: int = 200
    lookback_seconds: float = 300.0
    poll_seconds: float = 30.0
    connect_timeout: float = 5.0  # seconds a connection attempt to the national database may take


def _text(section: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = section.get(key, default)
    if not isinstance(value, str) or (not value and default is None):
        raise MappingError(
            f"[{where}] 的 {key} 须为非空字符串", f"[{where}] {key} must be a non-empty string"
        )
    return value


def _number(section: Mapping[str, Any], key: str, default: float, where: str = "national") -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise MappingError(f"[{where}] 的 {key} 须为非负数", f"[{where}] {key} must be a non-negative number")
    return float(value)


def parse_link(text: str, *, base: Path = Path()) -> NationalLink:
    """The national bridge declared by the TOML ``text``; relative paths are taken from ``base``."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"配置文件不是有效的 TOML：{exc}", f"the file is not valid TOML: {exc}") from None
    extra = set(doc) - {"national", "database", "routes"}
    if extra:
        raise MappingError(f"配置文件有未知的表 {sorted(extra)}", f"unknown tables {sorted(extra)}")
    national, database = doc.get("national"), doc.get("database")
    if not isinstance(national, dict) or not isinstance(database, dict):
        raise MappingError(
            "配置文件须有 [national] 与 [database]", "the file needs [national] and [database]"
        )
    routes = doc.get("routes", {})
    if not isinstance(routes, dict) or not all(isinstance(v, str) for v in routes.values()):
        raise MappingError(
            "[routes] 须为 部门编码 = 节点 的表", "[routes] must map department codes to nodes"
        )
    region = _text(national, "source_region", "national", "510000")
    if not (len(region) == 6 and region.isdigit()):
        raise MappingError(
            "[national] source_region 须为6位区划代码", "[national] source_region must be 6 digits"
        )
    node_dir = national.get("dir")
    return NationalLink(
        node=_text(national, "node", "national"),
        database_url=_text(database, "url", "database"),
        state=base / _text(national, "state", "national", "national-state.sqlite"),
        source_region=region,
        default_recipient=_text(national, "default_recipient", "national", ""),
        routes={str(k): v for k, v in routes.items()},
        db_schema=database.get("schema"),
        prefix=_text(database, "prefix", "database", ""),
        hub=_text(national, "hub", "national", ""),
        node_dir=base / node_dir if isinstance(node_dir, str) else None,
        batch_size=max(1, int(_number(national, "batch_size", 200))),
        lookback_seconds=_number(national, "lookback_seconds", 300.0),
        poll_seconds=_number(national, "poll_seconds", 30.0),
        connect_timeout=_number(database, "connect_timeout", 5.0, "database"),
    )


def load_link(path: Path) -> NationalLink:
    """Read and parse the configuration file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"无法读取配置文件 {path}：{exc}", f"cannot read {path}: {exc}") from None
    return parse_link(text, base=path.parent)
