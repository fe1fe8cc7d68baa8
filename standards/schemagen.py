"""JSON Schema 2020-12 generated from a record standard's field table, so schema and table cannot disagree.

Paths in the table: ``checkDate`` (top level), ``taskInfo.taskName`` (inside an object),
``superviseObjects[].credentialsValue`` (inside each object of an array). A standard with variants
(``action`` = dispatch | claim | …) gets one ``$defs`` entry per variant, chosen with ``if``/``then``
on the variant field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = ["DATETIME_PATTERN", "DATE_PATTERN", "NOT_BLANK_PATTERN", "schema_for"]

DATE_PATTERN: Final = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATETIME_PATTERN: Final = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
#: A required text field holds something besides white space (clause 4.1: 不为空值). The structure check
#: reports a miss of this one pattern as S001 (missing), not S004 (format). The class lists exactly the
#: characters Python's ``str.isspace`` calls white space (`standards.rules.base.is_blank`), spelled out:
#: ``\\S`` differs between the engines (U+001C-U+001F and U+0085 are white space to Python, not to Rust).
NOT_BLANK_PATTERN: Final = (
    "[^\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]"
)
_JSON_TYPES: Final = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "string",
    "datetime": "string",
    "array": "array",
    "object": "object",
}


def _leaf(row: Mapping[str, Any]) -> dict[str, Any]:
    kind = row["type"]
    out: dict[str, Any] = {"type": _JSON_TYPES[kind]}
    if kind == "date":
        out["pattern"] = DATE_PATTERN
    elif kind == "datetime":
        out["pattern"] = DATETIME_PATTERN
    elif kind == "array":
        items: dict[str, Any] = {"type": row.get("items", "string")}
        if row.get("itemMaxLength"):
            items["maxLength"] = row["itemMaxLength"]
        if row.get("itemPattern"):
            items["pattern"] = row["itemPattern"]
        out["items"] = items
        out["minItems"] = 1
        if row.get("maxItems"):
            out["maxItems"] = row["maxItems"]
    for key in ("maxLength", "minLength", "pattern", "minimum", "maximum"):
        if key in row:
            out[key] = row[key]
    if row.get("enum"):
        out["enum"] = list(row["enum"])
    return out


def _not_blank(prop: dict[str, Any]) -> dict[str, Any]:
    """A required text field (or each text item of a required list) that no other constraint keeps from
    being blank gets the not-blank pattern; a pattern or an enumeration already refuses blanks."""
    if prop.get("type") == "string" and "pattern" not in prop and "enum" not in prop:
        return {**prop, "pattern": NOT_BLANK_PATTERN}
    items = prop.get("items")
    if prop.get("type") == "array" and isinstance(items, dict) and items.get("type") == "string":
        return {**prop, "items": _not_blank(items)}
    return prop


def _object(rows: Sequence[Mapping[str, Any]], prefix: str, variant: str | None) -> dict[str, Any]:
    """The schema of the object whose rows start with ``prefix`` (``""`` for the record itself)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for row in rows:
        name = row["name"]
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix) :]
        if "." in rest or "[]" in rest:
            continue  # a deeper row, handled by its container
        if variant is not None and row.get("variants") and variant not in row["variants"]:
            continue
        if row["type"] == "object" and any(r["name"].startswith(name + ".") for r in rows):
            prop = _object(rows, name + ".", variant)
        elif row["type"] == "array" and row.get("items") == "object":
            prop = {"type": "array", "minItems": 1, "items": _object(rows, name + "[].", variant)}
            if row.get("maxItems"):
                prop["maxItems"] = row["maxItems"]
        else:
            prop = _leaf(row)
        needed = row.get("required", False)
        if needed is True or (isinstance(needed, list) and variant in needed):
            required.append(rest)
            prop = _not_blank(prop)
        properties[rest] = prop
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out["additionalProperties"] = False
    return out


def schema_for(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a record standard's ``standard.json`` document."""
    rows = doc["fields"]
    header = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:jgx:standards:{doc['id']}:{doc['version']}",
        "title": f"{doc['id']} {doc['titleZh']} / {doc['titleEn']}",
    }
    variant_field = doc.get("variantField")
    if not variant_field:
        return {**header, **_object(rows, "", None)}
    variants = doc["variants"]
    return {
        **header,
        "type": "object",
        "required": [variant_field],
        "properties": {variant_field: {"type": "string", "enum": list(variants)}},
        "allOf": [
            {
                "if": {"properties": {variant_field: {"const": v}}, "required": [variant_field]},
                "then": {"$ref": f"#/$defs/{v}"},
            }
            for v in variants
        ],
        "$defs": {v: _object(rows, "", v) for v in variants},
    }
