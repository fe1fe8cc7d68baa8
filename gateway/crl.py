"""Certificate revocation lists of the federation CA (RFC 5280 §5), and the check at step 1.

The CA operator revokes a node certificate by its serial number (`revoke`); the result is a CRL
signed by the CA, which every node loads (`load_crl`: signature and issuer checked against the CA it
trusts) and consults for each incoming call (`RevocationList.check`). A certificate on the list is
refused at DESIGN §2 step 1 with IDENTITY_MISMATCH and a detail naming the serial, the time and the
reason.

A CRL is *stale* once its ``nextUpdate`` has passed: the CA operator should have published a newer one.
What a node does then is its choice (``[tls] crl_stale`` in jgx.toml): ``keep`` (default) goes on
refusing what the stale list revokes and accepting the rest, so a late CRL never stops the federation;
``refuse`` refuses every client certificate until a fresh CRL arrives.

Pure: PEM in, values or PEM out; the caller passes the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.errors import ReasonCode, TransportError
from gateway.pki import BACKDATE, load_certificate, load_pem_or_der

__all__ = ["REASONS", "STALE_POLICIES", "Revocation", "RevocationList", "load_crl", "revoke", "sign_crl"]

#: Revocation reasons a CA operator may give, by their CLI names (RFC 5280 CRLReason).
REASONS: Final[Mapping[str, x509.ReasonFlags]] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key-compromise": x509.ReasonFlags.key_compromise,
    "superseded": x509.ReasonFlags.superseded,
    "cessation-of-operation": x509.ReasonFlags.cessation_of_operation,
    "affiliation-changed": x509.ReasonFlags.affiliation_changed,
}
STALE_POLICIES: Final = ("keep", "refuse")


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revoked certificate: its serial number, when and why."""

    serial: int
    revoked_at: datetime
    reason: str = "unspecified"


@dataclass(frozen=True)
class RevocationList:
    """A verified CRL of the federation CA."""

    number: int
    this_update: datetime
    next_update: datetime
    revoked: Mapping[int, Revocation] = field(default_factory=dict)

    def stale(self, now: datetime) -> bool:
        """True once ``nextUpdate`` has passed."""
        return now >= self.next_update

    def check(
        self, certificate: bytes | x509.Certificate, now: datetime, *, refuse_stale: bool = False
    ) -> None:
        """IDENTITY_MISMATCH when the certificate is revoked (or with ``refuse_stale`` the list is stale)."""
        cert = certificate if isinstance(certificate, x509.Certificate) else load_certificate(certificate)
        entry = self.revoked.get(cert.serial_number)
        if entry is not None:
            raise TransportError(
                ReasonCode.IDENTITY_MISMATCH,
                f"客户端证书已被吊销 / the client certificate was revoked: serial {entry.serial:x}, "
                f"at {entry.revoked_at:%Y-%m-%dT%H:%M:%SZ}, reason {entry.reason} (CRL #{self.number})",
            )
        if refuse_stale and self.stale(now):
            raise TransportError(
                ReasonCode.IDENTITY_MISMATCH,
                f"证书吊销列表已过期，暂拒绝所有客户端证书 / the CRL is stale (next update was due "
                f"{self.next_update:%Y-%m-%dT%H:%M:%SZ}); client certificates are refused until a fresh one",
            )


def _reason_name(flag: x509.ReasonFlags) -> str:
    return next((name for name, value in REASONS.items() if value is flag), flag.value)


def load_crl(data: bytes, ca_cert: bytes) -> RevocationList:
    """Parse a PEM or DER CRL and check it is the CA's: issuer and signature. IDENTITY_MISMATCH if not."""
    refusal = "无法解析证书吊销列表 / not a certificate revocation list"
    crl = load_pem_or_der(data, x509.load_pem_x509_crl, x509.load_der_x509_crl, refusal)
    authority = load_certificate(ca_cert)
    public = authority.public_key()
    if crl.issuer != authority.subject or not isinstance(public, ec.EllipticCurvePublicKey):
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            f"吊销列表不是本 CA 签发的 / the CRL is issued by {crl.issuer.rfc4514_string()}, "
            f"not by the CA {authority.subject.rfc4514_string()}",
        )
    if not crl.is_signature_valid(public):
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH, "吊销列表签名无效 / the CRL's signature does not verify"
        )
    if crl.next_update_utc is None:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH, "吊销列表缺少 nextUpdate / the CRL has no nextUpdate"
        )
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        number = 0
    revoked: dict[int, Revocation] = {}
    for entry in crl:
        try:
            flag = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            flag = x509.ReasonFlags.unspecified
        revoked[entry.serial_number] = Revocation(
            entry.serial_number, entry.revocation_date_utc, _reason_name(flag)
        )
    return RevocationList(number, crl.last_update_utc, crl.next_update_utc, revoked)


def sign_crl(
    ca_cert: bytes,
    ca_key: bytes,
    revoked: Iterable[Revocation],
    *,
    number: int,
    now: datetime,
    days: int = 7,
) -> bytes:
    """A CRL (PEM) signed by the CA listing ``revoked``, valid from ``now`` for ``days``."""
    authority = load_certificate(ca_cert)
    try:
        signer = serialization.load_pem_private_key(ca_key, password=None)
    except (ValueError, TypeError) as exc:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH, "无法读取 CA 私钥 / the CA key is not an unencrypted PEM key"
        ) from exc
    if not isinstance(signer, ec.EllipticCurvePrivateKey) or signer.public_key() != authority.public_key():
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            "CA 私钥与 CA 证书不匹配 / the CA key does not belong to the CA certificate",
        )
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.subject)
        .last_update(now - BACKDATE)
        .next_update(now + timedelta(days=days))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    )
    for entry in sorted(revoked, key=lambda r: r.serial):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
            .add_extension(
                x509.CRLReason(REASONS.get(entry.reason, x509.ReasonFlags.unspecified)), critical=False
            )
            .build()
        )
    return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def revoke(
    ca_cert: bytes,
    ca_key: bytes,
    current: bytes | None,
    serials: Iterable[int],
    *,
    reason: str = "unspecified",
    now: datetime,
    days: int = 7,
) -> bytes:
    """The next CRL: ``current``'s entries plus ``serials`` revoked at ``now``, numbered one higher.

    With no serials this refreshes the list (a new ``nextUpdate``). A serial already revoked keeps its
    first revocation.
    """
    if reason not in REASONS:
        raise TransportError(
            ReasonCode.IDENTITY_MISMATCH,
            f"未知的吊销原因 / unknown reason {reason!r}; one of {', '.join(REASONS)}",
        )
    previous = load_crl(current, ca_cert) if current is not None else RevocationList(0, now, now)
    entries = dict(previous.revoked)
    for serial in serials:
        entries.setdefault(serial, Revocation(serial, now.replace(microsecond=0), reason))
    return sign_crl(ca_cert, ca_key, entries.values(), number=previous.number + 1, now=now, days=days)
