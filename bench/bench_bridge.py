"""前置库 bridge throughput: read + map + validate from a front table, and whole passes to a real hub.

Prints two tables. ``.venv/bin/python bench/bench_bridge.py [rows] [sent]``: ``rows`` source rows
(default 200 000; the issue's figure is 1 000 000) are streamed through the mapping and local validation
in batches of 500 from a SQLite file (and from PostgreSQL at 127.0.0.1:5432 when reachable), with peak
RSS before and after to show memory stays flat; then ``sent`` rows (default 5 000) go the whole way:
map, validate, sign, journal, submit over mTLS to an in-process hub (SQLite log), write back.
"""

from __future__ import annotations

import asyncio
import resource
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

import standards

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test helpers build the front table

from adapters.bridge import FrontDatabase, map_row, parse_mapping
from adapters.bridge.verdicts import local_findings
from gateway.testing import Federation
from tests.adapters.bridge.front import FrontDb, inspection, make_bridge, mapping_text, running_hub

T0 = datetime(2026, 11, 1)
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(db: FrontDb, rows: int) -> None:
    for start in range(0, rows, 10_000):
        db.insert(inspection(n, T0 + timedelta(seconds=n)) for n in range(start, min(rows, start + 10_000)))


def read_map_validate(url: str, schema: str | None, state: Path, rows: int, label: str) -> None:
    """Stream the whole table through map_row and local validation, in keyset batches."""
    db = FrontDb(url, schema)
    fill(db, rows)
    mapping = parse_mapping(mapping_text(url, state, schema=schema))
    database = FrontDatabase(mapping)
    fields = {f.name: f for f in standards.catalogue().get("SC-05", "1.0.0").fields}
    before, seen, refused = rss_mb(), 0, 0
    start, after = time.perf_counter(), None
    while True:
        batch = database.read(since=None, after=after, limit=500)
        for raw in batch:
            row = map_row(raw, mapping, fields)
            found = local_findings(row, mapping, on=date(2026, 11, 27), destination="internal")
            refused += any(f.severity == "error" for f in found)
        seen += len(batch)
        if len(batch) < 500:
            break
        after = (batch[-1]["cd_time"], batch[-1]["cd_id"])
    seconds = time.perf_counter() - start
    print(
        f"{label:<34} {seen:>9} {seconds:>8.1f} {seen / seconds:>9,.0f} "
        f"{before:>9.0f} {rss_mb():>9.0f} {refused:>7}"
    )
    database.close()
    db.close()


async def whole_passes(folder: Path, rows: int) -> None:
    fed = Federation.create(datetime.now(UTC))
    url = f"sqlite:///{folder / 'sent.db'}"
    db = FrontDb(url)
    fill(db, rows)
    async with running_hub(fed, folder / "hub.sqlite") as hub:
        mapping = parse_mapping(mapping_text(url, folder / "sent-state.sqlite", f"localhost:{hub.port}"))
        bridge = make_bridge(mapping, hub)
        timings: dict[str, float] = {"write": 0.0}
        write = bridge.database.write_results

        def timed_write(rows_: list[dict[str, object]], **options: frozenset[str]) -> None:
            start = time.perf_counter()
            write(rows_, **options)
            timings["write"] += time.perf_counter() - start

        bridge.database.write_results = timed_write  # type: ignore[method-assign]
        start = time.perf_counter()
        report = await bridge.run_once()
        seconds = time.perf_counter() - start
        await bridge.close()
    accepted = report.total("accepted")
    print(
        f"{'whole pass (sign, submit, write back)':<40} {accepted:>9} {seconds:>8.1f} "
        f"{accepted / seconds:>9,.0f}"
    )
    print(
        f"{'of which write-back to the result table':<40} {accepted:>9} {timings['write']:>8.1f} "
        f"{accepted / timings['write']:>9,.0f}"
    )


def postgres_reachable() -> bool:
    try:
        with sa.create_engine(PG).connect():
            return True
    except sa.exc.OperationalError:
        return False


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    sent = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(
            f"{'read + map + validate (SC-05)':<34} {'rows':>9} {'seconds':>8} {'rows/s':>9} "
            f"{'RSS0 MB':>9} {'RSS1 MB':>9} {'refused':>7}"
        )
        read_map_validate(f"sqlite:///{folder / 'front.db'}", None, folder / "s1", rows, "SQLite file")
        if postgres_reachable():
            schema = f"bench_{secrets.token_hex(4)}"
            engine = sa.create_engine(PG)
            with engine.begin() as c:
                c.execute(sa.text(f"CREATE SCHEMA {schema}"))
            try:
                read_map_validate(PG, schema, folder / "s2", rows, "PostgreSQL 127.0.0.1")
            finally:
                with engine.begin() as c:
                    c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        print()
        print(f"{'end to end (one core for bridge and hub)':<40} {'rows':>9} {'seconds':>8} {'rows/s':>9}")
        asyncio.run(whole_passes(folder, sent))


if __name__ == "__main__":
    main()
