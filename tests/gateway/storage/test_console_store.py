"""Behaviour every backend shares for the console: search, aggregates, accounts and sessions."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.storage import Cursor, Entry, MessageQuery, Session, StorageError, Store, User
from gateway.storage.sqlite import SqliteStore
from gateway.storage.sqlite_schema import MIGRATIONS
from tests.gateway.storage.conftest import NOW, entry

SENDERS = ("sc.amr", "sc.12315", "cn.national")


def varied(n: int) -> Entry:
    """Entry n: senders rotate, every third is rejected with a reason, standards alternate."""
    base = entry(n, sender=SENDERS[n % 3], correlation_id=f"task-{n % 4}")
    rejected = n % 3 == 1
    return dataclasses.replace(
        base,
        recipient="sc.sjs" if n % 5 == 0 else "sc.hub",
        standard="SC-14" if n % 2 else "SC-06",
        outcome=2 if rejected else 1,
        reason_codes=("SCHEMA_INVALID", "RULE_VIOLATION") if rejected else (),
        action="claim" if n % 4 == 0 else "",
    )


@pytest.fixture
async def filled(store: Store) -> Store:
    """A store holding 60 varied entries, one second apart."""
    await store.append([varied(n) for n in range(60)])
    return store


async def test_search_without_filters_is_newest_first(filled: Store) -> None:
    """An empty query returns the newest rows first, up to the limit."""
    rows = await filled.search_messages(MessageQuery(limit=3))
    assert [59, 58, 57] == [r.log_index for r in rows]


async def test_every_filter_narrows_the_result(filled: Store) -> None:
    """Each filter keeps exactly the rows that match it."""
    cases = {
        "message_id": (MessageQuery(message_id="m-7"), [7]),
        "sender": (MessageQuery(sender="sc.12315", limit=100), [n for n in range(60) if n % 3 == 1]),
        "recipient": (MessageQuery(recipient="sc.sjs", limit=100), list(range(0, 60, 5))),
        "standard": (MessageQuery(standard="SC-14", limit=100), list(range(1, 60, 2))),
        "correlation": (MessageQuery(correlation_id="task-2", limit=100), list(range(2, 60, 4))),
        "outcome": (MessageQuery(outcome=2, limit=100), [n for n in range(60) if n % 3 == 1]),
        "reason": (MessageQuery(reason="RULE_VIOLATION", limit=100), [n for n in range(60) if n % 3 == 1]),
        "time": (
            MessageQuery(since=NOW + timedelta(seconds=10), until=NOW + timedelta(seconds=13)),
            [10, 11, 12],
        ),
        "combined": (
            MessageQuery(sender="sc.12315", standard="SC-14", reason="SCHEMA_INVALID", limit=100),
            [n for n in range(60) if n % 3 == 1 and n % 2 == 1],
        ),
    }
    for name, (query, expected) in cases.items():
        rows = await filled.search_messages(query)
        assert (name, sorted(expected, reverse=True)) == (name, [r.log_index for r in rows])


async def test_keyset_pages_cover_every_row_once(filled: Store) -> None:
    """Following each page's last cursor visits every matching row exactly once, in order."""
    seen: list[int] = []
    after: Cursor | None = None
    while True:
        page = await filled.search_messages(MessageQuery(standard="SC-06", after=after, limit=7))
        if not page:
            break
        seen.extend(r.log_index for r in page)
        after = page[-1].cursor
    assert list(range(58, -1, -2)) == seen


async def test_party_sees_rows_it_sent_or_received(filled: Store) -> None:
    """A party filter keeps rows whose sender or recipient is the party, newest first."""
    rows = await filled.search_messages(MessageQuery(party="sc.sjs", limit=100))
    assert list(range(55, -1, -5)) == [r.log_index for r in rows]
    paged = await filled.search_messages(MessageQuery(party="sc.amr", limit=4, after=rows[0].cursor))
    assert [54, 51, 48, 45] == [r.log_index for r in paged]


async def test_traffic_counts_per_bucket_sender_standard_and_outcome(filled: Store) -> None:
    """Buckets of 30 s split the first minute in two, with counts per sender, standard and outcome."""
    buckets = await filled.traffic(since=NOW, until=NOW + timedelta(seconds=60), bucket_seconds=30)
    assert 60 == sum(b.count for b in buckets)
    first = {(b.sender, b.standard, b.outcome): b.count for b in buckets if b.start == NOW}
    assert 5 == first[("sc.amr", "SC-06", 1)]  # n in 0, 6, 12, 18, 24
    assert {NOW, NOW + timedelta(seconds=30)} == {b.start for b in buckets}


