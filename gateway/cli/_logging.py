"""Where a long-running jgx process writes its structured events (structlog), and in which form."""

from __future__ import annotations

import sys

import structlog

__all__ = ["configure_logging"]


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
            renderer,
        ],
        logger_factory=structlog.WriteLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
