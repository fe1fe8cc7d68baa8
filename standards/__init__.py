"""The 20 local standards (SC-01 … SC-20) as data, and the validator that judges records against them.

    >>> import standards
    >>> findings = standards.validate(b'{"punishActionName": "..."}', "SC-06", "1.0.0")
    >>> [f.rule_id for f in findings if f.severity == "error"]      # doctest: +SKIP
    ['SC-06.S001', ...]

`validate` raises `UnknownStandard` / `VersionNotInForce` for a standard it cannot use; everything
wrong with the bytes themselves comes back as findings.
"""

from standards.catalogue import Catalogue, catalogue, sample
from standards.errors import StandardsError, UnknownDestination, UnknownStandard, VersionNotInForce
from standards.findings import Finding, Severity, has_error
from standards.masking import mask
from standards.model import Clause, Field, RuleSpec, Standard
from standards.payload import Limits
from standards.validator import validate

__all__ = [
    "Catalogue",
    "Clause",
    "Field",
    "Finding",
    "Limits",
    "RuleSpec",
    "Severity",
    "Standard",
    "StandardsError",
    "UnknownDestination",
    "UnknownStandard",
    "VersionNotInForce",
    "catalogue",
    "has_error",
    "mask",
    "sample",
    "validate",
]
