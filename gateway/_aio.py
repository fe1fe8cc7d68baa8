"""Waiting and stopping in asyncio without ever losing a cancellation.

On Python 3.11 ``asyncio.wait_for`` returns the inner result instead of raising when a cancellation
arrives in the same loop turn as the awaited thing finishes: a delivery worker woken by every
accepted envelope then never saw the cancellation of ``jgx serve``'s shutdown and kept running (and
the node kept serving) after SIGTERM. ``with contextlib.suppress(asyncio.CancelledError): await
task`` has the mirror defect: it swallows the *caller's* cancellation too. ``asyncio.wait_for`` is
banned in ruff's configuration; these two helpers are what the packages use instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["stop_task", "wait_event"]


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds pass; True when it is set.

    A cancellation of the caller always propagates, even when the event is set at the same moment.
    """
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` and wait until it has ended; the caller's own cancellation is never swallowed.

    A task that ignores its cancellation keeps the caller waiting: callers bound the wait with a
    deadline of their own (``jgx serve`` does), and the tasks of this package stop at a flag as well.
    """
    if task is None:
        return
    task.cancel()
    await asyncio.wait({task})  # raises CancelledError when the caller is cancelled, never otherwise
    if not task.cancelled():
        task.exception()  # retrieved, so that asyncio does not report it as never retrieved
