"""gRPC statuses carrying a reason code (google.rpc.ErrorInfo), both ways."""

from __future__ import annotations

from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status

from gateway.errors import CATALOGUE, JgxError, ReasonCode, TransportError, VerificationError

__all__ = ["DOMAIN", "abort", "error_from_rpc"]

DOMAIN = "jgx.gov.sc.cn"


async def abort(
    context: grpc.aio.ServicerContext[object, object], reason: ReasonCode, detail: str
) -> NoReturn:
    """End the call with the reason code's gRPC status and an ErrorInfo naming the reason."""
    entry = CATALOGUE[reason]
    info = any_pb2.Any()
    info.Pack(
        error_details_pb2.ErrorInfo(reason=reason.value, domain=DOMAIN, metadata={"detail": detail[:500]})
    )
    status = status_pb2.Status(
        code=getattr(code_pb2, entry.grpc_status),
        message=f"{reason.value}: {entry.zh} / {entry.en}" + (f" ({detail})" if detail else ""),
        details=[info],
    )
    wire = rpc_status.to_status(status)
    await context.abort(wire.code, wire.details, trailing_metadata=wire.trailing_metadata)
    raise AssertionError("abort_with_status returns only by raising")  # pragma: no cover


def error_from_rpc(error: grpc.aio.AioRpcError) -> JgxError:
    """The typed jgx error a failed call stands for (UNAVAILABLE when the peer named no reason)."""
    reason: ReasonCode | None = None
    metadata: Any = error.trailing_metadata() or ()
    for key, value in metadata:
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info) and info.reason in ReasonCode.__members__:
                    reason = ReasonCode(info.reason)
    if reason is None:
        code = error.code()
        reason = {
            grpc.StatusCode.RESOURCE_EXHAUSTED: ReasonCode.RATE_LIMITED,
            grpc.StatusCode.INTERNAL: ReasonCode.INTERNAL,
        }.get(code, ReasonCode.UNAVAILABLE)
    detail = f"{error.code().name}: {error.details() or ''}"
    if CATALOGUE[reason].untrusted_content:
        return VerificationError(reason, detail)
    return TransportError(reason, detail)
