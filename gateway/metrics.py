"""Prometheus metrics of one node, and the HTTP endpoint that serves them (127.0.0.1 by default).

Each node has its own `CollectorRegistry` (never the process-global one), so several nodes can run
in one process, as they do in the tests. The counters follow the hub's per-envelope event
(`Hub.observers`) and the delivery worker's attempts (`DeliveryWorker.observers`); the queue depth
and the log size are read from the store when the endpoint is scraped.

Label values are bounded: senders and recipients are node ids of the trust configuration (or ``""``
before a sender is known), standards are ``SC-nn`` or ``other``, reasons come from the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from gateway.errors import ReasonCode
from gateway.storage import OutboxState, Store

if TYPE_CHECKING:
    from gateway.delivery import Attempt, DeliveryWorker
    from gateway.hub import Hub

__all__ = ["Metrics", "MetricsEndpoint"]

_log = structlog.get_logger("jgx.metrics")
_STANDARD = re.compile(r"^SC-\d{2}$")
_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_DEPTH_LIMIT = 100_000  # rows counted per state at each scrape


def _standard(value: object) -> str:
    text = str(value or "")
    return text if not text or _STANDARD.match(text) else "other"


def _reason(value: object) -> str:
    text = str(value)
    return text if text in ReasonCode.__members__ else "other"


class Metrics:
    """The metrics of one node in a registry of its own."""

    def __init__(self, node_id: str, registry: CollectorRegistry | None = None) -> None:
        """Create every metric of ``node_id`` in ``registry`` (a new one by default)."""
        self.node_id = node_id
        self.registry = registry or CollectorRegistry()
        reg = self.registry
        self.received = Counter(
            "jgx_envelopes_received",
            "Envelopes received (every outcome).",
            ["standard", "sender"],
            registry=reg,
        )
        self.accepted = Counter(
            "jgx_envelopes_accepted", "Envelopes accepted whose leaf was committed.", ["standard", "sender"],
            registry=reg,
        )
        self.rejected = Counter(
            "jgx_envelopes_rejected",
            "Envelopes rejected or refused, by reason code.",
            ["reason", "standard", "sender"],
            registry=reg,
        )
        self.duplicates = Counter(
            "jgx_envelopes_duplicate", "Exact resubmissions answered with the original receipt.", ["sender"],
            registry=reg,
        )  # fmt: skip
        self.latency = Histogram(
            "jgx_envelope_latency_seconds", "Time from receiving an envelope to its receipt.", ["outcome"],
            buckets=_LATENCY_BUCKETS, registry=reg,
        )  # fmt: skip
        self.delivery_attempts = Counter(
            "jgx_delivery_attempts", "Delivery attempts by recipient, result and reason.",
            ["recipient", "result", "reason"], registry=reg,
        )  # fmt: skip
        self.delivery_latency = Histogram(
            "jgx_delivery_latency_seconds", "Time of one delivery attempt (call, receipt check, log).",
            ["recipient"], buckets=_LATENCY_BUCKETS, registry=reg,
        )  # fmt: skip
        self.queue_depth = Gauge("jgx_outbox_rows", "Outbox rows by state.", ["state"], registry=reg)
        self.log_size = Gauge("jgx_log_size", "Leaves in the exchange log.", registry=reg)
        self._size = 0

    # -- event hooks -----------------------------------------------------------------------------
    def observe_envelope(self, event: Mapping[str, object]) -> None:
        """Count one per-envelope event of the hub (or a refusal of the server)."""
        standard, sender = _standard(event.get("standard")), str(event.get("sender") or "")
        outcome = str(event.get("outcome", ""))
        self.received.labels(standard, sender).inc()
        latency = event.get("latency_ms")
        if isinstance(latency, int | float):
            self.latency.labels(outcome).observe(latency / 1000)
        committed = isinstance(event.get("log_index"), int)
        if outcome == "accepted" and committed:  # only an envelope whose leaf was committed
            self.accepted.labels(standard, sender).inc()
        elif outcome == "duplicate":
            self.duplicates.labels(sender).inc()
        else:
            reasons = event.get("reasons")
            first = reasons[0] if isinstance(reasons, list) and reasons else "other"
            self.rejected.labels(_reason(first), standard, sender).inc()
        index = event.get("log_index")
        if isinstance(index, int) and index + 1 > self._size:
            self._size = index + 1
            self.log_size.set(self._size)

    def observe_delivery(self, attempt: Attempt) -> None:
        """Count one delivery attempt."""
        reason = _reason(attempt.reason) if attempt.reason else ""
        self.delivery_attempts.labels(attempt.recipient, attempt.result, reason).inc()
        self.delivery_latency.labels(attempt.recipient).observe(attempt.seconds)

    def attach(self, hub: Hub, worker: DeliveryWorker | None = None) -> None:
        """Follow ``hub``'s envelope events and ``worker``'s attempts."""
        hub.observers.append(self.observe_envelope)
        if worker is not None:
            worker.observers.append(self.observe_delivery)

    async def refresh(self, store: Store) -> None:
        """Read the queue depth and the log size from ``store``."""
        for state in (OutboxState.PENDING, OutboxState.DEAD):
            rows = await store.outbox(state=state, limit=_DEPTH_LIMIT)
            self.queue_depth.labels(state).set(len(rows))
        self._size = await store.size()
        self.log_size.set(self._size)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return bytes(generate_latest(self.registry))

    async def serve(
        self, *, host: str = "127.0.0.1", port: int = 0, store: Store | None = None
    ) -> MetricsEndpoint:
        """Serve ``GET /metrics`` on host:port (0: any free port); gauges are read from ``store``."""

        async def scrape(_request: web.Request) -> web.Response:
            if store is not None:
                try:
                    await self.refresh(store)
                except Exception as exc:  # noqa: BLE001 - a scrape still answers with the counters
                    _log.warning("metrics.refresh_failed", error=str(exc))
            return web.Response(body=self.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

        app = web.Application()
        app.router.add_get("/metrics", scrape)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = int(sockets[0].getsockname()[1]) if sockets else port
        _log.info("metrics.serving", node=self.node_id, host=host, port=bound)
        return MetricsEndpoint(runner, host, bound)


@dataclass(frozen=True, slots=True)
class MetricsEndpoint:
    """A running metrics endpoint."""

    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        """The scrape URL."""
        return f"http://{self.host}:{self.port}/metrics"

    async def close(self) -> None:
        """Stop serving."""
        await self.runner.cleanup()
