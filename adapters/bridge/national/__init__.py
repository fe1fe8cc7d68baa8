"""The national bridge (国家前置库桥): the province's link to the national system's front database.

The national system does not run jgx. The province runs this bridge as a jgx node of its own (its key
signs what it dispatches): upward, what the hub delivers for the national system is written into the
national up-tables in cd_batch runs (`upward`); downward, superviseData task rows are read from the
national down-table and dispatched as SC-14/SC-12 (`downward`); the national side's acknowledgements
are reconciled per cd_batch (`reconcile`). `layout` is the table layout, `config` the configuration file.
"""

from adapters.bridge.national.config import NationalLink, load_link, parse_link
from adapters.bridge.national.downward import DownReport, NationalDownward
from adapters.bridge.national.journal import NationalJournal
from adapters.bridge.national.layout import NationalTables
from adapters.bridge.national.reconcile import BatchCheck, reconcile, render
from adapters.bridge.national.upward import NationalDesk, UpBatch

__all__ = [
    "BatchCheck",
    "DownReport",
    "NationalDesk",
    "NationalDownward",
    "NationalJournal",
    "NationalLink",
    "NationalTables",
    "UpBatch",
    "load_link",
    "parse_link",
    "reconcile",
    "render",
]
