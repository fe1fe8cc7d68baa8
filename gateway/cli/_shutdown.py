"""Stopping ``jgx serve`` in a fixed order within a hard deadline (SIGTERM, SIGINT).

    1 stop accepting: health NOT_SERVING, the listener refuses new calls, the console closes
    2 drain calls: in-flight calls get the grace period less a reserve for the steps below
    3 stop workers: delivery, the health watch
    4 final checkpoint: the sequencer writes what it queued, the checkpointer signs the tree head
    5 close the store (and the metrics endpoint)

Each step gets what is left of ``grace`` seconds counted from the signal. A step that overruns ends
the shutdown: the event ``serve.shutdown_deadline`` names it and the process exits 1 at once, as a
crash would (a receipt is only issued after its commit, so nothing receipted is lost; the next start
resumes from the stored log). A watchdog thread enforces the same deadline when the event loop itself
is stuck, so the node is gone within ``grace`` seconds plus a fraction of one whatever happens.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

__all__ = ["EXIT_DEADLINE", "Step", "exit_at_deadline", "shut_down"]

_log = structlog.get_logger("jgx.serve")
EXIT_DEADLINE = 1
_WATCHDOG_SLACK = 0.5  # seconds after the deadline before the thread ends a process whose loop is stuck


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the shutdown; ``run`` gets the seconds left before the deadline."""

    name: str
    run: Callable[[float], Awaitable[None]]


def exit_at_deadline(message: str) -> None:
    """End the process now, without waiting for threads or the event loop (the hard deadline)."""
    sys.stderr.write(f"jgx: {message}\n")
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(EXIT_DEADLINE)


async def shut_down(steps: Sequence[Step], *, grace: float) -> bool:
    """Run ``steps`` in order within ``grace`` seconds; False (and an error event) when one overran."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    watchdog = threading.Timer(
        grace + _WATCHDOG_SLACK,
        exit_at_deadline,
        args=(f"停止超时，强制退出 / shutdown exceeded {grace} s; exiting now",),
    )
    watchdog.daemon = True
    watchdog.start()
    try:
        for step in steps:
            try:
                async with asyncio.timeout_at(deadline):
                    await step.run(max(deadline - loop.time(), 0.0))
            except TimeoutError:
                _log.error("serve.shutdown_deadline", step=step.name, grace_s=grace)
                return False
            _log.info("serve.shutdown_step", step=step.name, left_s=round(deadline - loop.time(), 3))
        return True
    finally:
        watchdog.cancel()
