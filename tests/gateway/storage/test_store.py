"""Behaviour every storage backend shares: the log, side rows, checkpoints, outbox and audit."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from gateway import merkle
from gateway.storage import OutboxState, ReplayConflict, StorageError, Store, StoredCheckpoint
from gateway.storage.sqlite import SqliteStore
from tests.gateway.storage.conftest import NOW, entry, mth


async def test_appends_get_contiguous_indexes_across_batches(store: Store) -> None:
    """Leaf indexes run 0, 1, 2, … over batches with no gap, and size counts them."""
    first = await store.append([entry(0), entry(1)])
    second = await store.append([entry(2)])
    assert [0, 1, 2] == [a.log_index for a in first + second]
    assert 3 == await store.size()


async def test_concurrent_appends_are_sequenced_without_gaps(store: Store) -> None:
    """Appends from many tasks at once each land on their own index, contiguous from 0."""
    results = await asyncio.gather(*(store.append([entry(n)]) for n in range(40)))
    assert list(range(40)) == sorted(r[0].log_index for r in results)


async def test_receipt_is_signed_with_the_assigned_index_and_stored(store: Store) -> None:
    """The receipt callback sees the leaf's index and its bytes are stored with the message row."""
    await store.append([entry(0)])
    [appended] = await store.append([entry(7)])
    record = await store.message(1)
    assert b"receipt-7@1" == appended.receipt
    assert record is not None
    assert b"receipt-7@1" == record.receipt
    assert (b"envelope-7", b"{}", "m-7") == (record.envelope, record.payload, record.message_id)


async def test_leaves_are_returned_with_their_hashes(store: Store) -> None:
    """A leaf range gives the exact leaf bytes and SHA-256(0x00 || leaf)."""
    await store.append([entry(n) for n in range(5)])
    leaves = await store.leaves(1, 3)
    assert [(1, b"leaf-1"), (2, b"leaf-2")] == [(leaf.log_index, leaf.leaf) for leaf in leaves]
    assert hashlib.sha256(b"\x00leaf-2").digest() == leaves[1].leaf_hash


async def test_root_from_stored_nodes_matches_a_full_recomputation(store: Store) -> None:
    """For every size up to 37 the root assembled from stored nodes equals RFC 6962 MTH."""
    leaves = []
    for n in range(37):
        await store.append([entry(n)])
        leaves.append(f"leaf-{n}".encode())
        assert mth(leaves) == await store.root(n + 1)


async def test_proofs_verify_against_the_root(store: Store) -> None:
    """Inclusion and consistency proofs from the store verify with the Merkle verifier."""
    await store.append([entry(n) for n in range(21)])
    root21, root13 = await store.root(21), await store.root(13)
    for index in (0, 7, 12, 20):
        proof = await store.inclusion_proof(index, 21)
        merkle.verify_inclusion(merkle.leaf_hash(f"leaf-{index}".encode()), index, 21, proof, root21)
    merkle.verify_consistency(13, 21, await store.consistency_proof(13, 21), root13, root21)


async def test_a_proof_beyond_the_log_is_refused(store: Store) -> None:
    """Asking for a tree larger than the log raises StorageError, not a Merkle internal error."""
    await store.append([entry(0)])
    with pytest.raises(StorageError):
        await store.root(2)


async def test_a_failing_batch_leaves_nothing_behind(store: Store) -> None:
    """When one entry breaks an invariant, no leaf, node, outbox row or seen id of the batch remains."""
    await store.append([entry(0, seen=True)])
    with pytest.raises(StorageError):
        await store.append([entry(1, outbox=("sc.sjs",)), entry(0, seen=True)])
    assert 1 == await store.size()
    assert [] == await store.outbox()
    assert mth([b"leaf-0"]) == await store.root(1)


async def test_duplicates_are_found_by_digest_only_when_the_id_was_consumed(store: Store) -> None:
    """find_original sees envelopes whose message id was remembered; other envelopes are re-judged."""
    await store.append([entry(0, seen=True), entry(1)])
    found = await store.find_original(hashlib.sha256(b"envelope-0").digest())
    assert found is not None
    assert 0 == found.log_index
    assert None is await store.find_original(hashlib.sha256(b"envelope-1").digest())
    seen = await store.find_seen("sc.amr", "m-0")
    assert seen is not None
    assert b"receipt-0@0" == seen.receipt


