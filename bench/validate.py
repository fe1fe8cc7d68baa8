"""Records per second of ``standards.validate`` (every rule on) against plain ``jsonschema``, per standard.

    python bench/validate.py [--seconds 1.0]

Both sides get the same bytes: the shipped good records of each standard. ``jsonschema`` does
``json.loads`` plus ``Draft202012Validator.iter_errors`` (structure only); the validator decodes strictly,
checks structure with jsonschema-rs and runs every semantic rule (SC-16 codes, SC-18 timeliness …).
Numbers go into bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import date, timedelta

import jsonschema

import standards
from standards.catalogue import DATA_DIR, catalogue
from standards.identifiers import org_code_check_char, uscc_check_char

DAY = date(2025, 6, 30)


def rates(
    ours: Callable[[bytes], object], theirs: Callable[[bytes], object], payloads: list[bytes], seconds: float
) -> tuple[float, float]:
    """Records per CPU second of both sides, in alternating rounds of about 20 ms each, so that other
    work on the machine (and its caches) weighs on both alike. CPU time, not wall time: a busy machine
    delays a process without making its work larger."""
    spent, done = [0.0, 0.0], [0, 0]
    sizes = [1, 1]
    while min(spent) < seconds:
        for side, work in enumerate((ours, theirs)):
            start = time.process_time()
            for _ in range(sizes[side]):
                for payload in payloads:
                    work(payload)
            took = time.process_time() - start
            spent[side] += took
            done[side] += sizes[side] * len(payloads)
            if took < 0.02:
                sizes[side] *= 2
    return done[0] / spent[0], done[1] / spent[1]


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    print(f"{'standard':<8} {'records':>7} {'validator rec/s':>16} {'jsonschema rec/s':>17} {'ratio':>7}")
    for s in catalogue():
        if s.kind != "record" or s.schema is None:  # as standards.validator: a record has its schema
            continue
        good = DATA_DIR / s.id / s.version / "fixtures" / "good"
        payloads = [p.read_bytes() for p in sorted(good.glob("*.json"))]
        reference = jsonschema.Draft202012Validator(s.schema)

        def fast(payload: bytes, sid: str = s.id, version: str = s.version) -> object:
            return standards.validate(payload, sid, version, on=DAY)

        def plain(payload: bytes, check: jsonschema.Draft202012Validator = reference) -> object:
            return list(check.iter_errors(json.loads(payload)))

        row(s.id, payloads, fast, plain, args.seconds)
        if s.id == "SC-06":
            row("SC-06*", distinct_penalties(payloads[0], 2000), fast, plain, args.seconds)
    print("* 2000 distinct penalty records: every party's USCC and every date differ, so the validator's")
    print("  memo of identifier checks and parsed days helps only where real exports repeat (the agency).")


def row(
    label: str,
    payloads: list[bytes],
    fast: Callable[[bytes], object],
    plain: Callable[[bytes], object],
    seconds: float,
) -> None:
    """Measure and print one line."""
    assert all(not fast(p) for p in payloads), f"{label}: good records must be clean"
    ours, theirs = rates(fast, plain, payloads, seconds)
    print(f"{label:<8} {len(payloads):>7} {ours:>16,.0f} {theirs:>17,.0f} {ours / theirs:>6.1f}×")


def distinct_penalties(template: bytes, count: int) -> list[bytes]:
    """``count`` clean SC-06 records that differ in the party's USCC and in every date."""
    base = json.loads(template)
    out: list[bytes] = []
    n = 0
    while len(out) < count:
        n += 1
        body = f"{n:08d}"
        first17 = "91510107" + body + org_code_check_char(body)
        decided = date(2025, 1, 6) + timedelta(days=n % 300)
        record = base | {
            "counterpartIdCode": first17 + uscc_check_char(first17),
            "filingDate": (decided - timedelta(days=20)).isoformat(),
            "legalReviewDate": (decided - timedelta(days=2)).isoformat(),
            "decisionDate": decided.isoformat(),
            "closingDate": (decided + timedelta(days=1)).isoformat(),
            "reportTime": f"{(decided + timedelta(days=2)).isoformat()} 09:{n % 60:02d}:00",
        }
        payload = json.dumps(record, ensure_ascii=False).encode()
        if not standards.validate(payload, "SC-06", "1.0.0", on=DAY):  # skip the few a holiday makes late
            out.append(payload)
    return out


if __name__ == "__main__":
    main()
