"""The bridge's mapping file (TOML): which database, which table, how its columns become a standard's fields.

Pure: text in, a frozen `BridgeMapping` out, or a `MappingError` naming the key that is wrong in both
languages. Nothing here opens a database or a socket (the I/O lives in `adapters.bridge.tables` and
`adapters.bridge.runner`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import standards
from standards.errors import StandardsError

__all__ = [
    "CHANGE_COLUMNS",
    "HEADER_COLUMNS",
    "RESULT_COLUMNS",
    "BridgeMapping",
    "FieldRule",
    "MappingError",
    "load_mapping",
    "parse_mapping",
]

#: The national front-table change columns (变更跟踪字段) and their default column names.
CHANGE_COLUMNS: Final = ("cd_id", "cd_operation", "cd_time", "cd_batch", "cd_source")
#: The result (回写) table's columns, by role; each may be renamed under ``[result.columns]``.
RESULT_COLUMNS: Final = (
    "cd_id", "cd_time", "cd_operation", "message_id", "status", "reason_codes", "messages_zh",
    "receipt_sha256", "log_index", "decided_at",
)  # fmt: skip
_SECTIONS: Final = frozenset({"bridge", "database", "source", "fields", "result", "inbound"})
#: Optional header columns of a source table that carries lifecycle replies (认领 claim, 反馈 feedback).
HEADER_COLUMNS: Final = ("correlation_id", "action", "in_reply_to")


class MappingError(ValueError):
    """The mapping file cannot be used; ``message_zh`` / ``message_en`` say which key and why."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} / {message_en}")


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How one field of the standard is filled: from a column (translated, parsed) or a constant."""

    name: str
    column: str | None = None
    value: Any = None  # a constant; used when no column is named
    default: Any = None  # used when the column is NULL or empty
    codes: Mapping[str, str] = field(default_factory=dict)  # 代码转换 (code translation): local → standard
    passthrough: bool = False  # a value missing from `codes` is sent as it is instead of refused
    date_format: str | None = None  # strptime format of a text column holding a date or time
    split: str | None = None  # separator of a text column holding a list (检查人员 "张三,李四")


@dataclass(frozen=True, slots=True)
class BridgeMapping:
    """One front-database table bridged to one standard, as the mapping file declares it."""

    node: str
    recipient: str
    standard: str
    version: str
    database_url: str
    table: str
    fields: tuple[FieldRule, ...]
    result_table: str
    state: Path
    hub: str = ""
    node_dir: Path | None = None
    db_schema: str | None = None
    change: Mapping[str, str] = field(default_factory=lambda: {c: c for c in CHANGE_COLUMNS})
    cd_time_format: str = "%Y-%m-%d %H:%M:%S"
    result_columns: Mapping[str, str] = field(default_factory=lambda: {c: c for c in RESULT_COLUMNS})
    create_result_table: bool = True
    batch_size: int = 500
    poll_seconds: float = 30.0
    lookback_seconds: float = 300.0
    connect_timeout: float = 5.0  # seconds a connection attempt to the front database may take
    retries: int = 8  # attempts of a pass while the database or the hub is away, before giving up
    insecure: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)  # HEADER_COLUMNS role → source column
    inbound_table: str = ""  # where delivered tasks, clues and feedback are written ("" = none)
    inbound_standards: tuple[tuple[str, str], ...] = ()  # (standard, version) the department accepts
    seal: tuple[str, ...] = ()  # JSON pointers of personal fields sealed for the recipient (wire.md §12)

    def column(self, role: str) -> str:
        """The source column that plays ``role`` (one of `CHANGE_COLUMNS`)."""
        return self.change[role]

    def result_column(self, role: str) -> str:
        """The result table's column for ``role`` (one of `RESULT_COLUMNS`)."""
        return self.result_columns[role]


def _table(doc: Mapping[str, Any], name: str, *, required: bool = True) -> Mapping[str, Any]:
    value = doc.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise MappingError(f"映射文件缺少 [{name}] 表", f"the mapping file has no [{name}] table")
    return value


