"""Adapter throughput: mapping a native CSV export, and Deliver (judge, dedupe, SQLite, signed receipt).

Prints two tables. Run with ``make bench`` or ``.venv/bin/python bench/bench_adapter.py [rows] [deliveries]``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc

import standards
from adapters.departments import SAMPLES, MarketRegulation
from adapters.departments.amr import INSPECTIONS
from adapters.native import NativeRow, read_csv
from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore, serve_adapter
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.testing import Federation

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def row(label: str, count: int, seconds: float) -> None:
    print(f"{label:<44} {count:>9} {seconds:>8.2f} {count / seconds:>10,.0f}")


def big_export(folder: Path, rows: int) -> Path:
    """The sample inspections export's first good row repeated `rows` times (distinct numbers)."""
    lines = (SAMPLES / "amr_inspections.csv").read_bytes().split(b"\r\n")
    header, good = lines[0].decode("utf-8-sig"), lines[1].decode("utf-8")
    body = [good.replace("JC-2026-000101", f"JC-2026-{n:06d}") for n in range(rows)]
    path = folder / "big.csv"
    path.write_text("\n".join([header, *body]) + "\n", "utf-8")
    return path


def bench_mapping(folder: Path, rows: int) -> None:
    """Rows per second for reading and converting, then for validating the mapped records."""
    path = big_export(folder, rows)
    start = time.perf_counter()
    mapped = [r for r in read_csv(path, INSPECTIONS) if isinstance(r, NativeRow)]
    read = time.perf_counter() - start
    start = time.perf_counter()
    for native in mapped:
        standards.validate(json.dumps(native.values, ensure_ascii=False).encode(), "SC-05", "1.0.0")
    validated = time.perf_counter() - start
    print(f"{'native CSV export (SC-05, 26 columns)':<44} {'rows':>9} {'seconds':>8} {'rows/s':>10}")
    row("read + convert (read_csv)", len(mapped), read)
    row("standards.validate of the mapped records", len(mapped), validated)


def envelopes(fed: Federation, n: int) -> list[bytes]:
    """`n` signed SC-06 records from the hub to sc.amr."""
    return [
        fed.envelope(fed.message("sc.hub", "sc.amr", standard="SC-06", business_key=f"CF-{i}"))
        for i in range(n)
    ]


async def bench_deliver(folder: Path, n: int) -> None:
    """Deliveries per second: in process, duplicates, and over gRPC on 127.0.0.1."""
    fed = Federation.create(NOW)

    def servicer(name: str) -> AdapterServicer:
        return AdapterServicer(
            identity=AdapterIdentity("sc.amr", fed.keys["sc.amr"]), trust=fed.trust,
            department=MarketRegulation(SAMPLES, auto_claim=False), store=AdapterStore(folder / name),
            clock=lambda: NOW,
        )  # fmt: skip

    print(f"\n{'Deliver (signed record, no validation)':<44} {'envelopes':>9} {'seconds':>8} {'per s':>10}")
    service, batch = servicer("a.sqlite"), envelopes(fed, n)
    for label in ("in process: servicer.deliver", "in process, the same again (duplicates)"):
        start = time.perf_counter()
        for data in batch:
            service.deliver(data)
        row(label, n, time.perf_counter() - start)
    async with (
        serve_adapter(servicer("grpc.sqlite")) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        call = channel.unary_unary(
            "/jgx.adapter.v1.Adapter/Deliver", request_serializer=lambda b: b,
            response_deserializer=adapter_pb2.DeliverResponse.FromString,
        )  # fmt: skip
        batch = envelopes(fed, n)
        start = time.perf_counter()
        for data in batch:
            await call(data)
        row("gRPC Deliver, sequential", n, time.perf_counter() - start)
        batch = envelopes(fed, n)
        start = time.perf_counter()
        for i in range(0, n, 16):
            await asyncio.gather(*(call(d) for d in batch[i : i + 16]))
        row("gRPC Deliver, 16 concurrent", n, time.perf_counter() - start)


def main() -> None:
    """Run both benchmarks in a temporary folder."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    deliveries = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    with tempfile.TemporaryDirectory() as tmp:
        bench_mapping(Path(tmp), rows)
        asyncio.run(bench_deliver(Path(tmp), deliveries))


if __name__ == "__main__":
    main()
