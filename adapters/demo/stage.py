"""The stage the demo's acts play on: narration, expectations, waiting, the demo clock.

`Stage` is the base of the scenario's acts (`adapters.demo.national_acts`, `adapters.demo.scenario`): it
prints each act and expectation as it goes and records whether each expectation held.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TextIO

from adapters.demo.network import LoopbackNetwork

__all__ = ["Stage"]


class Stage:
    """A started `LoopbackNetwork`, narrated to ``out``; the acts of the scenario build on it."""

    def __init__(self, network: LoopbackNetwork, out: TextIO, *, timeout: float = 10.0) -> None:
        """Drive `network`, narrating to `out`; each wait gives up after `timeout` seconds."""
        self.net = network
        self.out = out
        self.timeout = timeout
        self.checks: list[tuple[str, bool]] = []
        self.started = network.departments["sc.amr"].servicer.clock()

    # -- narration and expectations -------------------------------------------------------------------
    def act(self, number: int, zh: str, en: str) -> None:
        """Announce an act."""
        print(f"\n▶ {number}. {zh} / {en}", file=self.out, flush=True)

    def say(self, text: str) -> None:
        """One line of narration."""
        print(f"  {text}", file=self.out, flush=True)

    def expect(self, what: str, held: bool) -> bool:
        """Record an expectation of the scenario and print whether it held."""
        self.checks.append((what, held))
        print(f"  {'✔' if held else '✘'} {what}", file=self.out, flush=True)
        return held

    async def until(self, condition: Callable[[], Awaitable[bool]]) -> bool:
        """Wait until `condition` holds (False when it does not within the timeout)."""
        try:
            async with asyncio.timeout(self.timeout):
                while not await condition():
                    await asyncio.sleep(0.05)
        except TimeoutError:
            return False
        return True

    def now(self) -> datetime:
        """The demo clock (the adapters' clock)."""
        return self.net.departments["sc.amr"].servicer.clock()

    def state(self, node: str, correlation_id: str) -> str:
        """The lifecycle state of a task or clue in a department's worklist."""
        item = self.net.departments[node].servicer.worklist.get(correlation_id)
        return item.state.value if item is not None else "-"