async def test_messages_are_found_by_id_sender_and_correlation(store: Store) -> None:
    """Trace lookups find rows by message id (per sender) and by correlation id, in log order."""
    await store.append(
        [entry(0, correlation_id="T-1"), entry(1, sender="sc.sjs", correlation_id="T-1"), entry(2)]
    )
    by_correlation = await store.find_messages(correlation_id="T-1")
    assert [0, 1] == [m.log_index for m in by_correlation]
    assert [1] == [m.log_index for m in await store.find_messages(message_id="m-1", sender="sc.sjs")]
    assert [] == await store.find_messages(message_id="m-1", sender="sc.amr")


async def test_seen_ids_are_listed_while_in_their_window(store: Store) -> None:
    """seen_since returns remembered ids whose window has not closed."""
    await store.append([entry(0, seen=True)])
    assert ["m-0"] == [s.message_id for s in await store.seen_since(NOW)]
    assert [] == await store.seen_since(NOW + timedelta(hours=2))


async def test_checkpoints_are_kept_in_size_order_and_never_go_back(store: Store) -> None:
    """Checkpoints are stored, listed by size, and a size not above the latest is refused."""
    await store.append([entry(n) for n in range(5)])
    root2, root5 = await store.root(2), await store.root(5)
    await store.save_checkpoint(StoredCheckpoint(2, root2, "note-2", NOW))
    await store.save_checkpoint(StoredCheckpoint(5, root5, "note-5", NOW))
    with pytest.raises(StorageError):
        await store.save_checkpoint(StoredCheckpoint(5, root5, "other", NOW))
    latest = await store.latest_checkpoint()
    assert latest is not None
    assert "note-5" == latest.note
    assert [2, 5] == [c.size for c in await store.checkpoints()]
    two = await store.checkpoint(2)
    assert two is not None
    assert root2 == two.root_hash


async def test_a_checkpoint_that_is_not_the_logs_root_is_refused(store: Store) -> None:
    """A checkpoint whose root differs from the stored log's, or beyond the log, is never stored."""
    await store.append([entry(n) for n in range(4)])
    with pytest.raises(StorageError):
        await store.save_checkpoint(StoredCheckpoint(3, b"f" * 32, "forged", NOW))
    with pytest.raises(StorageError):
        await store.save_checkpoint(StoredCheckpoint(9, b"f" * 32, "beyond", NOW))
    assert [] == await store.checkpoints()


async def test_a_consumed_message_id_raises_a_replay_conflict(store: Store) -> None:
    """A second entry consuming the same (sender, message_id) is refused whole with ReplayConflict."""
    await store.append([entry(0, seen=True)])
    with pytest.raises(ReplayConflict) as refused:
        await store.append([entry(1), entry(0, seen=True)])
    assert ("sc.amr", "m-0") == (refused.value.sender, refused.value.message_id)
    assert 1 == await store.size()


async def test_outbox_rows_are_written_with_the_leaf(store: Store) -> None:
    """Step 10: each recipient of an entry gets a pending outbox row in the same append."""
    await store.append([entry(0, outbox=("sc.sjs", "cn.national"))])
    rows = await store.outbox(state=OutboxState.PENDING)
    assert [(0, "sc.sjs"), (0, "cn.national")] == [(r.log_index, r.recipient) for r in rows]


async def test_a_claimed_row_is_not_claimed_again_within_its_lease(store: Store) -> None:
    """A due row is claimed once, with its envelope; a second claim inside the lease gets nothing."""
    await store.append([entry(0, outbox=("sc.sjs",))])
    [claimed] = await store.claim_due(now=NOW, limit=10, lease_seconds=30, worker="w1")
    assert (b"envelope-0", 1) == (claimed.envelope, claimed.attempts)
    assert [] == await store.claim_due(
        now=NOW + timedelta(seconds=10), limit=10, lease_seconds=30, worker="w2"
    )
    again = await store.claim_due(now=NOW + timedelta(seconds=31), limit=10, lease_seconds=30, worker="w2")
    assert [claimed.id] == [r.id for r in again]