async def test_lifecycle_messages_are_accepted_rows_with_an_action(filled: Store) -> None:
    """Only accepted submissions carrying an action are returned, oldest first."""
    rows = await filled.lifecycle_messages(since=NOW)
    assert [n for n in range(0, 60, 4) if n % 3 != 1] == [r.log_index for r in rows]


async def test_outbox_rows_of_an_entry_and_counts(store: Store) -> None:
    """Outbox rows are found by log index and by id, and counted per state."""
    await store.append([entry(0, outbox=("cn.national", "sc.sjs")), entry(1, outbox=("sc.sjs",))])
    rows = await store.outbox_of(0)
    await store.dead_letter(rows[1].id, error="unreachable", now=NOW)
    assert ["cn.national", "sc.sjs"] == [r.recipient for r in rows]
    assert {"pending": 2, "dead": 1} == await store.outbox_counts()
    item = await store.outbox_item(rows[1].id)
    assert item is not None
    assert ("dead", "unreachable") == (item.state, item.last_error)
    assert await store.outbox_item(999) is None


async def test_user_changes_are_audited_and_end_sessions(store: Store) -> None:
    """Adding, re-keying and removing an account each write an audit entry; re-keying ends sessions."""
    user = User("li", "auditor", "", "scrypt$x", NOW)
    await store.add_user(user, now=NOW, actor="cli:root")
    await store.create_session(Session(b"t" * 32, "li", "csrf", NOW, NOW + timedelta(hours=1)))
    await store.set_password("li", "scrypt$y", now=NOW, actor="cli:root")
    assert await store.session(b"t" * 32, now=NOW) is None
    assert "scrypt$y" == (await store.user("li") or user).password_hash
    await store.remove_user("li", now=NOW, actor="cli:root")
    assert [] == await store.users()
    actions = [(a.actor, a.action, a.detail) for a in await store.audit_entries()]
    expected = [("cli:root", "user.remove", "li"), ("cli:root", "user.passwd", "li"),
                ("cli:root", "user.add", "li role=auditor")]  # fmt: skip
    assert expected == actions


async def test_duplicate_and_missing_users_are_refused(store: Store) -> None:
    """A taken username, or a change to an unknown one, raises StorageError and audits nothing."""
    await store.add_user(User("li", "operator", "", "h", NOW), now=NOW, actor="a")
    with pytest.raises(StorageError):
        await store.add_user(User("li", "auditor", "", "h", NOW), now=NOW, actor="a")
    with pytest.raises(StorageError):
        await store.set_password("wang", "h", now=NOW, actor="a")
    with pytest.raises(StorageError):
        await store.remove_user("wang", now=NOW, actor="a")
    assert 1 == len(await store.audit_entries())


async def test_sessions_expire_and_can_be_purged(store: Store) -> None:
    """A session is found until it expires, and purge deletes expired ones."""
    await store.add_user(User("li", "operator", "", "h", NOW), now=NOW, actor="a")
    session = Session(b"s" * 32, "li", "csrf-1", NOW, NOW + timedelta(minutes=30))
    await store.create_session(session)
    assert session == await store.session(b"s" * 32, now=NOW + timedelta(minutes=29))
    assert await store.session(b"s" * 32, now=NOW + timedelta(minutes=30)) is None
    assert 1 == await store.purge_sessions(now=NOW + timedelta(hours=1))
    await store.delete_session(b"unknown")


async def test_migration_to_version_2_indexes_existing_reason_codes(tmp_path: Path) -> None:
    """A version-1 database with rejected rows gains searchable reason codes when it is opened."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[1])
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at_us INTEGER)")
    conn.execute("INSERT INTO schema_migrations VALUES (1, 0)")
    conn.execute("INSERT INTO leaves VALUES (0, x'00', x'00')")
    conn.execute(
        "INSERT INTO messages (log_index, kind, time_us, sender, recipient, message_id, standard, "
        "standard_version, correlation_id, action, outcome, reason_codes, envelope_sha256) "
        "VALUES (0, 'submission', 1, 'sc.amr', 'sc.hub', 'm-0', 'SC-06', '1.0.0', '', '', 2, "
        "'ACL_DENIED EXPIRED', x'00')"
    )
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    await store.open()
    try:
        found = [await store.search_messages(MessageQuery(reason=code)) for code in ("ACL_DENIED", "EXPIRED")]
    finally:
        await store.close()
    assert [[0], [0]] == [[r.log_index for r in rows] for rows in found]
