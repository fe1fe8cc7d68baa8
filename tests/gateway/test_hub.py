"""The hub's I/O shell on a real SQLite file: leaves, receipts, duplicates, outbox and checkpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway import merkle
from gateway.checkpoint import verify_checkpoint
from gateway.hub import Hub
from gateway.logbook import log_origin, log_verifier, parse_leaf
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from gateway.storage import OutboxState
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def fed() -> Federation:
    """A federation of real keys and a signed trust configuration."""
    return Federation.create(NOW)


async def open_hub(fed: Federation, path: Path) -> Hub:
    """A started hub for sc.hub on the SQLite file at ``path``."""
    store = SqliteStore(path)
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: NOW)
    await hub.start()
    return hub


@pytest.fixture
async def hub(fed: Federation, tmp_path: Path) -> AsyncIterator[Hub]:
    """A started hub; closed (drained) after the test."""
    running = await open_hub(fed, tmp_path / "hub.db")
    yield running
    await running.close()
    await running.store.close()


def receipt_of(fed: Federation, data: bytes | None) -> exchange_pb2.Receipt:
    """The verified receipt in ``data``."""
    assert data is not None
    return verify_receipt(exchange_pb2.Envelope.FromString(data), fed.trust, issuer="sc.hub", now=NOW)


async def test_an_accepted_envelope_is_logged_receipted_and_queued(fed: Federation, hub: Hub) -> None:
    """An envelope relayed for cn.national is accepted at index 0, receipted, and gets an outbox row."""
    data = fed.envelope(fed.message("sc.amr", "cn.national", message_id="m-1"))
    handled = await hub.submit(data)
    receipt = receipt_of(fed, handled.receipt)
    [row] = await hub.store.outbox(state=OutboxState.PENDING)
    leaf = parse_leaf((await hub.store.leaves(0, 1))[0].leaf)
    assert (exchange_pb2.OUTCOME_ACCEPTED, 0, "m-1") == (
        receipt.outcome,
        receipt.log_index,
        receipt.message_id,
    )
    assert ("cn.national", 0) == (row.recipient, row.log_index)
    assert ("m-1", exchange_pb2.OUTCOME_ACCEPTED) == (leaf.message_id, leaf.outcome)


async def test_a_forged_envelope_gets_a_rejection_leaf_and_receipt(fed: Federation, hub: Hub) -> None:
    """An envelope signed by another node's key is rejected with its reason code, logged and receipted."""
    data = fed.envelope(fed.message("sc.amr", "sc.hub"), key=fed.keys["sc.sjs"])
    receipt = receipt_of(fed, (await hub.submit(data)).receipt)
    assert exchange_pb2.OUTCOME_REJECTED == receipt.outcome
    assert ["SENDER_KEY_MISMATCH"] == list(receipt.reason_codes)
    assert 1 == await hub.store.size()
    assert [] == await hub.store.outbox()


async def test_unparseable_bytes_are_refused_without_a_leaf(hub: Hub) -> None:
    """Bytes that are not an Envelope are refused at step 2 with MALFORMED and no receipt."""
    handled = await hub.submit(b"\xff\xff not an envelope")
    assert (None, ("MALFORMED",)) == (handled.receipt, handled.reasons)
    assert 0 == await hub.store.size()


async def test_a_duplicate_gets_the_original_receipt_and_its_own_leaf(fed: Federation, hub: Hub) -> None:
    """Resending the exact bytes answers with the original receipt and logs a duplicate leaf."""
    data = fed.envelope(fed.message("sc.amr", "sc.hub"))
    first = await hub.submit(data)
    again = await hub.submit(data)
    duplicate = await hub.store.message(1)
    assert first.receipt == again.receipt
    assert duplicate is not None
    assert (exchange_pb2.OUTCOME_DUPLICATE, 0) == (duplicate.outcome, duplicate.duplicate_of)


async def test_concurrent_copies_get_one_original(fed: Federation, hub: Hub) -> None:
    """Copies submitted at the same time share one original receipt; the rest are duplicates."""
    import asyncio

    data = fed.envelope(fed.message("sc.amr", "sc.hub"))
    results = await asyncio.gather(*(hub.submit(data) for _ in range(5)))
    assert 1 == len({r.receipt for r in results})
    assert 4 == sum(r.duplicate for r in results)


async def test_the_same_id_with_other_bytes_is_replayed(fed: Federation, hub: Hub) -> None:
    """A second envelope reusing a message id with different content is rejected as REPLAYED."""
    await hub.submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id="m-9")))
    other = fed.envelope(fed.message("sc.amr", "sc.hub", message_id="m-9", payload=b'{"a":1}'))
    receipt = receipt_of(fed, (await hub.submit(other)).receipt)
    assert (exchange_pb2.OUTCOME_REJECTED, ["REPLAYED"]) == (receipt.outcome, list(receipt.reason_codes))


