"""Per-sender rate limit: one token bucket per transport identity. Pure: time is passed in.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens a second; each envelope takes one.
A unary Submit from a sender with an empty bucket is answered RESOURCE_EXHAUSTED (``RATE_LIMITED``)
before anything is parsed or verified, so a flood costs the node little and other senders keep their
share. A SubmitStream over its rate is paced instead: the node stops reading until the next token, and
gRPC flow control slows the sender down without failing a legitimate bulk upload. The key is the TLS
node id when the connection is mutually authenticated, otherwise the peer address.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RateLimiter", "TokenBucket"]


@dataclass(slots=True)
class TokenBucket:
    """``tokens`` left at time ``updated`` (seconds on any monotonic scale)."""

    tokens: float
    updated: float

    def take(self, now: float, *, rate: float, burst: float) -> bool:
        """Refill for the time since the last call, then take one token if there is one."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(burst, self.tokens + elapsed * rate)
        self.updated = max(self.updated, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait(self, now: float, *, rate: float) -> float:
        """Seconds from ``now`` until a token is available (0 when one is)."""
        tokens = self.tokens + max(0.0, now - self.updated) * rate
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate


class RateLimiter:
    """Token buckets by key, ``rate`` envelopes a second sustained and ``burst`` at once."""

    def __init__(self, rate: float, burst: float, *, max_keys: int = 10_000) -> None:
        """Limit each key to ``rate``/s with bursts of ``burst``; at most ``max_keys`` buckets kept."""
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, key: str, now: float) -> bool:
        """True when ``key`` may send one envelope at ``now``; False when it is over its rate."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_idle(now)
            bucket = self._buckets[key] = TokenBucket(self.burst, now)
        return bucket.take(now, rate=self.rate, burst=self.burst)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may send again (0 when it may now)."""
        bucket = self._buckets.get(key)
        return 0.0 if bucket is None else bucket.wait(now, rate=self.rate)

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled completely behaves exactly like a new one: drop it.
        full = now - self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if b.updated <= full]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # still full of active senders: drop the stalest
            stalest = min(self._buckets, key=lambda k: self._buckets[k].updated)
            del self._buckets[stalest]
