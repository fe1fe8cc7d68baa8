"""A whole live conformance run over mutual TLS against the market-regulation reference adapter.

Prints one table: per run, the exchanges recorded, the checks judged and the wall time of `run_live`
(the suite's own work and the adapter's answers; nothing else). Run with ``make bench`` or
``.venv/bin/python bench/conformance_run.py [runs]``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

# The certification federation is the test suite's (tests/conformance/conftest.py): the same trust,
# keys, PKI and probe node that `make test` certifies against.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.departments import MarketRegulation
from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore
from conformance.runner import run_live
from gateway.validation import standards_validator
from tests.conformance.conftest import NOW, certification_federation, serving


async def one_run(folder: Path, n: int) -> tuple[int, int, str, float]:
    """(exchanges, results, verdict of the must-checks, seconds) of one full run."""
    cert = certification_federation()
    department = MarketRegulation()
    servicer = AdapterServicer(
        identity=AdapterIdentity("sc.amr", cert.fed.keys["sc.amr"], "amr-adapter", "1.0.0", "0f" * 32),
        trust=cert.fed.trust, department=department, store=AdapterStore(folder / f"run{n}.sqlite"),
        validate=standards_validator, clock=lambda: NOW,
    )  # fmt: skip
    counts = {c.standard: len(list(department.export(c.standard))) for c in department.claims()}
    async with serving(servicer, cert) as port:
        options = cert.options(port, expected_counts=counts, budget_ms=2000.0)
        started = time.perf_counter()
        run = await run_live(options, cert.fed.signed_trust)
        seconds = time.perf_counter() - started
    passed = all(r.status == "pass" for r in run.results)
    return len(run.bundle.exchanges), len(run.results), "all pass" if passed else "not all pass", seconds


async def main(runs: int) -> None:
    print(f"{'run':>3} {'exchanges':>9} {'results':>7} {'outcome':<12} {'seconds':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, runs + 1):
            exchanges, results, outcome, seconds = await one_run(Path(tmp), n)
            print(f"{n:>3} {exchanges:>9} {results:>7} {outcome:<12} {seconds:>7.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
