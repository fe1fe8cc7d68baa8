"""The limits a node enforces: the federation's policies, tightened (never loosened) by the node. Pure.

The trust configuration's ``policies`` are the federation's contract: every node of the federation
accepts what they allow, so a sender can rely on them. A node's ``jgx.toml`` may only make a limit
stricter: a local value above the federation's is ignored (and reported by `loosening`), a value
below it applies. docs/wire.md §1 and docs/operations.md state the same rule.

| policy (trust) | jgx.toml | effective |
|---|---|---|
| ``max_envelope_bytes`` | ``[limits] max_envelope_bytes`` | the smaller |
| ``clock_skew_seconds`` | ``[clock] skew_seconds`` | the smaller |
| ``replay_ttl_seconds`` | ``[limits] replay_ttl_seconds`` | the smaller |
| ``deadlines`` | — | the trust configuration's only |

Rate limits are local only (``[limits] rate_limit_per_sender``, ``rate_burst``): they protect one node
and are not part of the federation's contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from gateway.trust import TrustConfig

__all__ = ["TRANSPORT_MARGIN", "LocalLimits", "Policy", "loosening", "transport_limit"]

#: The gRPC receive limit is this many times the envelope limit (plus 64 KiB for framing), so an
#: envelope over the envelope limit still reaches step 2 and is answered TOO_LARGE with ErrorInfo.
TRANSPORT_MARGIN: Final = 4


@dataclass(frozen=True, slots=True)
class LocalLimits:
    """What this node's ``jgx.toml`` sets; None follows the trust configuration's policy."""

    max_envelope_bytes: int | None = None
    clock_skew_seconds: float | None = None
    replay_ttl_seconds: float | None = None


def _smaller(federation: float, local: float | None) -> float:
    return federation if local is None else min(federation, local)


@dataclass(frozen=True, slots=True)
class Policy:
    """The limits in force at one node: the federation's, tightened by the node's own."""

    max_envelope_bytes: int
    clock_skew: timedelta
    replay_ttl: timedelta

    @classmethod
    def of(cls, trust: TrustConfig, local: LocalLimits | None = None) -> Policy:
        """The effective policy of a node holding ``trust`` with its own ``local`` limits."""
        local = local or LocalLimits()
        federation = _federation(trust)

        def smaller(name: str) -> float:
            return _smaller(federation[name], getattr(local, name))

        return cls(
            max_envelope_bytes=int(smaller("max_envelope_bytes")),
            clock_skew=timedelta(seconds=smaller("clock_skew_seconds")),
            replay_ttl=timedelta(seconds=smaller("replay_ttl_seconds")),
        )


def _federation(trust: TrustConfig) -> dict[str, float]:
    return {
        "max_envelope_bytes": float(trust.max_envelope_bytes),
        "clock_skew_seconds": trust.clock_skew.total_seconds(),
        "replay_ttl_seconds": float(trust.policy("replay_ttl_seconds")),
    }


def loosening(trust: TrustConfig, local: LocalLimits) -> dict[str, tuple[float, float]]:
    """Local settings that try to loosen the federation's policy: name -> (local, federation); ignored."""
    federation = _federation(trust)
    found: dict[str, tuple[float, float]] = {}
    for name, limit in federation.items():
        value = getattr(local, name)
        if value is not None and value > limit:
            found[name] = (float(value), limit)
    return found


def transport_limit(max_envelope_bytes: int) -> int:
    """The gRPC receive limit for an envelope limit: `TRANSPORT_MARGIN` times it, plus 64 KiB."""
    return TRANSPORT_MARGIN * max_envelope_bytes + 64 * 1024
