"""Signing, threshold verification and rotation of the trust configuration (DESIGN §4).

Rules, after TUF's root metadata:
- the document travels as a DSSE JSON envelope with payloadType ``application/vnd.jgx.trust.v1+json``;
- a document counts only with a threshold of distinct, unrevoked, currently valid admin keys *of its
  own* signing it; version N+1 must in addition carry a threshold of version N's admin keys, so whoever
  controlled N agreed to hand over;
- a version not above the current one is a rollback (an identical re-load is not); versions are applied
  one at a time; an expired document is refused (freeze attack).

Verification steps are numbered in `load_trust` as in sigstore's verifier.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway._json import loads_strict
from gateway.dsse import TRUST_TYPE, json_envelope_parts, pae, sign_json_envelope
from gateway.errors import ReasonCode, TrustError, VerificationError
from gateway.keys import PrivateKey
from gateway.trust import KeyRecord, TrustConfig

__all__ = [
    "SignatureCount",
    "add_trust_signature",
    "count_signatures",
    "load_trust",
    "load_trust_after",
    "sign_trust",
]


@dataclass(frozen=True, slots=True)
class SignatureCount:
    """Which of a set of admin keys validly signed a document, against which threshold."""

    signed_by: frozenset[str]
    threshold: int
    keys: int

    @property
    def met(self) -> bool:
        """True when enough distinct keys signed."""
        return len(self.signed_by) >= self.threshold

    def describe(self) -> str:
        """``2 of 3 admin keys signed (threshold 2)``."""
        return f"{len(self.signed_by)} of {self.keys} admin keys signed (threshold {self.threshold})"


def sign_trust(config: TrustConfig, keys: Sequence[PrivateKey]) -> bytes:
    """The signed DSSE JSON envelope (UTF-8 bytes) of `config`, signed by each of `keys`."""
    envelope = sign_json_envelope(config.to_json_bytes(), TRUST_TYPE, keys)
    return json.dumps(envelope, indent=2).encode("utf-8") + b"\n"


def add_trust_signature(signed: bytes, key: PrivateKey) -> bytes:
    """Add `key`'s signature to an already signed document, leaving its payload untouched."""
    payload, payload_type, _ = _parts(signed)
    extra = sign_json_envelope(payload, payload_type, [key])["signatures"][0]
    doc = loads_strict(signed, what="trust envelope")
    doc["signatures"] = [s for s in doc["signatures"] if s.get("keyid") != key.key_id] + [extra]
    return json.dumps(doc, indent=2).encode("utf-8") + b"\n"


def count_signatures(
    payload: bytes,
    signatures: Iterable[tuple[str, bytes]],
    keys: Sequence[KeyRecord],
    threshold: int,
    now: datetime,
) -> SignatureCount:
    """Count distinct keys of `keys` (unrevoked, valid at `now`) with a valid signature over the payload."""
    by_id = {k.key_id: k for k in keys if not k.revoked and k.valid_at(now)}
    signed = pae(TRUST_TYPE, payload)
    good = frozenset(
        key_id
        for key_id, sig in signatures
        if key_id in by_id and by_id[key_id].public_key.verify(sig, signed)
    )
    return SignatureCount(good, threshold, len(keys))


def _parts(signed: bytes) -> tuple[bytes, str, list[tuple[str, bytes]]]:
    try:
        payload, payload_type, signatures = json_envelope_parts(loads_strict(signed, what="trust envelope"))
    except VerificationError as exc:
        raise TrustError(ReasonCode.TRUST_INVALID, exc.detail) from None
    if payload_type != TRUST_TYPE:
        raise TrustError(ReasonCode.TRUST_INVALID, f"payloadType {payload_type!r} is not {TRUST_TYPE}")
    return payload, payload_type, signatures


def _refuse_rollback(payload: bytes, previous: TrustConfig) -> None:
    """TRUST_ROLLBACK when ``payload`` (untrusted: read only to name the refusal) is an older version."""
    try:
        config = TrustConfig.from_json_bytes(payload)
    except TrustError:
        return
    if config.version <= previous.version and config.to_json() != previous.to_json():
        raise TrustError(
            ReasonCode.TRUST_ROLLBACK, f"version {config.version} is not above version {previous.version}"
        )


def load_trust_after(signed: bytes, *, last_used: bytes | None, now: datetime) -> TrustConfig:
    """The trust configuration a node may run with, given the signed document it ran with last.

    The same document (or the same version with more signatures) is fine; an older version is a
    TRUST_ROLLBACK; a newer one must be its successor: signed by a threshold of the last one's admins
    and of its own, one version up (TRUST_THRESHOLD_NOT_MET or TRUST_INVALID otherwise); and it must
    not have expired (TRUST_EXPIRED).
    """
    if last_used is None or last_used == signed:
        return load_trust(signed, now=now)
    previous = load_trust(last_used, now=now, check_expiry=False)
    return load_trust(signed, now=now, previous=previous)


def load_trust(
    signed: bytes, *, now: datetime, previous: TrustConfig | None = None, check_expiry: bool = True
) -> TrustConfig:
    """Verify a signed trust configuration and return it; `TrustError` says why it is refused.

    With `previous`, the document must be its successor (rotation rules above). Without it, the
    document is a root of trust the operator installed, and must carry its own threshold.
    `check_expiry=False` serves walking a chain of intermediate versions, of which only the last
    must be unexpired (as in TUF).
    """
    # (1) Shape of the envelope and its payload type.
    payload, _, signatures = _parts(signed)
    # (2) The previous version's admins must agree, checked before the new payload is parsed.
    if previous is not None:
        count = count_signatures(payload, signatures, previous.admin_keys, previous.admin_threshold, now)
        if not count.met:
            _refuse_rollback(payload, previous)  # an older version is named for what it is
            raise TrustError(
                ReasonCode.TRUST_THRESHOLD_NOT_MET, f"version {previous.version}'s admins: {count.describe()}"
            )
    # (3) Parse and check the document itself.
    config = TrustConfig.from_json_bytes(payload)
    # (4) Its own admins must sign it too.
    own = count_signatures(payload, signatures, config.admin_keys, config.admin_threshold, now)
    if not own.met:
        raise TrustError(
            ReasonCode.TRUST_THRESHOLD_NOT_MET, f"version {config.version}'s admins: {own.describe()}"
        )
    # (5) Rollback and sequence.
    if previous is not None:
        if config.version <= previous.version and config.to_json() != previous.to_json():
            raise TrustError(
                ReasonCode.TRUST_ROLLBACK, f"version {config.version} is not above version {previous.version}"
            )
        if config.version > previous.version + 1:
            raise TrustError(
                ReasonCode.TRUST_INVALID,
                f"version {config.version} skips version {previous.version + 1}; apply versions in order",
            )
    # (6) Freshness.
    if check_expiry and now >= config.expires_at:
        raise TrustError(
            ReasonCode.TRUST_EXPIRED,
            f"version {config.version} expired at {config.expires_at:%Y-%m-%dT%H:%M:%SZ}",
        )
    return config
