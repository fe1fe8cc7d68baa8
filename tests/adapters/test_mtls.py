"""The adapter over mutual TLS: the hub is the expected relay, another node's certificate is refused."""

from __future__ import annotations

import grpc
import pytest

from adapters.sdk import AdapterServicer, serve_adapter
from gateway.errors import ReasonCode
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pki import create_ca, issue_node_certificate
from gateway.testing import Federation
from gateway.tls import channel_credentials, server_credentials
from tests.adapters.conftest import NOW
from tests.adapters.test_servicer import task

CA_CERT, CA_KEY = create_ca("jgx federation CA", NOW)
CERTS = {
    node: issue_node_certificate(CA_CERT, CA_KEY, node, now=NOW) for node in ("sc.amr", "sc.hub", "sc.12315")
}


async def deliver_as(node: str, port: int, data: bytes) -> exchange_pb2.Receipt:
    credentials = channel_credentials(*CERTS[node], CA_CERT)
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        call = channel.unary_unary(
            "/jgx.adapter.v1.Adapter/Deliver",
            request_serializer=lambda b: b,
            response_deserializer=adapter_pb2.DeliverResponse.FromString,
        )
        response = await call(data)
    return exchange_pb2.Receipt.FromString(response.receipt.body)


@pytest.mark.parametrize(
    ("client", "expected"),
    [("sc.hub", []), ("sc.12315", [ReasonCode.IDENTITY_MISMATCH.value])],
)
async def test_the_relay_is_read_from_the_client_certificate(
    servicer: AdapterServicer, fed: Federation, client: str, expected: list[str]
) -> None:
    """Over mTLS a national task relayed by the hub is accepted; the same bytes from another node are not."""
    credentials = server_credentials(*CERTS["sc.amr"], CA_CERT)
    async with serve_adapter(servicer, credentials=credentials) as running:
        receipt = await deliver_as(client, running.port, task(fed))
    assert expected == list(receipt.reason_codes)