async def test_a_body_refused_at_step_5_does_not_use_up_the_named_senders_id(
    fed: Federation, hub: Hub
) -> None:
    """sc.sjs signing a body that claims sc.amr's id gets SENDER_KEY_MISMATCH; sc.amr's own is accepted."""
    forged = fed.message("sc.amr", "sc.hub", message_id="amr-7")
    refused = await hub.submit(fed.envelope(forged, key=fed.keys["sc.sjs"]))
    own = await hub.submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id="amr-7")))
    assert (("SENDER_KEY_MISMATCH",), ()) == (refused.reasons, own.reasons)
    assert exchange_pb2.OUTCOME_ACCEPTED == own.outcome


async def test_duplicates_are_recognised_after_a_restart(fed: Federation, tmp_path: Path) -> None:
    """After reopening the store, a resent envelope still gets its original receipt."""
    data = fed.envelope(fed.message("sc.amr", "sc.hub"))
    first = await open_hub(fed, tmp_path / "hub.db")
    original = await first.submit(data)
    await first.close()
    await first.store.close()
    second = await open_hub(fed, tmp_path / "hub.db")
    try:
        again = await second.submit(data)
        replay = await second.submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id="x")))
        reused = fed.message("sc.amr", "sc.hub", message_id="x", payload=b'{"b":2}')
        replayed = await second.submit(fed.envelope(reused))
    finally:
        await second.close()
        await second.store.close()
    assert (original.receipt, True) == (again.receipt, again.duplicate)
    assert (exchange_pb2.OUTCOME_ACCEPTED, ("REPLAYED",)) == (replay.outcome, replayed.reasons)


async def test_checkpoints_are_signed_and_prove_inclusion(fed: Federation, hub: Hub) -> None:
    """A signed checkpoint verifies with the hub's key from the trust config and proves each leaf."""
    for n in range(6):
        await hub.submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"m-{n}")))
    stored = await hub.checkpointer.checkpoint_now()
    assert stored is not None
    verifier = log_verifier("sc.hub", fed.keys["sc.hub"].public_key)
    checkpoint = verify_checkpoint(stored.note, log_origin("sc.hub"), [verifier])
    leaf = (await hub.store.leaves(4, 5))[0]
    proof = await hub.store.inclusion_proof(4, checkpoint.size)
    merkle.verify_inclusion(merkle.leaf_hash(leaf.leaf), 4, checkpoint.size, proof, checkpoint.root_hash)
    assert 6 == checkpoint.size


async def test_a_copy_resent_after_expiry_still_gets_the_original_receipt(
    fed: Federation, tmp_path: Path
) -> None:
    """Past its expiry (and a restart) the exact bytes are a duplicate, not an EXPIRED rejection."""
    from datetime import timedelta

    data = fed.envelope(fed.message("sc.amr", "sc.hub"))
    first = await open_hub(fed, tmp_path / "hub.db")
    original = await first.submit(data)
    await first.close()
    later = NOW + timedelta(days=2)
    store = first.store
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: later)
    await hub.start()
    try:
        again = await hub.submit(data)
    finally:
        await hub.close()
        await store.close()
    assert (original.receipt, True, exchange_pb2.OUTCOME_DUPLICATE) == (
        again.receipt,
        again.duplicate,
        again.outcome,
    )


async def test_a_fault_of_the_node_is_answered_not_raised(fed: Federation, tmp_path: Path) -> None:
    """A bug inside the node (here a validator that crashes) is a receipted, logged INTERNAL rejection."""

    def broken(payload: bytes, standard: str, version: str, on: object, destination: str) -> list[object]:
        raise ValueError("a bug")

    store = SqliteStore(tmp_path / "hub.db")
    await store.open()
    hub = Hub(
        node_id="sc.hub",
        key=fed.keys["sc.hub"],
        trust=fed.trust,
        store=store,
        clock=lambda: NOW,
        validate=broken,
    )
    await hub.start()
    try:
        handled = await hub.submit(fed.envelope(fed.message("sc.amr", "sc.hub")))
        hub.validate = None
        after = await hub.submit(fed.envelope(fed.message("sc.amr", "sc.hub")))
        size = await store.size()
    finally:
        await hub.close()
        await store.close()
    assert handled.receipt is not None
    receipt = verify_receipt(
        exchange_pb2.Envelope.FromString(handled.receipt), fed.trust, issuer="sc.hub", now=NOW
    )
    assert (exchange_pb2.OUTCOME_REJECTED, ["INTERNAL"], 0) == (
        receipt.outcome, list(receipt.reason_codes), receipt.log_index
    )
    assert (exchange_pb2.OUTCOME_ACCEPTED, 2) == (after.outcome, size)
