"""The operator console (运维控制台): exchange-log search, message detail with inclusion proofs,
task and clue lifecycles, dead letters, checkpoints — server-rendered HTML and a JSON API.

`make_console_app` builds the aiohttp application over an open `Store`; `jgx serve` mounts it on the
console port and `jgx console` runs it alone over a database file.
"""

from __future__ import annotations

from gateway.console.app import make_console_app

__all__ = ["make_console_app"]
