"""Two hub replicas on one PostgreSQL schema: one log, shared replay protection, one checkpoint chain."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from gateway import merkle
from gateway.checkpoint import verify_checkpoint
from gateway.hub import Hub
from gateway.logbook import log_origin, log_verifier
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.storage.postgres import PostgresStore
from gateway.testing import Federation
from tests.gateway.storage.pgschema import fresh_schema

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def fed() -> Federation:
    """A federation of real keys and a signed trust configuration."""
    return Federation.create(NOW)


@pytest.fixture
async def replicas(fed: Federation) -> AsyncIterator[tuple[Hub, Hub]]:
    """Two started sc.hub replicas, each with its own connection pool, on one schema."""
    async with fresh_schema() as url:
        hubs = []
        for _ in range(2):
            store = PostgresStore(url)
            await store.open()
            hub = Hub(
                node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: NOW
            )
            await hub.start()
            hubs.append(hub)
        try:
            yield hubs[0], hubs[1]
        finally:
            for hub in hubs:
                await hub.close()
                await hub.store.close()


async def test_the_same_envelope_on_both_replicas_is_logged_once(
    fed: Federation, replicas: tuple[Hub, Hub]
) -> None:
    """Copies sent to both replicas at once: one original, the other a duplicate with its receipt."""
    first, second = replicas
    data = [fed.envelope(fed.message("sc.amr", "cn.national", message_id=f"m-{n}")) for n in range(10)]
    answers = await asyncio.gather(*(hub.submit(d) for d in data for hub in (first, second)))
    originals = [a for a in answers if not a.duplicate]
    assert 10 == len(originals)
    assert all(a.outcome == exchange_pb2.OUTCOME_ACCEPTED for a in originals)
    for one, other in zip(answers[::2], answers[1::2], strict=True):
        assert one.receipt == other.receipt
    assert (20, 10) == (await first.store.size(), len(await second.store.outbox()))


async def test_an_id_consumed_on_one_replica_is_replayed_on_the_other(
    fed: Federation, replicas: tuple[Hub, Hub]
) -> None:
    """Other bytes reusing a message id logged by the first replica are REPLAYED by the second."""
    first, second = replicas
    await first.submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id="m-9")))
    other = fed.envelope(fed.message("sc.amr", "sc.hub", message_id="m-9", payload=b'{"a":1}'))
    answer = await second.submit(other)
    assert (exchange_pb2.OUTCOME_REJECTED, ("REPLAYED",), 1) == (
        answer.outcome,
        answer.reasons,
        answer.log_index,
    )


async def test_both_replicas_sign_one_consistent_chain_of_checkpoints(
    fed: Federation, replicas: tuple[Hub, Hub]
) -> None:
    """Checkpoints signed by either replica verify and each extends the one before it."""
    first, second = replicas
    for n in range(12):
        hub = (first, second)[n % 2]
        await hub.submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"m-{n}")))
        await asyncio.gather(first.checkpointer.checkpoint_now(), second.checkpointer.checkpoint_now())
    verifier = log_verifier("sc.hub", fed.keys["sc.hub"].public_key)
    stored = await first.store.checkpoints()
    chain = [verify_checkpoint(c.note, log_origin("sc.hub"), [verifier]) for c in stored]
    assert list(range(1, 13)) == [c.size for c in chain]
    for older, newer in itertools.pairwise(chain):
        proof = await second.store.consistency_proof(older.size, newer.size)
        merkle.verify_consistency(older.size, newer.size, proof, older.root_hash, newer.root_hash)
