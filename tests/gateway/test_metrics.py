"""The metrics endpoint of a running node, scraped over HTTP after real submissions and deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.delivery import DeliveryPolicy, DeliveryWorker
from gateway.hub import Hub
from gateway.metrics import Metrics
from gateway.ratelimit import RateLimiter
from gateway.server import Server
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SUBMIT = "/jgx.exchange.v1.Exchange/Submit"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_the_endpoint_serves_envelope_delivery_queue_and_log_metrics(tmp_path: Path) -> None:
    """After an accepted, a rejected, a rate-limited envelope and a failed delivery, the scrape shows each."""
    fed = Federation.create(NOW)
    store = SqliteStore(tmp_path / "hub.db")
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: NOW)
    await hub.start()
    server = Server(hub, rate_limit=RateLimiter(rate=0.001, burst=2))
    port = server.add_port("127.0.0.1:0")
    await server.start()
    worker = DeliveryWorker(
        store=store, trust=fed.trust, node_id="sc.hub", policy=DeliveryPolicy(timeout=0.5),
        peers={"cn.national": "127.0.0.1:1"}, clock=lambda: NOW,
    )  # fmt: skip
    metrics = Metrics("sc.hub")
    metrics.attach(hub, worker)
    endpoint = await metrics.serve(store=store)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            submit = channel.unary_unary(SUBMIT)
            await submit(fed.envelope(fed.message("sc.amr", "cn.national", standard="SC-03")))
            await submit(fed.envelope(fed.message("sc.sjs", "sc.hub", standard="SC-06")))  # ACL_DENIED
            with pytest.raises(grpc.aio.AioRpcError):  # RATE_LIMITED: the third from this connection
                await submit(fed.envelope(fed.message("sc.amr", "sc.hub")))
        await worker.run_once()  # nobody listens on port 1: a failed attempt
        async with aiohttp.ClientSession() as http, http.get(endpoint.url) as response:
            text = await response.text()
    finally:
        await endpoint.close()
        await worker.close()
        await server.stop(grace=1)
        await store.close()
    got = samples(text)
    assert 1.0 == got[("jgx_envelopes_accepted_total", (("sender", "sc.amr"), ("standard", "SC-03")))]
    assert (
        1.0
        == got[
            (
                "jgx_envelopes_rejected_total",
                (("reason", "ACL_DENIED"), ("sender", "sc.sjs"), ("standard", "SC-06")),
            )
        ]
    )
    assert (
        1.0
        == got[
            ("jgx_envelopes_rejected_total", (("reason", "RATE_LIMITED"), ("sender", ""), ("standard", "")))
        ]
    )
    assert 3.0 == sum(v for (name, _), v in got.items() if name == "jgx_envelopes_received_total")
    assert (
        1.0
        == got[
            (
                "jgx_delivery_attempts_total",
                (("reason", "UNAVAILABLE"), ("recipient", "cn.national"), ("result", "retry")),
            )
        ]
    )
    assert (1.0, 0.0, 2.0) == (
        got[("jgx_outbox_rows", (("state", "pending"),))],
        got[("jgx_outbox_rows", (("state", "dead"),))],
        got[("jgx_log_size", ())],
    )
    assert (
        2.0
        == got[("jgx_envelope_latency_seconds_count", (("outcome", "accepted"),))]
        + got[("jgx_envelope_latency_seconds_count", (("outcome", "rejected"),))]
    )
