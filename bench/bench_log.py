"""The SQLite exchange log at size: appends, proofs from stored hashes, and a full `jgx log verify` audit.

Prints a table per log size: leaves appended per second (batches of 256 in one transaction, as the
sequencer's group commit does), inclusion and consistency proofs per second read from the SQLite node
table, the time of a full audit (every leaf, stored node, side row and checkpoint; the receipts here
are placeholders, so no receipt signature is verified) and the time of the quick check `jgx serve` runs
at every start (`gateway.startcheck`: checkpoint against the tree head, the recent leaves re-hashed).

Each size runs under both log hash profiles (``sha256`` and ``sm3``: SM3 leaf, node and content
digests), one row each.

    .venv/bin/python bench/bench_log.py [N ...]
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from gateway.keys import Algorithm, generate_key
from gateway.logaudit import audit_store
from gateway.logbook import LogSigner, bind_side_rows, build_leaf, log_verifier
from gateway.loghead import LogHead
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.startcheck import check_start
from gateway.storage import Entry, StoredCheckpoint
from gateway.storage.sqlite import SqliteStore
from gateway.treehash import PROFILES, SM3, TreeHash


def _entry(n: int, now: datetime, hasher: TreeHash) -> Entry:
    envelope = f"envelope-{n}".encode()
    digest = hashlib.sha256(envelope).digest()
    message = exchange_pb2.Message(sender="sc.amr", recipient="sc.hub", message_id=f"m-{n}", standard="SC-06")
    entry = Entry(
        leaf=build_leaf(
            time=now, kind="submission", envelope_sha256=digest, outcome=exchange_pb2.OUTCOME_ACCEPTED,
            message=message, envelope_sm3=hasher.digest(envelope) if hasher is SM3 else None,
        ),
        kind="submission",
        time=now,
        envelope_sha256=digest,
        outcome=1,
        sender="sc.amr",
        recipient="sc.hub",
        message_id=f"m-{n}",
        standard="SC-06",
        envelope=envelope,
        receipt=lambda _: b"receipt",
    )
    return bind_side_rows(entry, hasher=hasher)


async def _case(n: int, hasher: TreeHash) -> tuple[int, float, float, float, float, float]:
    now = datetime.now(UTC)
    key = generate_key(Algorithm.ED25519)
    signer = LogSigner.for_key("sc.hub", key, hasher)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "jgx.db", hasher=hasher)
        await store.open()
        started = time.perf_counter()
        for start in range(0, n, 256):
            await store.append([_entry(k, now, hasher) for k in range(start, min(start + 256, n))])
        append_rate = n / (time.perf_counter() - started)
        root = await store.root(n)
        await store.save_checkpoint(StoredCheckpoint(n, root, signer.sign(n, root), now))
        rng = random.Random(1)
        started = time.perf_counter()
        for _ in range(500):
            await store.inclusion_proof(rng.randrange(n), n)
        inclusion_rate = 500 / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(500):
            await store.consistency_proof(rng.randrange(1, n), n)
        consistency_rate = 500 / (time.perf_counter() - started)
        started = time.perf_counter()
        verifiers = [log_verifier("sc.hub", key.public_key, hasher)]
        report = await audit_store(store, signer.origin, verifiers)
        audit_seconds = time.perf_counter() - started
        assert report.ok, report.problems[:3]
        started = time.perf_counter()
        problems = await check_start(
            store, LogHead(Path(tmp)), signer.origin, verifiers, node_id="sc.hub", receipt_keys=None
        )
        start_seconds = time.perf_counter() - started
        assert not problems, problems[:3]
        await store.close()
    return n, append_rate, inclusion_rate, consistency_rate, audit_seconds, start_seconds


async def main(sizes: list[int]) -> None:
    """Run each size and print the table."""
    print(
        "| hash | leaves | append/s (batches of 256) | inclusion proof/s | consistency proof/s "
        "| full audit s | start check s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        for hasher in PROFILES.values():
            size, append_rate, inclusion_rate, consistency_rate, audit_s, start_s = await _case(n, hasher)
            rates = f"{append_rate:,.0f} | {inclusion_rate:,.0f} | {consistency_rate:,.0f}"
            print(f"| {hasher.name} | {size:,} | {rates} | {audit_s:.1f} | {start_s:.3f} |", flush=True)


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [1_000, 20_000, 100_000]))
