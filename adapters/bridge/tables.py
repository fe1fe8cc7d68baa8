"""The front database through SQLAlchemy Core: read the source table by watermark, write verdicts back.

Everything dialect-specific stays in SQLAlchemy: the URL picks PostgreSQL (``postgresql+psycopg://``),
MySQL (``mysql+pymysql://``), Oracle (``oracle+oracledb://``), 达梦 (``dm+dmPython://``, the vendor's
dialect) or a SQLite file. The bridge only issues portable statements: a ``SELECT`` paged by cd_time and
ordered by (cd_time, cd_id), and an ``UPDATE``-then-``INSERT`` of result rows keyed by (cd_id, cd_time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, oracle
from sqlalchemy.exc import DBAPIError, NoSuchTableError, SQLAlchemyError

from adapters.bridge.mapping import BridgeMapping, MappingError

__all__ = [
    "CONNECT_TIMEOUT",
    "LONG_TEXT",
    "OWN_TABLE",
    "TIMESTAMP",
    "Cursor",
    "DatabaseUnavailable",
    "FrontDatabase",
    "Page",
    "front_engine",
    "own_table_options",
    "read_page",
]

#: Seconds a connection attempt to a front database may take before the database counts as away
#: (``[database] connect_timeout``). Without it an unreachable host holds the bridge for the operating
#: system's TCP timeout (minutes) before `DatabaseUnavailable` is reported.
CONNECT_TIMEOUT: Final = 5.0

#: A moment in the bridge's own tables, to the microsecond on every dialect: MySQL's plain DATETIME and
#: Oracle's DATE keep whole seconds only, which would tie two deliveries of the same second.
TIMESTAMP: Final = (
    sa.DateTime()
    .with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    .with_variant(oracle.TIMESTAMP(), "oracle")
)

#: Text of any length the bridge stores (a delivered record's JSON, up to the 1 MiB envelope): MySQL's
#: TEXT stops at 64 KiB, so it is LONGTEXT there; CLOB on Oracle, text elsewhere.
LONG_TEXT: Final = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

#: Options of a table the bridge creates. On MySQL/MariaDB: utf8mb4 whatever the database's default (a
#: legacy utf8mb3 or latin1 database cannot hold four-byte characters, or Chinese at all), and a binary
#: collation so keys compare exactly (the default *_ci collations make "JC1a" and "JC1A" one key).
OWN_TABLE: Final[dict[str, Any]] = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("charset", "utf8mb4"), ("collate", "utf8mb4_bin"))
}

#: Where a scan stands: the cd_time (as the database returned it) of the last rows read; the next page
#: starts after it.
Cursor = Any


@dataclass(frozen=True, slots=True)
class Page:
    """Rows read from a change table, where the next page starts (``cursor``), and whether there may be
    more (the page was full)."""

    rows: list[dict[str, Any]]
    cursor: Cursor
    more: bool


def read_page(
    connection: sa.Connection,
    query: sa.Select[Any],
    cd_time: sa.ColumnElement[Any],
    cd_id: sa.ColumnElement[Any],
    *,
    time_key: str,
    since: Any,
    after: Cursor | None,
    limit: int,
) -> Page:
    """The page of ``query`` after ``after`` (or from ``since`` on, or from the start): up to ``limit`` rows
    in (cd_time, cd_id) order, extended to every row of its last cd_time (``time_key``: its name in a row).

    A page never splits the rows that share a cd_time, so the next page starts strictly after a cd_time
    and no comparison of cd_id decides what is read: the database orders and compares cd_id by the
    collation the department chose (MySQL's default ``*_ci`` collations make "JC1a" and "JC1A", or "JC1"
    and "JC1 ", one value), and a NULL cd_id compares as nothing, so a keyset on (cd_time, cd_id) would
    skip such rows at a page boundary. A scan from the start reads the rows without a cd_time first (they
    have no place in the order; each is refused, see `adapters.bridge.rows`).
    """
    timeless: list[dict[str, Any]] = []
    if after is not None:
        query = query.where(cd_time > after)
    elif since is not None:
        query = query.where(cd_time >= since)
    else:
        timeless = [dict(r) for r in connection.execute(query.where(cd_time.is_(None))).mappings()]
        query = query.where(cd_time.is_not(None))
    ordered = query.order_by(cd_time, cd_id)
    rows = [dict(r) for r in connection.execute(ordered.limit(limit + 1)).mappings()]
    if len(rows) <= limit:
        return Page(timeless + rows, rows[-1][time_key] if rows else after, False)
    last, following = rows[limit - 1][time_key], rows[limit][time_key]
    if isinstance(last, date) and isinstance(following, date) and last != following:
        rows = rows[:limit]  # the page ends between two moments (a text cd_time is compared by the database)
    else:  # the rest of the last cd_time's rows, however many share it
        rows = [dict(r) for r in connection.execute(ordered.where(cd_time <= last)).mappings()]
    return Page(timeless + rows, rows[-1][time_key], True)


class DatabaseUnavailable(ConnectionError):
    """The front database cannot be reached or failed mid-statement; the pass may be retried.

    ``message_zh`` / ``message_en`` name the database (the national one when ``national``) and carry the
    driver's ``detail``; ``str()`` keeps both for logs.
    """

    def __init__(self, detail: str, *, national: bool = False) -> None:
        zh, en = (
            ("国家前置库不可用", "the national front database is unavailable")
            if national
            else ("前置库不可用", "the front database is unavailable")
        )
        self.message_zh, self.message_en = f"{zh}: {detail}", f"{en}: {detail}"
        super().__init__(f"{zh} / {en}: {detail}")


def own_table_options(engine: sa.Engine) -> dict[str, Any]:
    """`OWN_TABLE` with the collation that compares keys byte for byte, trailing spaces included, where the
    server has one: ``utf8mb4_bin`` is PAD SPACE ("JC1" and "JC1 " one key); MariaDB has
    ``utf8mb4_nopad_bin``, MySQL from 8.0.17 ``utf8mb4_0900_bin``."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        return {}
    if getattr(engine.dialect, "server_version_info", None) is None:
        with engine.connect():  # the dialect learns the server and its version on the first connection
            pass
    version = engine.dialect.server_version_info or ()
    collation = "utf8mb4_bin"
    if getattr(engine.dialect, "is_mariadb", False):
        collation = "utf8mb4_nopad_bin" if version >= (10, 2) else collation
    elif version >= (8, 0, 17):
        collation = "utf8mb4_0900_bin"
    return {**OWN_TABLE, **{f"{d}_collate": collation for d in ("mysql", "mariadb")}}


