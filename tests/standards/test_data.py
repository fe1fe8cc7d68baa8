"""The standards' data: generated files match their declarations, schemas match field tables, catalogue."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from standards import Standard, UnknownStandard, VersionNotInForce, catalogue
from standards.catalogue import DATA_DIR
from standards.schemagen import schema_for

ROOT = Path(__file__).resolve().parents[2]


def test_data_matches_the_declarations() -> None:
    """Regenerating standards/data from tools/standards_src yields byte-identical files."""
    result = subprocess.run(
        [sys.executable, "tools/author_standards.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_catalogue_holds_the_twenty_standards() -> None:
    """The catalogue lists SC-01 … SC-20; SC-01 … SC-15 hold records and have schemas."""
    cat = catalogue()
    assert [f"SC-{n:02d}" for n in range(1, 21)] == cat.ids()
    records = sorted({s.id for s in cat if s.kind == "record"})
    assert [f"SC-{n:02d}" for n in range(1, 16)] == records
    assert all(s.schema is not None for s in cat if s.kind == "record")


@pytest.mark.parametrize("standard", [s for s in catalogue() if s.kind == "record"], ids=lambda s: s.key)
def test_schema_is_valid_2020_12_and_generated_from_the_field_table(standard: Standard) -> None:
    """Each record schema is valid JSON Schema 2020-12 and equal to the one its field table generates."""
    doc = json.loads(
        (DATA_DIR / standard.id / standard.version / "standard.json").read_text(encoding="utf-8")
    )
    jsonschema.Draft202012Validator.check_schema(standard.schema)
    assert schema_for(doc) == standard.schema


def test_unknown_standard_and_version_raise_typed_errors() -> None:
    """An unknown id or version raises UnknownStandard; one outside its dates raises VersionNotInForce."""
    cat = catalogue()
    with pytest.raises(UnknownStandard):
        cat.resolve("SC-99", None, None)
    with pytest.raises(UnknownStandard):
        cat.resolve("SC-06", "9.9.9", None)
    with pytest.raises(VersionNotInForce):
        cat.resolve("SC-06", "1.0.0", date(2020, 1, 1))
    assert "1.0.0" == cat.resolve("SC-06", None, date(2025, 6, 30)).version


def test_docs_catalogue_is_generated_from_the_data() -> None:
    """docs/standards.md is exactly what ``python -m standards.docs`` prints (``make docs`` refreshes it)."""
    from standards.docs import render

    assert render() == (ROOT / "docs" / "standards.md").read_text(encoding="utf-8")
