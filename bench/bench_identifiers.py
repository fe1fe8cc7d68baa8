"""Throughput of the identifier checks and code-list look-ups the validator runs per record.

Prints a table: check, calls, seconds, calls per second. Run with ``make bench`` or directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from standards import calendar, codelists
from standards.identifiers import (
    citizen_id_problems,
    date_problems,
    org_code_problems,
    phone_problems,
    uscc_problems,
)

N = 200_000
ON = date(2026, 1, 1)
CASES: list[tuple[str, Callable[[], object]]] = [
    ("uscc_problems (valid)", lambda: uscc_problems("91512081MA62K0260E")),
    ("uscc_problems (bad check)", lambda: uscc_problems("91350100M000100Y44")),
    ("org_code_problems", lambda: org_code_problems("M000100Y-4")),
    ("citizen_id_problems (18)", lambda: citizen_id_problems("11010519491231002X", on=ON)),
    ("citizen_id_problems (15)", lambda: citizen_id_problems("510104900307001", on=ON)),
    ("phone_problems", lambda: phone_problems("028-85551234")),
    ("date_problems", lambda: date_problems("2024-02-29")),
    ("region_valid", lambda: codelists.region_valid("500157", ON)),
    ("code_list().contains", lambda: codelists.code_list("penalty_kind").contains("08")),
    ("add_working_days(+7)", lambda: calendar.add_working_days(ON, 7)),
]


def main() -> None:
    """Time each check N times and print one row per check."""
    print(f"{'check':<28} {'calls':>8} {'seconds':>8} {'calls/s':>11}")
    for name, call in CASES:
        start = time.perf_counter()
        for _ in range(N):
            call()
        elapsed = time.perf_counter() - start
        print(f"{name:<28} {N:>8} {elapsed:>8.3f} {N / elapsed:>11,.0f}")


if __name__ == "__main__":
    main()