def _text(section: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = section.get(key, default)
    if not isinstance(value, str) or not value:
        raise MappingError(
            f"[{where}] 的 {key} 须为非空字符串", f"[{where}] {key} must be a non-empty string"
        )
    return value


def _number(section: Mapping[str, Any], key: str, where: str, default: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise MappingError(f"[{where}] 的 {key} 须为非负数", f"[{where}] {key} must be a non-negative number")
    return float(value)


def _field_rule(name: str, spec: Any, known: Mapping[str, standards.Field]) -> FieldRule:
    where = f"fields.{name}"
    if name not in known:
        raise MappingError(
            f"[{where}]：标准中没有字段 {name}", f"[{where}]: the standard has no field {name}"
        )
    if isinstance(spec, str):  # shorthand: fieldName = "COLUMN"
        return FieldRule(name, column=spec)
    if not isinstance(spec, dict):
        raise MappingError(f"[{where}] 须为表或列名", f"[{where}] must be a table or a column name")
    unknown = set(spec) - {"column", "value", "default", "codes", "passthrough", "date_format", "split"}
    if unknown:
        raise MappingError(
            f"[{where}] 有未知键 {sorted(unknown)}", f"[{where}] has unknown keys {sorted(unknown)}"
        )
    column = spec.get("column")
    if column is None and "value" not in spec:
        raise MappingError(f"[{where}] 须有 column 或 value", f"[{where}] needs a column or a value")
    codes = spec.get("codes", {})
    if not isinstance(codes, dict) or not all(isinstance(v, str) for v in codes.values()):
        raise MappingError(
            f"[{where}] 的 codes 须为 本地代码 = 标准代码 的表",
            f"[{where}] codes must be a table of local code = standard code",
        )
    return FieldRule(
        name,
        column=_text(spec, "column", where) if column is not None else None,
        value=spec.get("value"),
        default=spec.get("default"),
        codes={str(k): v for k, v in codes.items()},
        passthrough=bool(spec.get("passthrough", False)),
        date_format=spec.get("date_format"),
        split=spec.get("split"),
    )


def parse_mapping(text: str, *, base: Path = Path()) -> BridgeMapping:
    """The mapping declared by the TOML ``text``; relative paths are taken from ``base``."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(
            f"映射文件不是有效的 TOML：{exc}", f"the mapping file is not valid TOML: {exc}"
        ) from None
    extra = set(doc) - _SECTIONS
    if extra:
        raise MappingError(
            f"映射文件有未知的表 {sorted(extra)}", f"the mapping file has unknown tables {sorted(extra)}"
        )
    bridge, database, source = _table(doc, "bridge"), _table(doc, "database"), _table(doc, "source")
    standard_id = _text(bridge, "standard", "bridge")
    try:
        standard = standards.catalogue().get(standard_id, bridge.get("version"))
    except StandardsError as exc:
        raise MappingError(
            f"[bridge] 标准不可用：{exc}", f"[bridge] the standard is not usable: {exc}"
        ) from None
    known = {f.name: f for f in standard.fields if "[]" not in f.name}  # nested objects by dotted name
    fields = tuple(_field_rule(name, spec, known) for name, spec in _table(doc, "fields").items())
    result = _table(doc, "result", required=False)
    renames = result.get("columns", {})
    if not isinstance(renames, dict) or set(renames) - set(RESULT_COLUMNS):
        raise MappingError(
            f"[result.columns] 只能重命名 {list(RESULT_COLUMNS)}",
            f"[result.columns] may only rename {list(RESULT_COLUMNS)}",
        )
    node_dir = bridge.get("dir")
    change = {role: str(source.get(role, role)) for role in CHANGE_COLUMNS}
    batch = int(_number(bridge, "batch_size", "bridge", 500))
    if batch < 1:
        raise MappingError("[bridge] 的 batch_size 须至少为 1", "[bridge] batch_size must be at least 1")
    seal = bridge.get("seal", [])
    if not isinstance(seal, list) or not all(isinstance(p, str) and p.startswith("/") for p in seal):
        raise MappingError(
            "[bridge] 的 seal 须为 JSON 指针列表，如 [\"/partyIdCode\"]",
            "[bridge] seal must be a list of JSON pointers, e.g. [\"/partyIdCode\"]",
        )
    inbound = _table(doc, "inbound", required=False)
    accepted = []
    for spec in inbound.get("standards", []):
        standard_id, _, version = str(spec).partition("@")
        try:
            accepted.append((standard_id, standards.catalogue().get(standard_id, version or None).version))
        except StandardsError as exc:
            raise MappingError(
                f"[inbound] 标准 {spec} 不可用：{exc}", f"[inbound] standard {spec}: {exc}"
            ) from None
    return BridgeMapping(
        node=_text(bridge, "node", "bridge"),
        recipient=_text(bridge, "recipient", "bridge", "sc.hub"),
        standard=standard.id,
        version=standard.version,
        database_url=_text(database, "url", "database"),
        db_schema=database.get("schema"),
        table=_text(source, "table", "source"),
        change=change,
        cd_time_format=_text(source, "cd_time_format", "source", "%Y-%m-%d %H:%M:%S"),
        fields=fields,
        result_table=_text(result, "table", "result", "jgx_result"),
        result_columns={role: str(renames.get(role, role)) for role in RESULT_COLUMNS},
        create_result_table=bool(result.get("create", True)),
        state=base / _text(bridge, "state", "bridge", "bridge-state.sqlite"),
        hub=str(bridge.get("hub", "")),
        node_dir=base / node_dir if isinstance(node_dir, str) else None,
        batch_size=batch,
        poll_seconds=_number(bridge, "poll_seconds", "bridge", 30.0),
        lookback_seconds=_number(bridge, "lookback_seconds", "bridge", 300.0),
        retries=max(1, int(_number(bridge, "retries", "bridge", 8))),
        connect_timeout=_number(database, "connect_timeout", "database", 5.0),
        insecure=bool(bridge.get("insecure", False)),
        headers={role: str(source[role]) for role in HEADER_COLUMNS if role in source},
        inbound_table=_text(inbound, "table", "inbound", "jgx_inbound") if inbound else "",
        inbound_standards=tuple(accepted),
        seal=tuple(seal),
    )


def load_mapping(path: Path) -> BridgeMapping:
    """Read and parse the mapping file at ``path`` (relative paths in it are taken from its folder)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(
            f"无法读取映射文件 {path}：{exc}", f"cannot read the mapping file {path}: {exc}"
        ) from None
    return parse_mapping(text, base=path.parent)
