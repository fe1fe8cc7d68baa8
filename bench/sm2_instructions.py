"""One hub operation N times on an SM2 federation, for counting instructions (bench/README.md).

    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.OP .venv/bin/python bench/sm2_instructions.py OP 40

OP is one of: none, sign, receipt (the default), checkpoint, verify, judge, reload. Every OP runs the
same set-up (41 signed envelopes), so the total of a run less the total of ``none``, over 41 (the
warm-up call included), is the instructions of one operation; load on the machine does not move it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    from bench_gateway import envelopes

    from gateway.dsse import RECEIPT_TYPE, pae
    from gateway.envelope import parse_envelope
    from gateway.hub import SeenCache
    from gateway.keys import PrivateKey, load_public_key
    from gateway.logbook import LogSigner
    from gateway.pb.jgx.exchange.v1 import exchange_pb2
    from gateway.pipeline import judge
    from gateway.receipts import issue_receipt
    from gateway.treehash import SM3

    mode = sys.argv[1] if len(sys.argv) > 1 else "receipt"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    made, fed = envelopes(count + 1, "i", "sm2-sm3")
    key: PrivateKey = fed.keys["sc.hub"]
    sender = fed.keys["sc.amr"].public_key
    now = datetime.now(UTC)
    envelope = parse_envelope(made[0])
    signed, signature = pae(envelope.payload_type, envelope.body), envelope.signatures[0].sig
    signer = LogSigner.for_key("sc.hub", key, SM3)  # an SM2 node's log: the sm3 profile

    def receipt(n: int) -> bytes:
        return issue_receipt(
            issuer="sc.hub", key=key, envelope_sha256=b"d" * 32, message_id="m", sender="sc.amr",
            recipient="sc.hub", outcome=exchange_pb2.OUTCOME_ACCEPTED, reason_codes=(), findings=(),
            log_index=n, now=now,
        ).SerializeToString()  # fmt: skip

    operations: dict[str, Callable[[int], object]] = {
        "none": lambda _n: None,
        "sign": lambda _n: key.sign(pae(RECEIPT_TYPE, b"r" * 120)),
        "receipt": receipt,
        "checkpoint": lambda n: signer.sign(n + 1, b"h" * 32),
        "verify": lambda _n: sender.verify(signature, signed),
        "judge": lambda n: judge(made[n], trust=fed.trust, local_node="sc.hub", now=now, seen=SeenCache()),
        "reload": lambda _n: load_public_key(sender.spki_der).with_signer_id(b"sc.amr@jgx"),
    }
    operation = operations[mode]
    for n in range(count + 1):
        operation(n)
    print(f"{count + 1} × {mode}: count its instructions under valgrind (see this script's docstring)")


if __name__ == "__main__":
    main()
