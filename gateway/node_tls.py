"""A node's TLS files on disk, re-read while it runs: certificate rotation and CRLs without a restart.

`NodeTls` holds the node certificate, its key, the federation CA and (optionally) the CA's revocation
list, as read from the paths in jgx.toml. At most every ``reload_seconds`` it looks at the files'
stamps (mtime, size, inode) and re-reads what changed:

- **Certificate rotation.** The gRPC server uses dynamic credentials
  (``grpc.dynamic_ssl_server_credentials``): gRPC asks `NodeTls` before each new TLS handshake whether
  the certificate changed, so new connections get the new certificate while connections already open
  keep theirs and go on working. A replacement is taken only when it is whole — the key matches the
  certificate, the certificate names this node, chains to the CA file and is not expired — so writing
  ``node.crt`` and ``node.key`` one after the other never serves a mismatched pair: until both are in
  place the previous pair stays (logged once as ``tls.reload_refused``).
  The delivery worker's outgoing channels are reopened with the new certificate too
  (:meth:`NodeTls.channel_credentials`).
- **Revocation.** :meth:`NodeTls.peer_node` is the server's step 1: the peer's identity (`gateway.tls`)
  and then the CRL (`gateway.crl`). A CRL that does not verify against the CA is not taken; the
  previous one stays in force.

This is the I/O shell around `gateway.pki`, `gateway.crl` and `gateway.tls`, which stay pure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc
import structlog
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from gateway.crl import STALE_POLICIES, RevocationList, load_crl
from gateway.errors import JgxError, ReasonCode, os_reason
from gateway.pki import load_certificate, node_id_from_certificate
from gateway.tls import AuthContextSource, channel_credentials, peer_identity

__all__ = ["NodeTls", "TlsFilesError"]

_log = structlog.get_logger("jgx.tls")
_Stamp = tuple[tuple[int, int, int] | None, ...]


class TlsFilesError(JgxError):
    """The node's TLS files cannot be used: unreadable, mismatched, expired, or not of this node's CA."""

    def __init__(self, zh: str, en: str) -> None:
        self.detail_zh, self.detail_en = zh, en  # each line of the CLI's failure gets its own (in_languages)
        super().__init__(ReasonCode.MALFORMED, f"{zh} / {en}")


@dataclass(frozen=True, slots=True)
class _Identity:
    cert: bytes
    key: bytes
    ca: bytes
    certificate: x509.Certificate


def _stamp(*paths: Path) -> _Stamp:
    stamps: list[tuple[int, int, int] | None] = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            stamps.append(None)
        else:
            stamps.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(stamps)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        zh, en = os_reason(exc)
        raise TlsFilesError(f"无法读取 {path}: {zh}", f"cannot read {path}: {en}") from exc


def _identity(node_id: str, cert_path: Path, key_path: Path, ca_path: Path, now: datetime) -> _Identity:
    """Read and check the certificate, key and CA as one unit."""
    cert, key, ca = _read(cert_path), _read(key_path), _read(ca_path)
    try:
        certificate = load_certificate(cert)
        private = serialization.load_pem_private_key(key, password=None)
        authorities = x509.load_pem_x509_certificates(ca)
        named = node_id_from_certificate(certificate)
    except (JgxError, ValueError, TypeError) as exc:
        raise TlsFilesError(
            "TLS 证书、密钥或 CA 文件无法解析", f"the TLS certificate, key or CA is unreadable: {exc}"
        ) from exc
    if private.public_key() != certificate.public_key():
        raise TlsFilesError(f"{key_path} 与 {cert_path} 不匹配", f"{key_path} is not the key of {cert_path}")
    if named != node_id:
        raise TlsFilesError(
            f"证书属于节点 {named}，不是 {node_id}", f"the certificate names {named}, not {node_id}"
        )
    if not any(_issued_by(certificate, authority) for authority in authorities):
        raise TlsFilesError(
            f"{cert_path} 不是由 {ca_path} 签发的", f"{cert_path} is not issued by the CA in {ca_path}"
        )
    if now >= certificate.not_valid_after_utc:
        raise TlsFilesError(
            f"证书已于 {certificate.not_valid_after_utc:%Y-%m-%d} 过期",
            f"the certificate expired at {certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}",
        )
    return _Identity(cert, key, ca, certificate)


def _issued_by(certificate: x509.Certificate, authority: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(authority)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


class NodeTls:
    """The node's TLS certificate, key, CA and CRL, re-read from disk when they change."""

    def __init__(
        self,
        node_id: str,
        cert: Path,
        key: Path,
        ca: Path,
        crl: Path | None = None,
        *,
        crl_stale: str = "keep",
        reload_seconds: float = 10.0,
        require_tls13: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Read the files now; `TlsFilesError` when they cannot serve (the node must not start)."""
        if crl_stale not in STALE_POLICIES:
            raise TlsFilesError("crl_stale 取值无效", f"crl_stale must be one of {', '.join(STALE_POLICIES)}")
        self.node_id, self.paths, self.crl_path = node_id, (cert, key, ca), crl
        self.crl_stale, self.reload_seconds, self.require_tls13 = crl_stale, reload_seconds, require_tls13
        self.clock = clock
        self._lock = threading.Lock()
        self._identity = _identity(node_id, cert, key, ca, clock())
        self._identity_stamp = _stamp(*self.paths)
        self._crl: RevocationList | None = None
        self._crl_stamp: _Stamp = ()
        if crl is not None:
            self._crl = self._load_crl(crl, self._identity.ca)
            self._crl_stamp = _stamp(crl)
        self._refused: set[_Stamp] = set()  # stamps whose content was refused: logged once, not re-read
        self._stale_warned: int | None = None
        self._generation = self._served = 0
        self._client: tuple[int, grpc.ChannelCredentials] | None = None
        self._checked = time.monotonic()

    @staticmethod
    def _load_crl(path: Path, ca: bytes) -> RevocationList:
        try:
            return load_crl(_read(path), ca)
        except JgxError as exc:
            raise TlsFilesError(
                f"吊销列表 {path} 不可用: {exc.detail}", f"the CRL {path} is not usable: {exc.detail}"
            ) from exc

    # -- what the server and the delivery worker use -------------------------------------------------

    def server_credentials(self) -> grpc.ServerCredentials:
        """Dynamic server credentials: each new handshake uses the certificate on disk at that time."""
        return grpc.dynamic_ssl_server_credentials(
            self._configuration(self._identity),
            self._fetch,  # type: ignore[arg-type]  # the stubs miss that None means "no change"
            require_client_authentication=True,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """Client credentials (delivery to peers) from the current files; one object until they change."""
        self.refresh()
        with self._lock:
            if self._client is None or self._client[0] != self._generation:
                identity = self._identity
                self._client = (
                    self._generation,
                    channel_credentials(identity.cert, identity.key, identity.ca),
                )
            return self._client[1]

    def peer_node(self, context: AuthContextSource) -> str:
        """Step 1 of the pipeline: the peer's node id from its certificate, unless the CRL revokes it."""
        auth = context.auth_context()
        identity = peer_identity(auth, require_tls13=self.require_tls13)
        self.refresh()
        crl = self._crl
        if crl is not None:
            now = self.clock()
            if crl.stale(now) and self._stale_warned != crl.number:
                self._stale_warned = crl.number
                _log.warning("tls.crl_stale", crl=str(self.crl_path), number=crl.number,
                             next_update=crl.next_update.isoformat(), policy=self.crl_stale)  # fmt: skip
            pem = next(iter(auth.get("x509_pem_cert", ())))
            crl.check(pem, now, refuse_stale=self.crl_stale == "refuse")
        return identity.node_id

    # -- reloading -----------------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> bool:
        """Re-read files whose stamp changed (at most every ``reload_seconds``); True if one was taken."""
        now = time.monotonic()
        if not force and now - self._checked < self.reload_seconds:
            return False
        with self._lock:
            self._checked = now
            return self._refresh_identity() | self._refresh_crl()

    def _refresh_identity(self) -> bool:
        stamp = _stamp(*self.paths)
        if stamp == self._identity_stamp or stamp in self._refused:
            return False
        try:
            identity = _identity(self.node_id, *self.paths, self.clock())
        except TlsFilesError as exc:
            self._refused.add(stamp)
            _log.warning(
                "tls.reload_refused", detail=exc.detail, kept=f"{self._identity.certificate.serial_number:x}"
            )
            return False
        self._identity, self._identity_stamp = identity, stamp
        self._generation += 1
        _log.info("tls.reloaded", serial=f"{identity.certificate.serial_number:x}",
                  not_after=identity.certificate.not_valid_after_utc.isoformat())  # fmt: skip
        return True

    def _refresh_crl(self) -> bool:
        if self.crl_path is None:
            return False
        stamp = _stamp(self.crl_path)
        if stamp == self._crl_stamp or stamp in self._refused:
            return False
        try:
            crl = self._load_crl(self.crl_path, self._identity.ca)
        except TlsFilesError as exc:
            self._refused.add(stamp)
            _log.warning("tls.crl_refused", detail=exc.detail, kept=self._crl.number if self._crl else None)
            return False
        self._crl, self._crl_stamp = crl, stamp
        _log.info("tls.crl_reloaded", number=crl.number, revoked=len(crl.revoked))
        return True

    @staticmethod
    def _configuration(identity: _Identity) -> grpc.ServerCertificateConfiguration:
        return grpc.ssl_server_certificate_configuration([(identity.key, identity.cert)], identity.ca)

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        # gRPC calls this before every handshake; None keeps the current certificate. It must not raise.
        try:
            self.refresh()
            with self._lock:
                if self._served == self._generation:
                    return None
                self._served = self._generation
                return self._configuration(self._identity)
        except Exception:  # noqa: BLE001 - an error here would abort handshakes; keep serving what we have
            _log.exception("tls.fetch_failed")
            return None
