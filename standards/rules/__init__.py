"""Rule kinds: the small set of interpreters that turn rules declared as data into checks.

A rule in ``standard.json`` names a *kind* (``date_order``, ``union_id``, ``timeliness`` …) and its
parameters; `compile_rule` looks the kind up in `KINDS` and returns a `Check`, a function from a
decoded record and a `Context` to findings. Kinds never raise on odd values: a field of the wrong type
is the structure check's business, so a kind simply skips it.
"""

from __future__ import annotations

from standards.rules.base import KINDS, Check, Context, compile_rule

# Importing the modules registers their kinds.
from standards.rules import codes as _codes  # noqa: F401  # isort: skip
from standards.rules import consistency as _consistency  # noqa: F401  # isort: skip
from standards.rules import fields as _fields  # noqa: F401  # isort: skip
from standards.rules import time as _time  # noqa: F401  # isort: skip
from standards.rules import privacy as _privacy  # noqa: F401  # isort: skip

__all__ = ["KINDS", "Check", "Context", "compile_rule"]
