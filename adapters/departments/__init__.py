"""Reference department adapters: market regulation, the 12315 platform, the 双随机 spot-check system."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from adapters.departments._desk import SAMPLES, Desk
from adapters.departments.amr import MarketRegulation
from adapters.departments.complaints12315 import Complaints12315
from adapters.departments.spotcheck import SpotCheck

__all__ = ["DEPARTMENTS", "NODES", "SAMPLES", "Complaints12315", "Desk", "MarketRegulation", "SpotCheck"]

#: CLI name -> the department's mapping (constructed with the folder of its native exports).
DEPARTMENTS: Final[dict[str, Callable[[Path], Desk]]] = {
    "amr": MarketRegulation,
    "12315": Complaints12315,
    "sjs": SpotCheck,
}
#: CLI name -> the node id in the trust configuration.
NODES: Final = {"amr": "sc.amr", "12315": "sc.12315", "sjs": "sc.sjs"}
