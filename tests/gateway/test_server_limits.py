"""Envelope size over real gRPC: TOO_LARGE with ErrorInfo up to the transport limit, and beyond it."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from adapters.sdk._status import error_from_rpc
from gateway.error_details import error_info, reason_of
from gateway.errors import ERROR_DOMAIN, ReasonCode
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.policy import transport_limit
from gateway.testing import Federation
from tests.gateway.test_server import NOW, SUBMIT, _error_info, start_node


def _envelope_of_size(fed: Federation, size: int) -> bytes:
    """A signed envelope of exactly ``size`` bytes (its payload padded to fit)."""
    pad = max(0, size - 600)
    for _ in range(8):
        data = fed.envelope(fed.message("sc.amr", "sc.hub", payload=b'{"x":"' + b"a" * pad + b'"}'))
        if len(data) == size:
            return data
        pad += size - len(data)
    raise AssertionError(f"no envelope of {size} bytes")


LIMIT = 16 * 1024  # the trust policy's max_envelope_bytes in the size tests


@pytest.mark.parametrize(
    ("name", "size"),
    [("just above the limit", LIMIT + 1), ("far above it", 3 * LIMIT), ("at the transport limit", 4 * LIMIT)],
)
async def test_an_envelope_over_the_limit_gets_too_large_with_error_info(
    tmp_path: Path, name: str, size: int
) -> None:
    """Over the policy's envelope limit, up to the transport limit, the answer is TOO_LARGE with ErrorInfo."""
    fed = Federation.create(NOW)
    fed.resign(fed.trust.with_policies(max_envelope_bytes=LIMIT))
    node = await start_node(fed, tmp_path / "hub.db")
    try:
        at_limit = await node.submit(_envelope_of_size(fed, LIMIT))
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await node.channel.unary_unary(SUBMIT)(_envelope_of_size(fed, size))
        after = await node.submit(fed.envelope(fed.message("sc.amr", "sc.hub")))
        size_after = await node.server.hub.store.size()
    finally:
        await node.channel.close()
        await node.server.stop(grace=1)
        await node.server.hub.store.close()
    info = _error_info(raised.value)
    assert (exchange_pb2.OUTCOME_ACCEPTED, exchange_pb2.OUTCOME_ACCEPTED) == (at_limit.outcome, after.outcome)
    assert (grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_LARGE", ERROR_DOMAIN) == (
        raised.value.code(), info.reason, info.domain
    )
    assert 2 == size_after  # the refused envelope left no leaf


async def test_beyond_the_transport_limit_a_client_still_reads_too_large(tmp_path: Path) -> None:
    """A message over gRPC's own receive limit gets a bare RESOURCE_EXHAUSTED, which means TOO_LARGE."""
    fed = Federation.create(NOW)
    fed.resign(fed.trust.with_policies(max_envelope_bytes=LIMIT))
    node = await start_node(fed, tmp_path / "hub.db")
    try:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await node.channel.unary_unary(SUBMIT)(_envelope_of_size(fed, transport_limit(LIMIT) + 1))
    finally:
        await node.channel.close()
        await node.server.stop(grace=1)
        await node.server.hub.store.close()
    assert (grpc.StatusCode.RESOURCE_EXHAUSTED, None) == (raised.value.code(), error_info(raised.value))
    assert ReasonCode.TOO_LARGE == reason_of(raised.value)
    assert ReasonCode.TOO_LARGE == error_from_rpc(raised.value).reason  # the adapter SDK's reading


async def test_a_status_refusal_in_a_stream_ends_it_and_names_the_position(tmp_path: Path) -> None:
    """SubmitStream answers the envelopes before an oversized one, then ends with TOO_LARGE at its index."""
    fed = Federation.create(NOW)
    fed.resign(fed.trust.with_policies(max_envelope_bytes=LIMIT))
    node = await start_node(fed, tmp_path / "hub.db")
    envelopes = [fed.envelope(fed.message("sc.amr", "sc.hub")) for _ in range(2)]
    envelopes.append(_envelope_of_size(fed, 2 * LIMIT))
    answered: list[exchange_pb2.SubmitResponse] = []

    async def read_all() -> None:
        call = node.channel.stream_stream(
            "/jgx.exchange.v1.Exchange/SubmitStream",
            response_deserializer=exchange_pb2.SubmitResponse.FromString,
        )
        async for response in call(iter(envelopes)):
            answered.append(response)

    try:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await read_all()
    finally:
        await node.channel.close()
        await node.server.stop(grace=1)
        await node.server.hub.store.close()
    info = error_info(raised.value)
    assert info is not None
    assert (2, "TOO_LARGE", "2") == (len(answered), info.reason, info.metadata["position"])
