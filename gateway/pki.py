"""The federation's internal PKI for mutual TLS: a CA, node certificates, the node id inside them.

Transport identity (DESIGN §2 step 1) is a certificate issued by the federation's CA that names exactly
one node: the subject alternative name ``urn:jgx:node:<node_id>`` (authoritative) and, for people
reading it, the common name ``<node_id>``. TLS keys are ECDSA P-256, which every TLS 1.3 stack speaks.
Signing keys for envelopes are separate (`gateway.keys`); a certificate says who is on the other end of
a connection, the trust configuration says whose signatures count.

Pure: PEM in, PEM out; the caller passes the time.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.errors import ReasonCode, TransportError

__all__ = [
    "BACKDATE",
    "NODE_URI_PREFIX",
    "create_ca",
    "issue_node_certificate",
    "load_certificate",
    "node_id_from_certificate",
]

NODE_URI_PREFIX: Final = "urn:jgx:node:"
BACKDATE: Final = timedelta(minutes=5)
"""Certificates start this long before ``now``, so a peer whose clock is a little behind accepts them."""
_ORGANISATION: Final = x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jgx 监管交换")
NODE_ID: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")  # as in gateway/trust.schema.json


def _check_node_id(node_id: str) -> None:
    if not NODE_ID.match(node_id):
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            f"节点标识不合法 / node id {node_id!r} must match {NODE_ID.pattern}",
        )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_certificate(data: bytes) -> x509.Certificate:
    """Parse a PEM or DER certificate; IDENTITY_MISMATCH when it is not one."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise TransportError(ReasonCode.IDENTITY_MISMATCH, "无法解析证书 / not an X.509 certificate") from exc


def create_ca(name: str, now: datetime, days: int = 3650) -> tuple[bytes, bytes]:
    """A self-signed CA for the federation: ``(cert_pem, key_pem)``, valid ``days`` from ``now``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name), _ORGANISATION])
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _alternative_names(node_id: str, hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(NODE_URI_PREFIX + node_id)]
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def issue_node_certificate(
    ca_cert: bytes,
    ca_key: bytes,
    node_id: str,
    hosts: Sequence[str] = ("127.0.0.1", "localhost"),
    *,
    now: datetime,
    days: int = 397,
) -> tuple[bytes, bytes]:
    """A TLS certificate for ``node_id`` (client and server), signed by the CA: ``(cert_pem, key_pem)``."""
    _check_node_id(node_id)
    issuer = load_certificate(ca_cert)
    try:
        signer = serialization.load_pem_private_key(ca_key, password=None)
    except (ValueError, TypeError) as exc:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH, "无法读取 CA 私钥 / the CA key is not an unencrypted PEM key"
        ) from exc
    if not isinstance(signer, ec.EllipticCurvePrivateKey):
        raise TransportError(ReasonCode.IDENTITY_MISMATCH, "CA 私钥不是 ECDSA / the CA key is not ECDSA")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node_id), _ORGANISATION])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + timedelta(days=days), issuer.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(_alternative_names(node_id, hosts)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
        .sign(signer, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def node_id_from_certificate(cert: bytes | x509.Certificate) -> str:
    """The node a certificate names (its ``urn:jgx:node:`` SAN); IDENTITY_MISMATCH if it names none or two."""
    certificate = cert if isinstance(cert, x509.Certificate) else load_certificate(cert)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    node_ids = sorted({uri.removeprefix(NODE_URI_PREFIX) for uri in uris if uri.startswith(NODE_URI_PREFIX)})
    if len(node_ids) != 1:
        found = ", ".join(node_ids) or "none"
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            f"证书须恰好指明一个节点 / the certificate must name exactly one node ({found})",
        )
    node_id = node_ids[0]
    _check_node_id(node_id)
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common_names and common_names[0].value != node_id:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            f"证书通用名与节点标识不符 / common name {common_names[0].value!r} differs from node {node_id!r}",
        )
    return node_id