def front_engine(url: str, *, connect_timeout: float = CONNECT_TIMEOUT) -> sa.Engine:
    """An engine on a front database whose connection attempts give up after ``connect_timeout`` seconds.

    Each driver is told in its own terms (psycopg and libpq: ``connect_timeout``, whole seconds, at least
    2; PyMySQL: ``connect_timeout``; oracledb: ``tcp_connect_timeout``); SQLite opens a file and needs
    none. A pool pre-ping replaces a connection the server dropped while the bridge slept.
    """
    backend = sa.make_url(url).get_backend_name()
    seconds = max(connect_timeout, 0.1)
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["connect_timeout"] = max(2, math.ceil(seconds))  # libpq: an integer, below 2 means 2
    elif backend in ("mysql", "mariadb"):
        connect_args["connect_timeout"] = seconds
    elif backend == "oracle":
        connect_args["tcp_connect_timeout"] = seconds
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _unavailable(exc: SQLAlchemyError) -> DatabaseUnavailable:
    detail = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip().splitlines()[0][:300]
    return DatabaseUnavailable(detail)


def _one_match(name: str, names: list[str]) -> str | None:
    """The one of ``names`` equal to ``name`` but for case, or None (none, or several)."""
    found = [n for n in names if n.lower() == name.lower()]
    return found[0] if len(found) == 1 else None


