"""前置库 bridge: a department's front database connected to the hub by a mapping file, without code.

`mapping` and `rows` are pure (mapping file → `BridgeMapping`, row → record); `tables` is the database
I/O through SQLAlchemy Core; `state` the bridge's own journal; `runner` one pass; `check` the dry run.
"""

from adapters.bridge.mapping import BridgeMapping, FieldRule, MappingError, load_mapping, parse_mapping
from adapters.bridge.rows import MappedRow, map_row, message_id_for
from adapters.bridge.runner import BatchReport, Bridge, PassReport
from adapters.bridge.state import BridgeState
from adapters.bridge.tables import DatabaseUnavailable, FrontDatabase

__all__ = [
    "BatchReport",
    "Bridge",
    "BridgeMapping",
    "BridgeState",
    "DatabaseUnavailable",
    "FieldRule",
    "FrontDatabase",
    "MappedRow",
    "MappingError",
    "PassReport",
    "load_mapping",
    "map_row",
    "message_id_for",
    "parse_mapping",
]
