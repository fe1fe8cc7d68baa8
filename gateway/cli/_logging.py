"""Where a long-running jgx process writes its structured events (structlog), and in which form."""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from gateway._text import encodable

__all__ = ["configure_logging", "encodable_values"]


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    return value


def encodable_values(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: every text of the event valid UTF-8 (a peer's lone surrogate escaped).

    Events carry content from peers (message ids, details); a lone surrogate would make the stream
    writer raise, and the event, with the envelope it reports on, would be lost.
    """
    return {key: _clean(value) for key, value in event.items()}


def configure_logging(form: str) -> None:
    """``json``: one JSON object a line on stdout (for log shippers); ``console``: aligned, for a person.

    Both carry an ISO-8601 UTC timestamp and the level; Chinese text is written as is.
    """
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if form == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            encodable_values,
            renderer,
        ],
        logger_factory=structlog.WriteLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
