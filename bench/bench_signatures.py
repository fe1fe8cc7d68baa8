"""Signatures per second for each algorithm a trust configuration can name, on one core.

    .venv/bin/python bench/bench_signatures.py [SECONDS]

Signs and verifies a 1 835-byte PAE (about the signed bytes of an SC-06 envelope) through
`gateway.keys`, the interface the hub uses, so SM2 includes computing Z_A and e = SM3(Z_A ‖ M) in Python
and the curve work in Tongsuo. CPU time (process_time), so other load on the machine shows less.
"""

from __future__ import annotations

import sys
import time

from gateway.keys import Algorithm, generate_key

MESSAGE = b"DSSEv1 41 application/vnd.jgx.message.v1+protobuf 1780 " + bytes(1780)


def rate(operation: object, seconds: float) -> float:
    """Calls per CPU second of `operation()`, run for about `seconds`."""
    assert callable(operation)
    count, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        for _ in range(50):
            operation()
        count += 50
    return count / elapsed


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    print(f"| algorithm | sign/s | verify/s | signature bytes | message {len(MESSAGE)} B |")
    print("|---|---:|---:|---:|---|")
    for algorithm in Algorithm:
        key = generate_key(algorithm)
        signature = key.sign(MESSAGE)
        assert key.public_key.verify(signature, MESSAGE)
        signs = rate(lambda key=key: key.sign(MESSAGE), seconds)
        verifies = rate(lambda key=key, sig=signature: key.public_key.verify(sig, MESSAGE), seconds)
        print(f"| `{algorithm.value}` | {signs:,.0f} | {verifies:,.0f} | {len(signature)} | |")


if __name__ == "__main__":
    main()
