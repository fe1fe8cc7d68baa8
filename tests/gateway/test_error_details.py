"""One ErrorInfo domain: what the gateway sends, the adapter SDK and the conformance suite read."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]

from adapters.sdk._status import DOMAIN, error_from_rpc
from conformance.session import rpc_failure
from gateway.error_details import error_status, reason_of
from gateway.errors import ERROR_DOMAIN, ReasonCode


def _failed_call(code: grpc.StatusCode, reason: str = "", domain: str = ERROR_DOMAIN) -> grpc.aio.AioRpcError:
    """A failed call as a client sees it, carrying ErrorInfo(reason, domain) when ``reason`` is given."""
    trailing: list[tuple[str, bytes]] = []
    if reason:
        packed = any_pb2.Any()
        packed.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=domain))
        status = status_pb2.Status(code=code.value[0], message=reason, details=[packed])
        trailing.append(("grpc-status-details-bin", status.SerializeToString()))
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailing), details=reason)


def test_the_gateway_and_the_sdk_send_the_one_domain() -> None:
    """The gateway's statuses and the SDK's carry ErrorInfo.domain "jgx", as docs/wire.md §6 says."""
    status = error_status(ReasonCode.TOO_LARGE, "big")
    raw = dict(status.trailing_metadata)["grpc-status-details-bin"]
    info = error_details_pb2.ErrorInfo()
    status_pb2.Status.FromString(raw).details[0].Unpack(info)
    assert ("jgx", "jgx", "TOO_LARGE") == (DOMAIN, info.domain, info.reason)


@pytest.mark.parametrize(
    ("domain", "expected"), [(ERROR_DOMAIN, "SCHEMA_INVALID"), ("jgx.gov.sc.cn", ""), ("jgx.exchange.v1", "")]
)
def test_conformance_reads_reasons_of_the_jgx_domain_only(domain: str, expected: str) -> None:
    """An adapter naming its reason under another domain is not speaking the jgx wire contract."""
    failure = rpc_failure(_failed_call(grpc.StatusCode.INVALID_ARGUMENT, "SCHEMA_INVALID", domain))
    assert expected == failure["reason"]


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED", ReasonCode.RATE_LIMITED),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "", ReasonCode.TOO_LARGE),  # the gRPC library's size limit
        (grpc.StatusCode.INTERNAL, "", ReasonCode.INTERNAL),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "", ReasonCode.UNAVAILABLE),
        (grpc.StatusCode.PERMISSION_DENIED, "ACL_DENIED", ReasonCode.ACL_DENIED),
    ],
)
def test_a_client_reads_a_status_as_one_reason_code(
    code: grpc.StatusCode, reason: str, expected: ReasonCode
) -> None:
    """A bare RESOURCE_EXHAUSTED is TOO_LARGE, never RATE_LIMITED (which always carries ErrorInfo)."""
    error = _failed_call(code, reason)
    assert (expected, expected) == (reason_of(error), error_from_rpc(error).reason)


@pytest.mark.parametrize(
    ("response", "refused"),
    [
        ({"status": "RESOURCE_EXHAUSTED", "reason": "TOO_LARGE"}, True),
        ({"status": "RESOURCE_EXHAUSTED", "reason": ""}, True),  # the transport's own size limit
        ({"status": "RESOURCE_EXHAUSTED", "reason": "RATE_LIMITED"}, False),
    ],
)
def test_conformance_reads_resource_exhausted_as_the_wire_spec_does(
    response: dict[str, str], refused: bool
) -> None:
    """The oversize check passes on TOO_LARGE or a bare RESOURCE_EXHAUSTED, not on RATE_LIMITED."""
    from conformance.evidence import Exchange
    from conformance.judging import _refused_with

    assert refused == _refused_with(Exchange(1, "oversized", "Deliver", {}, response), ("TOO_LARGE",))
