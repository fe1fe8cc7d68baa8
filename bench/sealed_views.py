"""Cost of sealed fields off the hub's step 8: judging, sealing and opening one SC-13 clue (wire.md §12.7).

Prints a table: operation, calls, seconds, calls per second. `judge_payload` on the clear clue and on the
same clue with the party's number sealed (the opaque view decodes and re-encodes the record once more);
`seal_payload` (one SM2 encryption of the content key, one SM4-GCM field) and `open_payload` (one SM2
decryption). Run directly: ``.venv/bin/python bench/sealed_views.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import standards
from gateway.keys import Algorithm
from gateway.sealed_records import open_payload, seal_payload
from gateway.testing import Federation
from gateway.validation import held_keys, judge_payload

N = 300
DISPATCH = Path(standards.__file__).parent / "data/SC-13/1.0.0/fixtures/good/dispatch.json"


def main() -> None:
    """Time each operation N times and print one row per operation."""
    fed = Federation.create(datetime(2025, 6, 20, 9, 0, tzinfo=UTC), algorithm=Algorithm.SM2_SM3)
    record = standards.mask(json.loads(DISPATCH.read_bytes()), "partner", standard="SC-13")
    message = fed.message("sc.amr", "cq.hub", standard="SC-13", payload=record, action="dispatch")
    clear = message.payload
    sealed = seal_payload(message, ["/partyIdCode"], fed.trust)
    held = held_keys(fed.trust, "cq.hub")
    opened = type(message)()
    opened.CopyFrom(message)
    opened.payload = sealed
    on = message.issued_at.ToDatetime().date()

    def judge(payload: bytes) -> Callable[[], object]:
        return lambda: judge_payload(
            payload, "SC-13", "1.0.0", on=on, destination="partner", recipient="cq.hub", held=held
        )

    cases: list[tuple[str, Callable[[], object]]] = [
        ("judge_payload (clear)", judge(clear)),
        ("judge_payload (sealed)", judge(sealed)),
        ("seal_payload (1 field)", lambda: seal_payload(message, ["/partyIdCode"], fed.trust)),
        ("open_payload (1 field)", lambda: open_payload(opened, fed.keys["cq.hub"])),
    ]
    print(f"{'operation':<26} {'calls':>6} {'seconds':>8} {'calls/s':>9}")
    for name, call in cases:
        start = time.perf_counter()
        for _ in range(N):
            call()
        elapsed = time.perf_counter() - start
        print(f"{name:<26} {N:>6} {elapsed:>8.3f} {N / elapsed:>9,.0f}")


if __name__ == "__main__":
    main()
