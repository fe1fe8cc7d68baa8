"""gRPC statuses carrying a reason code (google.rpc.ErrorInfo, `gateway.error_details`), both ways."""

from __future__ import annotations

from typing import NoReturn

import grpc

from gateway.error_details import ERROR_DOMAIN, error_status, reason_of
from gateway.errors import CATALOGUE, JgxError, ReasonCode, TransportError, VerificationError

__all__ = ["DOMAIN", "abort", "error_from_rpc"]

DOMAIN = ERROR_DOMAIN  # kept for callers of the SDK: the one domain of every jgx status


async def abort(
    context: grpc.aio.ServicerContext[object, object], reason: ReasonCode, detail: str
) -> NoReturn:
    """End the call with the reason code's gRPC status and an ErrorInfo naming the reason."""
    wire = error_status(reason, detail)
    await context.abort(wire.code, wire.details, trailing_metadata=wire.trailing_metadata)
    raise AssertionError("abort_with_status returns only by raising")  # pragma: no cover


def error_from_rpc(error: grpc.aio.AioRpcError) -> JgxError:
    """The typed jgx error a failed call stands for (`gateway.error_details.reason_of`)."""
    reason = reason_of(error)
    detail = f"{error.code().name}: {error.details() or ''}"
    if CATALOGUE[reason].untrusted_content:
        return VerificationError(reason, detail)
    return TransportError(reason, detail)
