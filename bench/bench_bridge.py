"""前置库 bridge throughput: read + map + validate from a front table, and whole passes to a real hub.

Prints two tables. ``.venv/bin/python bench/bench_bridge.py [rows] [sent] [--url URL ...]``: ``rows``
source rows (default 200 000; the issue's figure is 1 000 000) are streamed through the mapping and local
validation in batches of 500 from a SQLite file (and from PostgreSQL at 127.0.0.1:5432 when reachable),
with peak RSS before and after to show memory stays flat; then ``sent`` rows (default 5 000) go the whole
way: map, validate, sign, journal, submit over mTLS to an in-process hub (SQLite log), write back.

Each ``--url`` (a SQLAlchemy URL of another front database, e.g.
``mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4``) adds a row to both tables, measured in a
scratch schema (PostgreSQL) or database (MySQL/MariaDB) created for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import standards

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test helpers build the front table

from adapters.bridge import BridgeMapping, FrontDatabase, map_row, parse_mapping
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
    """Stream the whole table through map_row and local validation, in batches paged by cd_time."""
    db = FrontDb(url, schema)
    fill(db, rows)
    mapping = parse_mapping(mapping_text(url, state, schema=schema))
    database = FrontDatabase(mapping)
    fields = {f.name: f for f in standards.catalogue().get("SC-05", "1.0.0").fields}
    before, seen, refused = rss_mb(), 0, 0
    start, after = time.perf_counter(), None
    while True:
        page = database.read(since=None, after=after, limit=500)
        for raw in page.rows:
            row = map_row(raw, mapping, fields)
            found = local_findings(row, mapping, on=date(2026, 11, 27), destination="internal")
            refused += any(f.severity == "error" for f in found)
        seen += len(page.rows)
        if not page.more:
            break
        after = page.cursor
    seconds = time.perf_counter() - start
    print(
        f"{label:<34} {seen:>9} {seconds:>8.1f} {seen / seconds:>9,.0f} "
        f"{before:>9.0f} {rss_mb():>9.0f} {refused:>7}"
    )
    database.close()
    db.close()


class TimedFrontDatabase(FrontDatabase):
    """The bridge's front database, adding up the wall time its write-backs take."""

    def __init__(self, mapping: BridgeMapping) -> None:
        super().__init__(mapping)
        self.write_seconds = 0.0

    def write_results(self, rows: Sequence[Mapping[str, Any]], *, keep: frozenset[str] = frozenset()) -> None:
        start = time.perf_counter()
        super().write_results(rows, keep=keep)
        self.write_seconds += time.perf_counter() - start


async def whole_passes(
    folder: Path, rows: int, url: str | None = None, schema: str | None = None, label: str = "SQLite"
) -> None:
    fed = Federation.create(datetime.now(UTC))
    url = url or f"sqlite:///{folder / 'sent.db'}"
    db = FrontDb(url, schema)
    fill(db, rows)
    state = folder / f"sent-state-{secrets.token_hex(4)}.sqlite"
    async with running_hub(fed, folder / f"hub-{secrets.token_hex(4)}.sqlite") as hub:
        mapping = parse_mapping(mapping_text(url, state, f"localhost:{hub.port}", schema))
        database = TimedFrontDatabase(mapping)
        bridge = make_bridge(mapping, hub, database=database)
        start = time.perf_counter()
        report = await bridge.run_once()
        seconds = time.perf_counter() - start
        await bridge.close()
    db.close()
    accepted = report.total("accepted")
    print(f"{f'whole pass, {label}':<40} {accepted:>9} {seconds:>8.1f} {accepted / seconds:>9,.0f}")
    print(
        f"{f'of which write-back ({label})':<40} {accepted:>9} {database.write_seconds:>8.1f} "
        f"{accepted / database.write_seconds:>9,.0f}"
    )


@contextlib.contextmanager
def scratch(url: str) -> Iterator[str | None]:
    """A schema (PostgreSQL) or database (MySQL/MariaDB) of its own for one run, dropped afterwards."""
    engine = sa.create_engine(url)
    name = f"bench_{secrets.token_hex(4)}"
    if engine.dialect.name == "postgresql":
        create, drop = f"CREATE SCHEMA {name}", f"DROP SCHEMA {name} CASCADE"
    elif engine.dialect.name in ("mysql", "mariadb"):
        create, drop = f"CREATE DATABASE {name} CHARACTER SET utf8mb4", f"DROP DATABASE {name}"
    else:
        yield None
        engine.dispose()
        return
    with engine.begin() as c:
        c.execute(sa.text(create))
    try:
        yield name
    finally:
        with engine.begin() as c:
            c.execute(sa.text(drop))
        engine.dispose()


def label_of(url: str) -> str:
    parsed = sa.make_url(url)
    return f"{parsed.get_backend_name()} {parsed.host or ''}".strip()


def postgres_reachable() -> bool:
    try:
        with sa.create_engine(PG).connect():
            return True
    except sa.exc.OperationalError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="?", default=200_000)
    parser.add_argument("sent", type=int, nargs="?", default=5_000)
    parser.add_argument("--url", action="append", default=[], help="another front database (repeatable)")
    args = parser.parse_args()
    rows, sent = args.rows, args.sent
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
        for n, url in enumerate(args.url):
            with scratch(url) as name:
                read_map_validate(url, name, folder / f"u{n}", rows, label_of(url))
        print()
        print(f"{'end to end (one core for bridge and hub)':<40} {'rows':>9} {'seconds':>8} {'rows/s':>9}")
        asyncio.run(whole_passes(folder, sent))
        for url in args.url:
            with scratch(url) as name:
                asyncio.run(whole_passes(folder, sent, url, name, label_of(url)))


if __name__ == "__main__":
    main()
