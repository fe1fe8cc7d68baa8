"""Reason codes in gRPC statuses, both ways: ``google.rpc.ErrorInfo`` with domain `ERROR_DOMAIN`.

One module for the gateway, the adapter SDK, the delivery worker and the conformance runner, so every
jgx status carries the same domain and every jgx client reads a status the same way (docs/wire.md §6).
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status

from gateway._text import encodable
from gateway.errors import CATALOGUE, ERROR_DOMAIN, ReasonCode

__all__ = ["ERROR_DOMAIN", "error_info", "error_status", "reason_of"]


def error_status(reason: ReasonCode, detail: str = "", **metadata: str) -> grpc.Status:
    """A gRPC status for ``reason`` with an ErrorInfo (domain `ERROR_DOMAIN`) and a bilingual message."""
    entry = CATALOGUE[reason]
    # The detail may quote a peer's content: valid UTF-8 (a lone surrogate escaped) and short, or the
    # status itself could not be encoded and the caller would get nothing.
    detail = encodable(detail, limit=500)
    metadata = {key: encodable(value, limit=500) for key, value in metadata.items()}
    info = error_details_pb2.ErrorInfo(
        reason=reason.value,
        domain=ERROR_DOMAIN,
        metadata={
            "message_zh": entry.zh,
            "message_en": entry.en,
            **({"detail": detail} if detail else {}),
            **metadata,
        },
    )
    packed = any_pb2.Any()
    packed.Pack(info)
    status = status_pb2.Status(
        code=grpc.StatusCode[entry.grpc_status].value[0],
        message=f"{reason.value}: {entry.en} / {entry.zh}" + (f" ({detail})" if detail else ""),
        details=[packed],
    )
    return rpc_status.to_status(status)


def error_info(error: grpc.aio.AioRpcError) -> Any | None:
    """The jgx ``ErrorInfo`` a failed call carries (domain `ERROR_DOMAIN`), or None."""
    metadata: Any = error.trailing_metadata() or ()
    for key, value in metadata:
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            for detail in status_pb2.Status.FromString(value).details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info) and info.domain == ERROR_DOMAIN:
                    return info
    return None


def reason_of(error: grpc.aio.AioRpcError) -> ReasonCode:
    """The reason code a failed call stands for.

    A jgx node names its reason in ErrorInfo. A status without one was made by a gRPC library: a bare
    RESOURCE_EXHAUSTED is a message over a transport size limit (TOO_LARGE: RATE_LIMITED always carries
    ErrorInfo), INTERNAL is INTERNAL, anything else (no connection, deadline, cancelled) UNAVAILABLE.
    """
    info = error_info(error)
    if info is not None and info.reason in ReasonCode.__members__:
        return ReasonCode(info.reason)
    return {
        grpc.StatusCode.RESOURCE_EXHAUSTED: ReasonCode.TOO_LARGE,
        grpc.StatusCode.INTERNAL: ReasonCode.INTERNAL,
    }.get(error.code(), ReasonCode.UNAVAILABLE)
