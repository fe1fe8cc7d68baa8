"""Write the generated tables of docs/wire.md from their one source, or check that they are current.

The reason-code table (§6) comes from `gateway.errors.CATALOGUE`, the receipt-fields table (§8) from
`gateway.receipts`. Each sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` markers.

Usage: python tools/genwire.py [--check]
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIRE = ROOT / "docs" / "wire.md"
sys.path.insert(0, str(ROOT))

from gateway.errors import catalogue_table  # noqa: E402 - after the path is set
from gateway.receipts import receipt_fields_table  # noqa: E402

TABLES: dict[str, Callable[[], str]] = {
    "reason-codes": catalogue_table,
    "receipt-fields": receipt_fields_table,
}


def render(text: str) -> str:
    """``text`` with every generated block replaced by its current rendering."""
    for name, table in TABLES.items():
        block = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end: {name} -->)", re.DOTALL)
        if not block.search(text):
            raise SystemExit(f"docs/wire.md has no generated block {name!r}")
        text = block.sub(lambda m, t=table: m.group(1) + t() + m.group(2), text)  # type: ignore[misc]
    return text


def main() -> int:
    """Rewrite docs/wire.md, or with --check exit 1 when it is not current."""
    text = WIRE.read_text(encoding="utf-8")
    current = render(text)
    if "--check" in sys.argv[1:]:
        if current != text:
            print("docs/wire.md is out of date: run python tools/genwire.py")
            return 1
        return 0
    WIRE.write_text(current, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
