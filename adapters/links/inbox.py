"""What a gateway node received for itself: its log tailed for accepted envelopes addressed to it.

The Chongqing platform is a jgx gateway (DESIGN §1; the national system is not: it is reached
through its front database by the national bridge, `adapters.bridge.national`). What other nodes send
it arrives through their Exchange service, is judged, logged and receipted there; the system behind
the gateway then reads the accepted messages addressed to the node from the log, in log order. The
inbox remembers how far it has read, so each message is handed over once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.storage import Store

__all__ = ["Arrival", "Inbox"]


@dataclass(frozen=True, slots=True)
class Arrival:
    """An accepted message addressed to the node, with where and when its gateway logged it."""

    message: exchange_pb2.Message
    log_index: int
    time: datetime


class Inbox:
    """Reads the accepted submissions addressed to `node_id` from its gateway's store, each once."""

    def __init__(self, node_id: str, store: Callable[[], Store | None]) -> None:
        """`store` returns the gateway's current store (None while the gateway is down)."""
        self.node_id = node_id
        self._store = store
        self._next = 0
        self.arrivals: list[Arrival] = []

    async def poll(self) -> list[Arrival]:
        """The arrivals logged since the last poll (none while the gateway is down)."""
        store = self._store()
        if store is None:
            return []
        size = await store.size()
        new: list[Arrival] = []
        for record in await store.messages(self._next, size):
            if (
                record.kind != "submission"
                or record.outcome != exchange_pb2.OUTCOME_ACCEPTED
                or record.recipient != self.node_id
                or record.duplicate_of is not None
                or record.envelope is None
            ):
                continue
            body = exchange_pb2.Envelope.FromString(record.envelope).body
            new.append(Arrival(exchange_pb2.Message.FromString(body), record.log_index, record.time))
        self._next = size
        self.arrivals.extend(new)
        return new

    async def wait_for(
        self, match: Callable[[exchange_pb2.Message], bool], *, timeout: float = 10.0, interval: float = 0.05
    ) -> Arrival:
        """The first arrival (earlier or new) that `match`es; TimeoutError when none comes in time."""

        async def look() -> Arrival:
            while True:
                for arrival in self.arrivals:
                    if match(arrival.message):
                        return arrival
                await self.poll()
                if not any(match(a.message) for a in self.arrivals):
                    await asyncio.sleep(interval)

        async with asyncio.timeout(timeout):
            return await look()
