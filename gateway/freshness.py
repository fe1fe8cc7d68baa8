"""Expiry, audience and replay checks on an opened message (DESIGN §2 step 6). Pure; time passed in.

A message is fresh when ``issued_at - skew <= now <= expires_at``, it is addressed to this node (or to
a node this gateway receives for), and its (sender, message_id) has not been seen. Seen ids need only be
remembered until ``expires_at + skew``: after that the message is refused as expired anyway, which
bounds the state. The seen-id state sits behind `SeenIds`; the gateway's store records ids in the
same transaction as the log leaf and its unique key is the final word across replicas.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from google.protobuf.timestamp_pb2 import Timestamp

from gateway.errors import ReasonCode, VerificationError
from gateway.pb.jgx.exchange.v1 import exchange_pb2

__all__ = ["DEFAULT_SKEW", "MemorySeenIds", "SeenIds", "check_fresh", "check_replay", "remember_until"]

DEFAULT_SKEW: Final = timedelta(minutes=5)


class SeenIds(Protocol):
    """Which (sender, message_id) pairs a node has already accepted or refused."""

    def seen(self, sender: str, message_id: str, *, now: datetime) -> bool:
        """True when the pair was recorded and has not yet been forgotten at `now`."""
        ...


class MemorySeenIds:
    """An in-memory `SeenIds` for tests and single-process use; forgets pairs after their horizon."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], datetime] = {}

    def seen(self, sender: str, message_id: str, *, now: datetime) -> bool:
        """True when the pair is remembered at `now`."""
        until = self._until.get((sender, message_id))
        return until is not None and now <= until

    def remember(self, sender: str, message_id: str, until: datetime, *, now: datetime) -> bool:
        """Record the pair until `until`; False when it was already remembered (a replay)."""
        if self.seen(sender, message_id, now=now):
            return False
        self._until[(sender, message_id)] = until
        if len(self._until) % 4096 == 0:
            self._forget(now)
        return True

    def _forget(self, now: datetime) -> None:
        self._until = {key: until for key, until in self._until.items() if until >= now}


def _time(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def remember_until(message: exchange_pb2.Message, *, skew: timedelta = DEFAULT_SKEW) -> datetime:
    """How long a node must remember the message's id: its expiry plus the clock skew."""
    return _time(message.expires_at) + skew


def check_fresh(
    message: exchange_pb2.Message,
    *,
    now: datetime,
    audience: Collection[str],
    skew: timedelta = DEFAULT_SKEW,
    max_lifetime: timedelta | None = None,
) -> None:
    """Raise NOT_YET_VALID, EXPIRED or NOT_ADDRESSED_TO_US; return when the message is fresh and ours."""
    issued_at, expires_at = _time(message.issued_at), _time(message.expires_at)
    if now < issued_at - skew:
        raise VerificationError(ReasonCode.NOT_YET_VALID, f"issued_at {issued_at:%Y-%m-%dT%H:%M:%SZ}")
    if now > expires_at:
        raise VerificationError(ReasonCode.EXPIRED, f"expired at {expires_at:%Y-%m-%dT%H:%M:%SZ}")
    if max_lifetime is not None and expires_at - issued_at > max_lifetime:
        raise VerificationError(
            ReasonCode.MALFORMED, f"lifetime {expires_at - issued_at} exceeds the policy's {max_lifetime}"
        )
    if message.recipient not in audience:
        raise VerificationError(ReasonCode.NOT_ADDRESSED_TO_US, f"recipient {message.recipient!r}")


def check_replay(message: exchange_pb2.Message, seen: SeenIds, *, now: datetime) -> None:
    """REPLAYED when (sender, message_id) was seen before."""
    if seen.seen(message.sender, message.message_id, now=now):
        raise VerificationError(ReasonCode.REPLAYED, f"{message.sender}/{message.message_id}")