class FrontDatabase:
    """One department's front database as the bridge sees it: a source table and a result table."""

    def __init__(self, mapping: BridgeMapping, engine: sa.Engine | None = None) -> None:
        self.mapping = mapping
        # pre-ping: a connection the server dropped while the bridge slept is replaced, not reused
        self.engine = engine or front_engine(mapping.database_url, connect_timeout=mapping.connect_timeout)
        self._source: sa.Table | None = None
        self._actual: dict[str, str] = {}  # a mapping's name → the table's, where only the case differs
        self._result: sa.Table | None = None

    def close(self) -> None:
        """Release the pool."""
        self.engine.dispose()

    def _reflect(self, name: str) -> sa.Table:
        return sa.Table(name, sa.MetaData(schema=self.mapping.db_schema), autoload_with=self.engine)

    def source(self) -> sa.Table:
        """The source table, reflected from the database (its column types come from there).

        Names in the mapping match the table's whatever their case, as long as only one name matches:
        databases fold unquoted names differently (PostgreSQL to lower case, Oracle and 达梦 to upper
        case, MySQL keeps column names as written but compares them without case), so ``cd_id`` in a
        mapping finds a column ``CD_ID``, and ``t_xzjc`` a table ``T_XZJC``.
        """
        if self._source is None:
            try:
                try:
                    table = self._reflect(self.mapping.table)
                except NoSuchTableError:
                    names = sa.inspect(self.engine).get_table_names(schema=self.mapping.db_schema)
                    table = self._reflect(_one_match(self.mapping.table, names) or self.mapping.table)
            except NoSuchTableError:
                raise MappingError(
                    f"前置库中没有表 {self.mapping.table}",
                    f"the front database has no table {self.mapping.table}",
                ) from None
            except SQLAlchemyError as exc:
                raise _unavailable(exc) from None
            optional = {self.mapping.column("cd_batch"), self.mapping.column("cd_source")}
            wanted = [*self.mapping.change.values(), *(r.column for r in self.mapping.fields if r.column)]
            present = list(table.c.keys())
            for name in {*wanted, *self.mapping.headers.values()}:
                actual = _one_match(name, present) if name not in table.c else None
                if actual is not None:
                    self._actual[name] = actual
            absent = sorted({c for c in wanted if self._name(c) not in table.c and c not in optional})
            if absent:
                raise MappingError(
                    f"表 {self.mapping.table} 没有列 {absent}",
                    f"table {self.mapping.table} has no columns {absent}",
                )
            self._source = table
        return self._source

    def _name(self, name: str) -> str:
        return self._actual.get(name, name)

    def _column(self, role: str) -> sa.ColumnElement[Any]:
        """The source column of one change role (``cd_time`` …), by its name in the table."""
        return self.source().c[self._name(self.mapping.column(role))]

    def result(self) -> sa.Table:
        """The result table; created with the standard layout when the mapping allows and it is absent."""
        if self._result is None:
            names = self.mapping.result_column
            table = sa.Table(
                self.mapping.result_table,
                sa.MetaData(schema=self.mapping.db_schema),
                sa.Column(names("cd_id"), sa.String(64), primary_key=True),
                sa.Column(names("cd_time"), sa.String(40), primary_key=True),
                sa.Column(names("cd_operation"), sa.String(1)),
                sa.Column(names("message_id"), sa.String(64)),
                sa.Column(names("status"), sa.String(16)),
                sa.Column(names("reason_codes"), sa.String(500)),
                sa.Column(names("messages_zh"), sa.Text),
                sa.Column(names("receipt_sha256"), sa.String(64)),
                sa.Column(names("log_index"), sa.BigInteger),
                sa.Column(names("decided_at"), TIMESTAMP),
                **self._own_table(),
            )
            if self.mapping.create_result_table:
                try:
                    table.create(self.engine, checkfirst=True)
                except SQLAlchemyError as exc:
                    raise _unavailable(exc) from None
            self._result = table
        return self._result

    def _own_table(self) -> dict[str, Any]:
        try:
            return own_table_options(self.engine)
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None

    def whole_seconds(self) -> bool:
        """True when the cd_time column keeps whole seconds only (MySQL's plain DATETIME or TIMESTAMP,
        Oracle's DATE, a DATE): two changes of one row within a second then share a cd_time, hence a
        message id, and the second is taken for the first. Text columns are not judged."""
        kind = self._column("cd_time").type
        if self.engine.dialect.name in ("mysql", "mariadb") and isinstance(kind, sa.DateTime | sa.TIMESTAMP):
            return not getattr(kind, "fsp", None)
        if self.engine.dialect.name == "oracle" and isinstance(kind, oracle.DATE):
            return True
        return isinstance(kind, sa.Date) and not isinstance(kind, sa.DateTime)

    def _time_bound(self, moment: datetime) -> Any:
        """``moment`` as the cd_time column stores it: a timestamp, or text in the mapping's format."""
        column = self._column("cd_time")
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            python_type = str
        if issubclass(python_type, datetime):
            return moment
        return moment.strftime(self.mapping.cd_time_format)

    def read(self, *, since: datetime | None, after: Cursor | None, limit: int) -> Page:
        """The page after ``after`` (or from ``since`` on): about ``limit`` rows, see `read_page`."""
        table = self.source()
        cd_time, cd_id = self._column("cd_time"), self._column("cd_id")
        spelled = {actual: name for name, actual in self._actual.items()}  # rows carry the mapping's names
        columns = [c.label(spelled[c.name]) if c.name in spelled else c for c in table.c]
        bound = None if since is None else self._time_bound(since)
        try:
            with self.engine.connect() as connection:
                return read_page(
                    connection, sa.select(*columns), cd_time, cd_id, time_key=self.mapping.column("cd_time"),
                    since=bound, after=after, limit=limit,
                )  # fmt: skip
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None

    def holds_key(self, cd_id: str, cd_time_text: str) -> bool:
        """True when the result table can hold a row keyed (``cd_id``, ``cd_time_text``): Oracle and 达梦
        store an empty string as NULL, which a key column refuses."""
        if self.engine.dialect.name in ("oracle", "dm"):
            return bool(cd_id) and bool(cd_time_text)
        return True

    def versions(self, cd_id: str) -> list[Any]:
        """The cd_time values (as the database gives them) of the source rows with ``cd_id``."""
        query = sa.select(self._column("cd_time")).where(self._column("cd_id") == cd_id)
        try:
            with self.engine.connect() as connection:
                return list(connection.execute(query).scalars())
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None

    def write_results(self, rows: Sequence[Mapping[str, Any]], *, keep: frozenset[str] = frozenset()) -> None:
        """Write verdict rows back in one transaction: a row for the same (cd_id, cd_time) is replaced,
        except that a row whose message id is in ``keep`` is only added, never written over."""
        if not rows:
            return
        table = self.result()
        key_id = table.c[self.mapping.result_column("cd_id")]
        key_time = table.c[self.mapping.result_column("cd_time")]
        try:
            with self.engine.begin() as connection:
                for row in rows:
                    where = sa.and_(key_id == row[key_id.name], key_time == row[key_time.name])
                    if row[self.mapping.result_column("message_id")] in keep:
                        if connection.execute(sa.select(sa.func.count()).where(where)).scalar_one() == 0:
                            connection.execute(sa.insert(table).values(**row))
                        continue
                    if connection.execute(sa.update(table).where(where).values(**row)).rowcount == 0:
                        connection.execute(sa.insert(table).values(**row))
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None

    def lookback(self, watermark: datetime | None) -> datetime | None:
        """Where a pass starts: the look-back window before the watermark (late commits are caught there)."""
        if watermark is None:
            return None
        return watermark - timedelta(seconds=self.mapping.lookback_seconds)
