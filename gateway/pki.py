"""The federation's internal PKI for mutual TLS: a CA, node certificates, the node id inside them.

Transport identity (DESIGN §2 step 1) is a certificate issued by the federation's CA that names exactly
one node: the subject alternative name ``urn:jgx:node:<node_id>`` (authoritative) and, for people
reading it, the common name ``<node_id>``. TLS keys are ECDSA P-256, which every TLS 1.3 stack speaks.
Signing keys for envelopes are separate (`gateway.keys`); a certificate says who is on the other end of
a connection, the trust configuration says whose signatures count.

Nobody shares a private key: a department makes its key and a certificate signing request
(:func:`create_csr`), the CA operator checks it and issues the certificate (:func:`issue_certificate`),
deciding every extension itself. Revocation lists are `gateway.crl`.

Pure: PEM in, PEM out; the caller passes the time.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.errors import ReasonCode, TransportError

__all__ = [
    "BACKDATE",
    "NODE_URI_PREFIX",
    "NodeRequest",
    "create_ca",
    "create_csr",
    "issue_certificate",
    "issue_node_certificate",
    "load_certificate",
    "load_pem_or_der",
    "node_id_from_certificate",
    "read_csr",
]

_Loaded = TypeVar("_Loaded")

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
    pem, der = x509.load_pem_x509_certificate, x509.load_der_x509_certificate
    return load_pem_or_der(data, pem, der, "无法解析证书 / not an X.509 certificate")


def load_pem_or_der(
    data: bytes, pem: Callable[[bytes], _Loaded], der: Callable[[bytes], _Loaded], refusal: str
) -> _Loaded:
    """An X.509 object (certificate, CSR, CRL) from PEM or DER; IDENTITY_MISMATCH with `refusal` if not."""
    try:
        return pem(data) if data.lstrip().startswith(b"-----BEGIN") else der(data)
    except ValueError as exc:
        raise TransportError(ReasonCode.IDENTITY_MISMATCH, refusal) from exc


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


def _signer(ca_key: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        signer = serialization.load_pem_private_key(ca_key, password=None)
    except (ValueError, TypeError) as exc:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH, "无法读取 CA 私钥 / the CA key is not an unencrypted PEM key"
        ) from exc
    if not isinstance(signer, ec.EllipticCurvePrivateKey):
        raise TransportError(ReasonCode.IDENTITY_MISMATCH, "CA 私钥不是 ECDSA / the CA key is not ECDSA")
    return signer


def create_csr(node_id: str, hosts: Sequence[str] = ("127.0.0.1", "localhost")) -> tuple[bytes, bytes]:
    """A new P-256 key and a CSR naming ``node_id`` (CN and SAN URI) and ``hosts``: ``(csr_pem, key_pem)``.

    The department runs this; only the CSR leaves its machine, the key never does.
    """
    _check_node_id(node_id)
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node_id), _ORGANISATION]))
        .add_extension(x509.SubjectAlternativeName(_alternative_names(node_id, hosts)), critical=False)
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM), _key_pem(key)


@dataclass(frozen=True, slots=True)
class NodeRequest:
    """A checked certificate signing request: the node it names, the hosts it asks for, its key."""

    node_id: str
    hosts: tuple[str, ...]
    request: x509.CertificateSigningRequest


def read_csr(data: bytes) -> NodeRequest:
    """A PEM or DER CSR whose signature verifies and that names exactly one node; else IDENTITY_MISMATCH."""
    csr = load_pem_or_der(
        data,
        x509.load_pem_x509_csr,
        x509.load_der_x509_csr,
        "无法解析证书签名请求 / not a certificate signing request (CSR)",
    )
    # (1) proof of possession: the requester holds the key it asks a certificate for
    if not csr.is_signature_valid:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            "证书签名请求的签名无效（可能被篡改） / the CSR's signature does not verify (tampered?)",
        )
    public = csr.public_key()
    if not (
        (isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in ("secp256r1", "secp384r1"))
        or (isinstance(public, rsa.RSAPublicKey) and public.key_size >= 2048)
    ):
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            "证书签名请求的密钥须为 ECDSA P-256/P-384 或 RSA ≥ 2048 / the CSR key must be ECDSA P-256/P-384 "
            "or RSA of at least 2048 bits",
        )
    # (2) the one node it names, read by the same rules as a certificate's
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = x509.SubjectAlternativeName([])
    except ValueError as exc:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH, f"CSR 扩展无效 / bad CSR extensions: {exc}"
        ) from exc
    node_id = _one_node(san.get_values_for_type(x509.UniformResourceIdentifier), csr.subject)
    hosts = (
        *san.get_values_for_type(x509.DNSName),
        *(str(ip) for ip in san.get_values_for_type(x509.IPAddress)),
    )
    return NodeRequest(node_id, tuple(hosts), csr)


def issue_certificate(
    ca_cert: bytes, ca_key: bytes, csr: bytes | NodeRequest, *, now: datetime, days: int = 397
) -> bytes:
    """The CA operator's step: a certificate for the node a CSR names, signed by the CA (PEM).

    The CA decides every extension; of the request only the subject's node id, its host names and its
    public key are taken. The serial number is random (RFC 5280 §4.1.2.2, 159 bits).
    """
    request = csr if isinstance(csr, NodeRequest) else read_csr(csr)
    issuer, signer = load_certificate(ca_cert), _signer(ca_key)
    public = request.request.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise TransportError(ReasonCode.IDENTITY_MISMATCH, "CSR 密钥类型不支持 / unsupported CSR key type")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, request.node_id), _ORGANISATION])
    try:
        authority = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
            issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        )
    except x509.ExtensionNotFound:
        authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + timedelta(days=days), issuer.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(public, rsa.RSAPublicKey),
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
        .add_extension(
            x509.SubjectAlternativeName(_alternative_names(request.node_id, request.hosts)), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(authority, critical=False)
        .sign(signer, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def issue_node_certificate(
    ca_cert: bytes,
    ca_key: bytes,
    node_id: str,
    hosts: Sequence[str] = ("127.0.0.1", "localhost"),
    *,
    now: datetime,
    days: int = 397,
) -> tuple[bytes, bytes]:
    """Key and certificate in one step, for whoever holds the CA key (tests, the demo, the CA's own node).

    The same path as a department's: a CSR made here, issued by :func:`issue_certificate`.
    """
    csr, key = create_csr(node_id, hosts)
    return issue_certificate(ca_cert, ca_key, csr, now=now, days=days), key


def _one_node(uris: Sequence[str], subject: x509.Name) -> str:
    node_ids = sorted({uri.removeprefix(NODE_URI_PREFIX) for uri in uris if uri.startswith(NODE_URI_PREFIX)})
    if len(node_ids) != 1:
        found = ", ".join(node_ids) or "none"
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            f"证书须恰好指明一个节点 / the certificate must name exactly one node ({found})",
        )
    node_id = node_ids[0]
    _check_node_id(node_id)
    common_names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common_names and common_names[0].value != node_id:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            f"证书通用名与节点标识不符 / common name {common_names[0].value!r} differs from node {node_id!r}",
        )
    return node_id


def node_id_from_certificate(cert: bytes | x509.Certificate) -> str:
    """The node a certificate names (its ``urn:jgx:node:`` SAN); IDENTITY_MISMATCH if it names none or two."""
    certificate = cert if isinstance(cert, x509.Certificate) else load_certificate(cert)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    return _one_node(uris, certificate.subject)
