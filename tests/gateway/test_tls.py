"""Mutual TLS over a real gRPC server on 127.0.0.1: who may connect, and who the server sees."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
import pytest
from grpc_health.v1 import _async as health_aio  # = health.aio, which type checkers cannot see
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.errors import ReasonCode, TransportError
from gateway.pki import create_ca, issue_node_certificate
from gateway.tls import PeerIdentity, channel_credentials, peer_identity, peer_node_id, server_credentials

NOW = datetime.now(UTC)  # certificates must be valid for the real TLS stack's clock


@dataclass(frozen=True)
class Pki:
    """The federation CA, the hub's and a department's certificates, and a stranger CA's certificate."""

    ca: bytes
    hub: tuple[bytes, bytes]
    amr: tuple[bytes, bytes]
    stranger: tuple[bytes, bytes]


@pytest.fixture(scope="module")
def pki() -> Pki:
    """Certificates for the tests of this module."""
    ca_cert, ca_key = create_ca("jgx federation CA", NOW)
    other_cert, other_key = create_ca("some other CA", NOW)
    return Pki(
        ca=ca_cert,
        hub=issue_node_certificate(ca_cert, ca_key, "sc.hub", now=NOW),
        amr=issue_node_certificate(ca_cert, ca_key, "sc.amr", now=NOW),
        stranger=issue_node_certificate(other_cert, other_key, "sc.amr", now=NOW),
    )


class RecordingHealth(health_aio.HealthServicer):  # type: ignore[misc]
    """The standard health service, noting each caller's identity first."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[PeerIdentity] = []

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> health_pb2.HealthCheckResponse:
        self.peers.append(peer_identity(context.auth_context()))
        assert self.peers[-1].node_id == peer_node_id(context)
        response: health_pb2.HealthCheckResponse = await super().Check(request, context)
        return response


@dataclass
class Server:
    """A running server and what its servicer saw."""

    port: int
    servicer: RecordingHealth
    ca: bytes = field(repr=False)


@pytest.fixture
async def server(pki: Pki) -> AsyncIterator[Server]:
    """A grpc.aio server with the health service on an ephemeral port, requiring client certificates."""
    servicer = RecordingHealth()
    aio_server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, aio_server)
    port = aio_server.add_secure_port("127.0.0.1:0", server_credentials(*pki.hub, pki.ca))
    await aio_server.start()
    yield Server(port, servicer, pki.ca)
    await aio_server.stop(None)


async def _check(port: int, credentials: grpc.ChannelCredentials) -> int:
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
        return int(response.status)


class TestMutualTls:
    async def test_node_with_ca_certificate_is_identified(self, server: Server, pki: Pki) -> None:
        """A client with a CA-issued certificate gets through; the server reads its node id over TLS 1.3."""
        status = await _check(server.port, channel_credentials(*pki.amr, pki.ca))
        assert health_pb2.HealthCheckResponse.SERVING == status
        assert [PeerIdentity("sc.amr", "TLSv1.3")] == server.servicer.peers

    async def test_client_without_certificate_is_refused(self, server: Server, pki: Pki) -> None:
        """A client that presents no certificate never reaches the servicer."""
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _check(server.port, grpc.ssl_channel_credentials(root_certificates=pki.ca))
        assert grpc.StatusCode.UNAVAILABLE == caught.value.code()
        assert [] == server.servicer.peers

    async def test_certificate_of_another_ca_is_refused(self, server: Server, pki: Pki) -> None:
        """A certificate naming a real node but issued by a stranger CA is refused in the handshake."""
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _check(server.port, channel_credentials(*pki.stranger, pki.ca))
        assert grpc.StatusCode.UNAVAILABLE == caught.value.code()
        assert [] == server.servicer.peers

    async def test_client_refuses_a_server_outside_the_federation(self, server: Server, pki: Pki) -> None:
        """A client that trusts only another CA does not talk to the hub."""
        stranger_ca = create_ca("stranger", NOW)[0]
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _check(server.port, channel_credentials(*pki.amr, stranger_ca))
        assert grpc.StatusCode.UNAVAILABLE == caught.value.code()


def _auth(pem: bytes, **extra: Iterable[bytes]) -> Mapping[str, Iterable[bytes]]:
    return {
        "transport_security_type": [b"ssl"],
        "x509_pem_cert": [pem],
        "ssl_tls_version": [b"TLSv1.3"],
        **extra,
    }


class TestPeerIdentity:
    def test_tls_12_is_refused_by_default(self, pki: Pki) -> None:
        """A call negotiated over TLS 1.2 is refused unless the node allows it."""
        auth = _auth(pki.amr[0], ssl_tls_version=[b"TLSv1.2"])
        with pytest.raises(TransportError) as caught:
            peer_identity(auth)
        assert ReasonCode.IDENTITY_MISMATCH == caught.value.reason
        assert PeerIdentity("sc.amr", "TLSv1.2") == peer_identity(auth, require_tls13=False)

    @pytest.mark.parametrize(
        "auth",
        [
            {},
            {"transport_security_type": [b"insecure"]},
            {"transport_security_type": [b"ssl"], "ssl_tls_version": [b"TLSv1.3"]},
        ],
        ids=["plaintext", "insecure", "no-client-certificate"],
    )
    def test_calls_without_a_certificate_are_refused(self, auth: Mapping[str, Iterable[bytes]]) -> None:
        """Without TLS and a client certificate there is no transport identity."""
        with pytest.raises(TransportError) as caught:
            peer_identity(auth)
        assert ReasonCode.IDENTITY_MISMATCH == caught.value.reason

    def test_grpc_and_jgx_must_read_the_same_node(self, pki: Pki) -> None:
        """If gRPC's reading of the URI SAN names another node than the certificate, the call is refused."""
        with pytest.raises(TransportError):
            peer_identity(_auth(pki.amr[0], peer_uri=[b"urn:jgx:node:sc.sjs"]))
