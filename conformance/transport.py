"""How the suite reaches an adapter: mutual TLS with the federation's PKI, or plaintext for development.

The suite connects as the hub with the hub's node certificate (`gateway.tls.channel_credentials`). The
transport checks try the doors a conforming adapter keeps shut (plaintext, TLS without a client
certificate) and read the certificate the adapter presents, which must be issued by the federation's
CA and name the department's node (`gateway.pki.node_id_from_certificate`).
"""

from __future__ import annotations

import asyncio
import ssl
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gateway.errors import JgxError
from gateway.pki import load_certificate, node_id_from_certificate
from gateway.tls import channel_credentials

__all__ = ["TlsMaterial", "certificate_problems", "open_channel", "probe_connect", "read_server_certificate"]

_OPTIONS = [("grpc.max_send_message_length", 16 << 20), ("grpc.max_receive_message_length", 16 << 20)]


@dataclass(frozen=True, slots=True)
class TlsMaterial:
    """The hub's TLS client certificate and key and the federation's CA certificate (PEM)."""

    ca_cert: bytes
    client_cert: bytes
    client_key: bytes


def open_channel(target: str, tls: TlsMaterial | None) -> grpc.aio.Channel:
    """A channel to the adapter: mutual TLS when `tls` is given, plaintext otherwise."""
    if tls is None:
        return grpc.aio.insecure_channel(target, options=_OPTIONS)
    credentials = channel_credentials(tls.client_cert, tls.client_key, tls.ca_cert)
    return grpc.aio.secure_channel(target, credentials, options=_OPTIONS)


async def probe_connect(
    target: str, credentials: grpc.ChannelCredentials | None, *, timeout: float
) -> dict[str, Any]:
    """Try a Describe over plaintext (`credentials` None) or the given credentials; what happened."""
    channel = (
        grpc.aio.insecure_channel(target)
        if credentials is None
        else grpc.aio.secure_channel(target, credentials)
    )
    call = channel.unary_unary(
        "/jgx.adapter.v1.Adapter/Describe", request_serializer=bytes, response_deserializer=bytes
    )
    try:
        await call(b"", timeout=timeout)
    except grpc.aio.AioRpcError as exc:
        return {"status": exc.code().name, "detail": (exc.details() or "")[:300]}
    finally:
        await channel.close(grace=None)
    return {"status": "OK", "detail": "the adapter answered"}


def no_client_cert_credentials(ca_cert: bytes) -> grpc.ChannelCredentials:
    """TLS that trusts the CA but presents no client certificate."""
    return grpc.ssl_channel_credentials(root_certificates=ca_cert)


async def read_server_certificate(
    host: str, port: int, tls: TlsMaterial, *, timeout: float
) -> dict[str, Any]:
    """Complete a TLS handshake (ALPN h2, with the hub's client certificate); the peer's certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=tls.ca_cert.decode("ascii"))
    context.set_alpn_protocols(["h2"])
    with tempfile.TemporaryDirectory(prefix="jgx-conf-") as tmp:
        cert_path, key_path = Path(tmp) / "client.pem", Path(tmp) / "client.key"
        cert_path.write_bytes(tls.client_cert)
        key_path.write_bytes(tls.client_key)
        key_path.chmod(0o600)
        context.load_cert_chain(cert_path, key_path)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
    except (OSError, ssl.SSLError, TimeoutError) as exc:
        return {"status": "FAILED", "detail": str(exc)[:300]}
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        version = ssl_object.version() if ssl_object is not None else ""
    finally:
        # Abort rather than close: a graceful TLS shutdown would wait on the server's close_notify.
        writer.transport.abort()
        del reader
    if der is None:
        return {"status": "FAILED", "detail": "no peer certificate"}
    pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode("ascii")
    return {
        "status": "OK",
        "certificatePem": pem,
        "tlsVersion": version or "",
        "handshakeMs": round((time.perf_counter() - started) * 1000, 1),
    }


def certificate_problems(
    cert_pem: bytes, ca_cert: bytes | None, *, node_id: str, now: datetime
) -> list[tuple[str, str]]:
    """What is wrong with an adapter's server certificate: issuer, validity, the node it names."""
    problems: list[tuple[str, str]] = []
    try:
        cert = load_certificate(cert_pem)
        named = node_id_from_certificate(cert)
    except JgxError as exc:
        return [("证书无法识别节点", f"the certificate names no node: {exc.detail}")]
    if named != node_id:
        problems.append((f"证书指明节点 {named}", f"the certificate names {named!r}, not {node_id!r}"))
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        problems.append(("证书不在有效期", "the certificate is not valid at the time of the run"))
    if ca_cert is None:
        problems.append(("缺少 CA 证书", "no CA certificate to check the issuer against"))
    else:
        try:
            cert.verify_directly_issued_by(load_certificate(ca_cert))
        except (ValueError, TypeError, JgxError) as exc:
            problems.append(
                ("证书并非由联盟 CA 签发", f"the certificate is not issued by the federation's CA: {exc}")
            )
        except Exception as exc:  # noqa: BLE001 - cryptography raises InvalidSignature, not a ValueError
            problems.append(
                ("证书签名无效", f"the certificate's signature does not verify: {type(exc).__name__}")
            )
    return problems
