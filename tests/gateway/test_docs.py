"""docs/wire.md stays in step with the reason-code catalogue."""

from pathlib import Path

from gateway.errors import CATALOGUE

WIRE = (Path(__file__).resolve().parents[2] / "docs" / "wire.md").read_text(encoding="utf-8")


def test_every_reason_code_is_documented_with_its_statuses_and_messages() -> None:
    """Each catalogue entry has its row in docs/wire.md §6, with the same statuses and messages."""
    for reason in CATALOGUE.values():
        r = reason
        row = f"| `{r.code.value}` | {r.grpc_status} | {r.http_status} | {r.zh} | {r.en} |"
        assert row in WIRE, f"docs/wire.md lacks or misstates {reason.code.value}"
