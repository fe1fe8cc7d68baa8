"""How every call of the Exchange service begins and ends: admitted per peer, answered with a reason.

`guarded` wraps each handler: the peer's open calls are counted (`ExchangeService._admitted`), and any
exception becomes a gRPC status with a reason code — jgx's own errors with their detail, a failing
store as UNAVAILABLE and anything else as INTERNAL, both without the exception's text, which is logged
on the node. gRPC's own answer to an escaped exception (UNKNOWN, with the exception's text) never
happens. `connection_options` turns ``[connections]`` of jgx.toml into gRPC core's channel arguments.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import structlog

from gateway.config import Connections
from gateway.errors import JgxError, ReasonCode
from gateway.storage import StorageError

__all__ = ["connection_options", "guarded", "guarded_stream"]

_log = structlog.get_logger("jgx.server")


async def _abort(context: grpc.aio.ServicerContext[bytes, bytes], reason: ReasonCode, detail: str) -> None:
    from gateway.server import abort_with_reason  # the status format lives with the service

    await abort_with_reason(context, reason, detail)


def _failure(exc: Exception, context: grpc.aio.ServicerContext[bytes, bytes]) -> tuple[ReasonCode, str]:
    """The reason code and client-safe detail of an exception that ended a call.

    Only jgx's own errors carry their detail to the client; a store failure or a bug is logged here
    with its text and answered UNAVAILABLE or INTERNAL with none (no table name or SQL leaves the node).
    """
    if isinstance(exc, JgxError):
        return exc.reason, exc.detail
    if isinstance(exc, StorageError):
        _log.error("rpc.store_failed", error=str(exc), peer=context.peer())
        return ReasonCode.UNAVAILABLE, ""
    _log.error("rpc.internal_error", error=type(exc).__name__, peer=context.peer(), exc_info=exc)
    return ReasonCode.INTERNAL, ""


_Unary = Callable[[Any, grpc.aio.ServicerContext[bytes, bytes]], Awaitable[bytes]]
_Stream = Callable[[AsyncIterator[bytes], grpc.aio.ServicerContext[bytes, bytes]], AsyncIterator[bytes]]


_Admit = Callable[[grpc.aio.ServicerContext[bytes, bytes]], contextlib.AbstractAsyncContextManager[None]]


def guarded(method: _Unary, admit: _Admit) -> _Unary:
    """``method`` admitted per peer, whose every exception becomes a typed status (never UNKNOWN)."""

    async def call(request: Any, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        try:
            async with admit(context):
                return await method(request, context)
        except grpc.aio.AbortError:
            raise  # the call was ended on purpose, with its status
        except Exception as exc:  # noqa: BLE001 - every failure is answered with a reason code
            reason, detail = _failure(exc, context)
        await _abort(context, reason, detail)
        raise AssertionError("abort returned")  # pragma: no cover - abort always raises

    return call


def guarded_stream(method: _Stream, admit: _Admit) -> _Stream:
    """The streaming form of `guarded`."""

    async def call(
        requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> AsyncIterator[bytes]:
        try:
            async with admit(context):
                async for response in method(requests, context):
                    yield response
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is answered with a reason code
            reason, detail = _failure(exc, context)
            await _abort(context, reason, detail)

    return call


def connection_options(connections: Connections) -> list[tuple[str, int]]:
    """gRPC core's channel arguments for ``[connections]`` of jgx.toml."""
    ms = 1000
    return [
        ("grpc.max_concurrent_streams", connections.max_concurrent_streams),
        ("grpc.keepalive_time_ms", int(connections.keepalive_seconds * ms)),
        ("grpc.keepalive_timeout_ms", int(connections.keepalive_timeout_seconds * ms)),
        ("grpc.http2.ping_timeout_ms", int(connections.keepalive_timeout_seconds * ms)),
        ("grpc.keepalive_permit_without_calls", 1),  # a silent connection is found even without calls
        ("grpc.max_connection_idle_ms", int(connections.connection_idle_seconds * ms)),
    ]


