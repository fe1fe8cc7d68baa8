"""A certificate authority outside the federation, made on the spot, for the foreign-CA probe.

The suite presents a client certificate that names a trusted node (the hub) but is issued by a CA the
federation never registered. Its subject copies the federation CA's subject, as an impostor's would,
so only the signature chain tells them apart. Built with `cryptography` directly (not `gateway.pki`)
so the probe does not depend on how the federation issues its own certificates.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conformance.transport import TlsMaterial

__all__ = ["foreign_ca", "foreign_identity"]

_NODE_URI = "urn:jgx:node:"
# As long as the federation's own node certificates, so that only the issuer can make the difference.
_LIFETIME = timedelta(days=365)


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def foreign_ca(now: datetime, *, like: bytes | None = None) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) of a fresh CA; with `like`, it copies that CA certificate's subject."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = (
        x509.load_pem_x509_certificate(like).subject
        if like is not None
        else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jgx conformance foreign CA")])
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _pem(key)


def foreign_identity(
    node_id: str, federation_ca: bytes, *, now: datetime, ca: tuple[bytes, bytes] | None = None
) -> TlsMaterial:
    """A client identity naming `node_id`, issued by `ca` (default: a fresh foreign CA like the federation's).

    The server is still verified against `federation_ca`: only the client side is foreign.
    """
    ca_cert_pem, ca_key_pem = ca or foreign_ca(now, like=federation_ca)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the foreign CA key must be an EC key (foreign_ca makes P-256 keys)")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node_id)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(_NODE_URI + node_id)]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return TlsMaterial(federation_ca, cert.public_bytes(serialization.Encoding.PEM), _pem(key))