async def test_a_failed_row_waits_for_its_next_attempt(store: Store) -> None:
    """After a failure the row is due again only at its next attempt time, with the error kept."""
    await store.append([entry(0, outbox=("sc.sjs",))])
    [claimed] = await store.claim_due(now=NOW, limit=10, lease_seconds=30, worker="w1")
    await store.mark_failed(claimed.id, error="UNAVAILABLE", next_attempt_at=NOW + timedelta(minutes=5))
    assert [] == await store.claim_due(
        now=NOW + timedelta(minutes=4), limit=10, lease_seconds=30, worker="w1"
    )
    [retry] = await store.claim_due(now=NOW + timedelta(minutes=5), limit=10, lease_seconds=30, worker="w1")
    assert (2, "UNAVAILABLE") == (retry.attempts, retry.last_error)


async def test_a_delivery_leaf_settles_its_outbox_row(store: Store) -> None:
    """The recipient's receipt becomes its own leaf and marks the row delivered with that index."""
    await store.append([entry(0, outbox=("sc.sjs",))])
    [claimed] = await store.claim_due(now=NOW, limit=10, lease_seconds=30, worker="w1")
    [delivery] = await store.append([entry(1, delivers=claimed.id)])
    [row] = await store.outbox()
    assert (OutboxState.DELIVERED, delivery.log_index) == (row.state, row.delivery_index)
    assert [] == await store.claim_due(now=NOW + timedelta(hours=1), limit=10, lease_seconds=30, worker="w1")


async def test_dead_letters_wait_for_an_operator_replay(store: Store) -> None:
    """A dead row is never claimed; a replay makes it due again and is audited."""
    await store.append([entry(0, outbox=("sc.sjs",))])
    [claimed] = await store.claim_due(now=NOW, limit=10, lease_seconds=30, worker="w1")
    await store.dead_letter(claimed.id, error="RECEIPT_INVALID", now=NOW)
    assert [claimed.id] == [r.id for r in await store.outbox(state=OutboxState.DEAD)]
    assert [] == await store.claim_due(now=NOW + timedelta(days=1), limit=10, lease_seconds=30, worker="w1")
    await store.replay(claimed.id, now=NOW + timedelta(days=1), actor="operator.li")
    [due] = await store.claim_due(now=NOW + timedelta(days=1), limit=10, lease_seconds=30, worker="w1")
    [audit] = await store.audit_entries()
    assert (claimed.id, 1) == (due.id, due.attempts)
    assert ("operator.li", "outbox.replay") == (audit.actor, audit.action)


async def test_unknown_outbox_rows_are_refused(store: Store) -> None:
    """Marking or replaying a row that does not exist raises StorageError."""
    with pytest.raises(StorageError):
        await store.mark_failed(99, error="x", next_attempt_at=NOW)
    with pytest.raises(StorageError):
        await store.replay(99, now=NOW, actor="operator.li")


async def test_sqlite_store_survives_reopening(tmp_path: Path) -> None:
    """A reopened SQLite file has the same leaves, root and schema version."""
    first = SqliteStore(tmp_path / "jgx.db")
    await first.open()
    await first.append([entry(n) for n in range(9)])
    root = await first.root(9)
    await first.close()
    again = SqliteStore(tmp_path / "jgx.db")
    await again.open()
    try:
        assert (9, root) == (await again.size(), await again.root(9))
    finally:
        await again.close()


async def test_a_channel_is_claimed_one_row_at_a_time_in_order(store: Store) -> None:
    """Only the oldest pending row of each (sender, recipient) channel is claimable; others pass by."""
    await store.append([entry(0, outbox=("cn.national",)), entry(1, outbox=("cn.national",))])
    await store.append([entry(2, sender="sc.sjs", outbox=("cn.national",))])
    first = await store.claim_due(now=NOW + timedelta(seconds=5), limit=10, lease_seconds=600, worker="w1")
    assert [0, 2] == [row.log_index for row in first]
    await store.mark_failed(first[0].id, error="UNAVAILABLE", next_attempt_at=NOW + timedelta(minutes=5))
    later = NOW + timedelta(minutes=1)
    assert [] == await store.claim_due(now=later, limit=10, lease_seconds=600, worker="w1")
    await store.dead_letter(first[0].id, error="UNAVAILABLE", now=later)
    [after_dead] = await store.claim_due(now=later, limit=10, lease_seconds=600, worker="w1")
    assert 1 == after_dead.log_index


async def test_side_rows_are_read_by_index_range(store: Store) -> None:
    """messages(start, end) returns the side rows of that leaf range in index order."""
    await store.append([entry(n) for n in range(6)])
    assert [2, 3, 4] == [row.log_index for row in await store.messages(2, 5)]
