"""Mutual-TLS credentials for gRPC and the peer's node id inside a servicer (DESIGN §2 step 1).

Every connection between jgx nodes is mutually authenticated: the server demands a client certificate
issued by the federation's CA (`gateway.pki`), and the client checks the server's certificate against
the same CA and the address it dialled (the node certificate carries ``127.0.0.1``/``localhost`` or the
configured host names as subject alternative names).

TLS version. gRPC's TLS stack (BoringSSL) negotiates TLS 1.3 with any current peer — the probe in
``tests/gateway/test_tls.py`` reads ``ssl_tls_version = TLSv1.3`` from the auth context — but grpcio
1.85's Python API has no way to set a minimum version: ``grpc.ssl_server_credentials`` and
``grpc.ssl_channel_credentials`` take no version argument and no channel option sets one (upstream
pull requests to add ``minimum_tls_version`` are still open). A TLS 1.2 client can therefore complete
the handshake, so jgx enforces the floor where it can: :func:`peer_identity` refuses any call whose
auth context does not report TLS 1.3, before the request is read (``require_tls13``, on by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

import grpc

from gateway.errors import ReasonCode, TransportError
from gateway.pki import NODE_URI_PREFIX, node_id_from_certificate

__all__ = [
    "TLS_1_3",
    "AuthContextSource",
    "PeerIdentity",
    "channel_credentials",
    "peer_identity",
    "peer_node_id",
    "server_credentials",
]

TLS_1_3: Final = "TLSv1.3"


def server_credentials(node_cert: bytes, node_key: bytes, ca_cert: bytes) -> grpc.ServerCredentials:
    """Server credentials that present this node's certificate and require a CA-issued client certificate."""
    return grpc.ssl_server_credentials(
        [(node_key, node_cert)], root_certificates=ca_cert, require_client_auth=True
    )


def channel_credentials(node_cert: bytes, node_key: bytes, ca_cert: bytes) -> grpc.ChannelCredentials:
    """Channel credentials that present this node's certificate and trust only the federation's CA."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca_cert, private_key=node_key, certificate_chain=node_cert
    )


class AuthContextSource(Protocol):
    """What step 1 reads of a call: its TLS auth context (a grpc.aio servicer context offers it)."""

    def auth_context(self) -> Mapping[str, Iterable[bytes]]: ...


@dataclass(frozen=True, slots=True)
class PeerIdentity:
    """Who is on the other end of a call: the node its certificate names, and the TLS version used."""

    node_id: str
    tls_version: str


def _first(auth: Mapping[str, Iterable[bytes]], name: str) -> bytes | None:
    return next(iter(auth.get(name, ())), None)


def peer_identity(auth: Mapping[str, Iterable[bytes]], *, require_tls13: bool = True) -> PeerIdentity:
    """The peer's identity from a gRPC auth context; IDENTITY_MISMATCH when it cannot be established."""
    # (1) a certificate must have been presented and verified by the TLS layer
    pem = _first(auth, "x509_pem_cert")
    if _first(auth, "transport_security_type") != b"ssl" or pem is None:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH, "对端未出示客户端证书 / the peer presented no client certificate"
        )
    # (2) the protocol version floor gRPC cannot set for us
    version = (_first(auth, "ssl_tls_version") or b"").decode("ascii", "replace")
    if require_tls13 and version != TLS_1_3:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            f"连接须使用 TLS 1.3 / the connection must use TLS 1.3, not {version or 'an unknown version'}",
        )
    # (3) the one node the certificate names; gRPC's own reading of the URI SAN must agree
    node_id = node_id_from_certificate(pem)
    uris = [uri.decode("utf-8", "replace") for uri in auth.get("peer_uri", ())]
    named = {uri.removeprefix(NODE_URI_PREFIX) for uri in uris if uri.startswith(NODE_URI_PREFIX)}
    if named and named != {node_id}:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH, f"证书身份不一致 / certificate names {sorted(named)}, not {node_id}"
        )
    return PeerIdentity(node_id, version)


def peer_node_id(context: AuthContextSource, *, require_tls13: bool = True) -> str:
    """The node id of a call's peer, read in a (grpc.aio) servicer from ``context.auth_context()``."""
    return peer_identity(context.auth_context(), require_tls13=require_tls13).node_id
