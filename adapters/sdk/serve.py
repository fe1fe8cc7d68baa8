"""Running an adapter: the gRPC server on a port and the outbox worker that hands replies to the hub."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import structlog

from adapters.sdk.client import HubClient
from adapters.sdk.servicer import AdapterServicer, rpc_handler
from gateway._aio import stop_task

__all__ = ["RunningAdapter", "drain_forever", "serve_adapter", "watch_deadlines"]

log = structlog.get_logger("jgx.adapter")


@dataclass(frozen=True, slots=True)
class RunningAdapter:
    """A started adapter server and the port it listens on."""

    server: grpc.aio.Server
    port: int


async def drain_forever(servicer: AdapterServicer, client: HubClient, *, interval: float = 1.0) -> None:
    """Hand the outbox to the hub every `interval` seconds until cancelled; an outage only delays it."""
    while True:
        report = await client.drain(servicer.store)
        if report.sent or report.rejected or report.failed:
            log.info(
                "outbox.drained",
                sent=len(report.sent),
                rejected=len(report.rejected),
                failed=len(report.failed),
            )
        await asyncio.sleep(interval)


async def watch_deadlines(servicer: AdapterServicer, *, interval: float = 60.0) -> None:
    """Mark tasks and clues whose deadline passed as 超期 every `interval` seconds until cancelled."""
    while True:
        servicer.worklist.mark_overdue(servicer.clock())
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def serve_adapter(
    servicer: AdapterServicer,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    credentials: grpc.ServerCredentials | None = None,
    hub: HubClient | None = None,
    drain_interval: float = 1.0,
) -> AsyncIterator[RunningAdapter]:
    """Serve the adapter on host:port (0: a free port), watch deadlines, and with `hub` drain the outbox."""
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((rpc_handler(servicer),))
    address = f"{host}:{port}"
    bound = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    await server.start()
    log.info("adapter.serving", node=servicer.identity.node_id, port=bound, tls=credentials is not None)
    workers = [asyncio.create_task(watch_deadlines(servicer))]
    if hub is not None:
        workers.append(asyncio.create_task(drain_forever(servicer, hub, interval=drain_interval)))
    try:
        yield RunningAdapter(server, bound)
    finally:
        for worker in workers:
            await stop_task(worker)
        await server.stop(grace=0.5)
