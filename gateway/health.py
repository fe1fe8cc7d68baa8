"""What the gRPC health service says, kept true: SERVING only while the node can do its work.

The node is NOT_SERVING while

- its store cannot write (disk full, database gone): a failed write of the log wakes the watch at
  once, and a probe write (`Store.probe_write`, a committed write that changes no value) every
  ``interval`` seconds finds out when it can write again;
- the trust configuration in force has expired (TRUST_EXPIRED: the hub refuses every envelope, as
  DESIGN §4's freeze protection asks; a node needs a new signed version and a restart);
- it is shutting down (`gateway.server.Server.drain`).

Each change is one log event, ``health.changed``, naming the reason codes; the store's own error is
logged as ``health.store_unwritable`` on the node and nowhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

import structlog

from gateway._aio import stop_task, wait_event
from gateway.errors import ReasonCode
from gateway.storage import StorageError, Store
from gateway.trust import TrustConfig

__all__ = ["HealthWatch"]

_log = structlog.get_logger("jgx.health")

SetServing = Callable[[bool], Awaitable[None]]


class HealthWatch:
    """Probes the store and watches the trust configuration's expiry; reports SERVING or NOT_SERVING."""

    def __init__(
        self,
        store: Store,
        trust: TrustConfig,
        set_serving: SetServing,
        *,
        clock: Callable[[], datetime],
        interval: float = 2.0,
        probe_timeout: float = 5.0,
    ) -> None:
        """Watch ``store`` and ``trust``; ``set_serving(bool)`` updates the health service."""
        self.store = store
        self.trust = trust
        self.set_serving = set_serving
        self.clock = clock
        self.interval = interval
        self.probe_timeout = probe_timeout
        self.problems: tuple[ReasonCode, ...] = ()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def observe(self, event: Mapping[str, object]) -> None:
        """A hub event (`Hub.observers`): a write that failed makes the watch look now."""
        reasons = event.get("reasons")
        if isinstance(reasons, list) and ReasonCode.UNAVAILABLE.value in reasons:
            self._wake.set()

    def start(self) -> None:
        """Start watching in the background."""
        self._task = asyncio.create_task(self._run(), name="jgx-health")

    async def close(self) -> None:
        """Stop watching."""
        self._stopping = True
        self._wake.set()
        await stop_task(self._task)
        self._task = None

    async def check(self) -> tuple[ReasonCode, ...]:
        """Look once: the reason codes that keep the node from serving now (none: SERVING)."""
        problems: list[ReasonCode] = []
        if self.clock() >= self.trust.expires_at:
            problems.append(ReasonCode.TRUST_EXPIRED)
        try:
            async with asyncio.timeout(self.probe_timeout):
                await self.store.probe_write()
        except (StorageError, TimeoutError) as exc:
            if ReasonCode.UNAVAILABLE not in self.problems:
                _log.error("health.store_unwritable", error=str(exc) or type(exc).__name__)
            problems.append(ReasonCode.UNAVAILABLE)
        found = tuple(problems)
        if found != self.problems:
            self.problems = found
            (_log.warning if found else _log.info)(
                "health.changed",
                status="NOT_SERVING" if found else "SERVING",
                reasons=[p.value for p in found],
            )
            await self.set_serving(not found)
        return found

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.check()
            except Exception as exc:  # noqa: BLE001 - the watch outlives a failing health service call
                _log.error("health.check_failed", error=type(exc).__name__)
            left = (self.trust.expires_at - self.clock()).total_seconds()
            # Wake at the expiry itself, not up to one interval after it.
            await wait_event(self._wake, min(self.interval, left) if left > 0 else self.interval)
