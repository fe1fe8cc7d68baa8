"""HubClient against a stand-in hub on a real socket: receipts verified, outages retried, outbox drained."""

from __future__ import annotations

import random

import pytest

from adapters.sdk import AdapterServicer, HubClient, RetryPolicy
from gateway.errors import ReasonCode, VerificationError
from gateway.testing import Federation
from gateway.treehash import SM3
from tests.adapters.conftest import NOW
from tests.adapters.hubstub import StandInHub, serve_hub
from tests.adapters.test_servicer import task


async def no_sleep(seconds: float) -> None:
    return None


def client(fed: Federation, port: int, attempts: int = 3) -> HubClient:
    return HubClient(
        f"127.0.0.1:{port}", trust=fed.trust, clock=lambda: NOW, sleep=no_sleep,
        retry=RetryPolicy(attempts=attempts, timeout=1.0),
    )  # fmt: skip


def record(fed: Federation, n: int) -> bytes:
    return fed.envelope(fed.message("sc.amr", "sc.hub", standard="SC-06", business_key=f"CF-{n}"))


async def test_submit_returns_the_verified_receipt(fed: Federation) -> None:
    """A submitted record comes back with the hub's verified, accepted receipt for its digest."""
    async with serve_hub(StandInHub(fed, NOW)) as port, client(fed, port) as hub:
        result = await hub.submit(record(fed, 1))
    assert ("accepted", ()) == (result.outcome, result.reason_codes)


async def test_a_receipt_with_an_sm3_digest_is_verified_against_the_bytes_sent(fed: Federation) -> None:
    """An sm3-profile hub's receipt carries envelope_sm3: the client accepts it when it is SM3 of what it
    sent, and refuses it (RECEIPT_INVALID) when it is of other bytes, though envelope_sha256 matches."""
    async with serve_hub(StandInHub(fed, NOW, sm3=SM3.digest)) as port, client(fed, port) as hub:
        sent = record(fed, 1)
        result = await hub.submit(sent)
    assert SM3.digest(sent) == result.receipt.envelope_sm3
    lying = StandInHub(fed, NOW, sm3=lambda data: SM3.digest(data + b" "))
    async with serve_hub(lying) as port, client(fed, port) as hub:
        with pytest.raises(VerificationError) as caught:
            await hub.submit(record(fed, 2))
    assert ReasonCode.RECEIPT_INVALID == caught.value.reason


async def test_submit_many_keeps_the_order(fed: Federation) -> None:
    """Envelopes sent over SubmitStream get their receipts in the order they were sent."""
    envelopes = [record(fed, n) for n in range(5)]
    stub = StandInHub(fed, NOW)
    async with serve_hub(stub) as port, client(fed, port) as hub:
        results = await hub.submit_many(envelopes)
    assert [m.business_key for m in stub.accepted] == [f"CF-{n}" for n in range(5)]
    assert [r.receipt.log_index for r in results] == list(range(5))


async def test_a_receipt_signed_by_another_node_is_refused(fed: Federation) -> None:
    """A receipt that is not signed by the hub raises RECEIPT_INVALID."""
    async with serve_hub(StandInHub(fed, NOW, signer="sc.12315")) as port, client(fed, port) as hub:
        with pytest.raises(VerificationError) as caught:
            await hub.submit(record(fed, 1))
    assert ReasonCode.RECEIPT_INVALID == caught.value.reason


async def test_the_outbox_waits_for_the_hub_and_completes_when_it_returns(
    fed: Federation, servicer: AdapterServicer
) -> None:
    """Replies queued while the hub is down stay pending and are delivered once it is back."""
    stub = StandInHub(fed, NOW)
    async with serve_hub(stub) as port:
        pass  # learn a free port, then leave it closed: the hub is down
    servicer.deliver(task(fed, message_id="d-1", correlation_id="t-1"))
    servicer.deliver(task(fed, message_id="d-2", correlation_id="t-2"))
    async with client(fed, port, attempts=2) as hub:
        down = await hub.drain(servicer.store)
        async with serve_hub(stub, port):
            up = await hub.drain(servicer.store)
    assert (0, 1, 2, 0) == (len(down.sent), len(down.failed), len(up.sent), len(servicer.store.pending()))
    assert ["t-1", "t-2"] == [m.correlation_id for m in stub.accepted]


def test_backoff_grows_and_is_capped() -> None:
    """Retry delays are jittered within base·2ⁿ and never exceed the cap."""
    policy = RetryPolicy(base=0.5, cap=4.0)
    rng = random.Random(7)
    delays = [policy.delay(n, rng) for n in range(8) for _ in range(50)]
    bounds = [min(4.0, 0.5 * 2**n) for n in range(8) for _ in range(50)]
    assert all(0 <= d <= b for d, b in zip(delays, bounds, strict=True))
