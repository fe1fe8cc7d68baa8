"""docs/wire.md stays in step with its sources: the reason-code catalogue and the receipt rules."""

import subprocess
import sys
from pathlib import Path

from gateway.errors import CATALOGUE, catalogue_table
from gateway.receipts import receipt_fields_table

ROOT = Path(__file__).resolve().parents[2]
WIRE = (ROOT / "docs" / "wire.md").read_text(encoding="utf-8")


def test_the_generated_tables_of_wire_md_are_current() -> None:
    """Regenerating docs/wire.md's tables from gateway/errors.py and gateway/receipts.py changes nothing."""
    result = subprocess.run(
        [sys.executable, "tools/genwire.py", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert 0 == result.returncode, result.stdout + result.stderr
    assert catalogue_table() in WIRE
    assert receipt_fields_table() in WIRE


def test_every_reason_code_has_its_row_with_statuses_and_messages() -> None:
    """Each catalogue entry has its row in docs/wire.md §6, with the same statuses and messages."""
    for r in CATALOGUE.values():
        assert f"| `{r.code.value}` | {r.grpc_status} | {r.http_status} | " in WIRE, r.code.value
        assert f"| {r.zh} | {r.en} |" in WIRE, r.code.value
