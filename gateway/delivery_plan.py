"""Where an outbox row goes and when it is tried again: the pure part of delivery (step 12).

`route` maps a recipient to the RPC, the address and the node whose signed receipt must come back;
`backoff` is exponential backoff with full jitter; `DeliveryPolicy` holds the retry limits, the call
timeout and the claim lease of ``[delivery]`` in jgx.toml. No I/O, no clock: the worker in
`gateway.delivery` passes time and chance in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from gateway.errors import ReasonCode, TransportError
from gateway.trust import TrustConfig

__all__ = ["DELIVER", "SUBMIT", "DeliveryPolicy", "Route", "backoff", "route"]

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
DELIVER = "/jgx.adapter.v1.Adapter/Deliver"


def backoff(attempt: int, base: float, cap: float, rand: float) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): full jitter, ``rand`` in [0, 1).

    The ceiling doubles per attempt from ``base`` up to ``cap``; the wait is uniform below it, so
    many rows failing together do not retry in lockstep.
    """
    ceiling = min(cap, base * 2.0 ** min(max(attempt - 1, 0), 62))
    return min(max(rand, 0.0), 1.0) * ceiling


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How the worker retries; the defaults match ``[delivery]`` of jgx.toml."""

    max_attempts: int = 12
    max_age: timedelta = timedelta(hours=72)
    backoff_base: float = 1.0  # seconds
    backoff_cap: float = 600.0  # seconds
    timeout: float = 10.0  # seconds per call
    batch: int = 32  # rows claimed per pass
    poll_interval: float = 0.5  # seconds between passes when idle
    claim_lease: float | None = None  # seconds; None: the call timeout + 5 s

    @classmethod
    def from_config(cls, delivery: object, **overrides: Any) -> DeliveryPolicy:
        """The policy from a `gateway.config.Delivery` (max_attempts, max_age, backoff_base/cap)."""
        default = cls()
        base: timedelta = getattr(delivery, "backoff_base", timedelta(seconds=default.backoff_base))
        cap: timedelta = getattr(delivery, "backoff_cap", timedelta(seconds=default.backoff_cap))
        timeout: timedelta = getattr(delivery, "call_timeout", timedelta(seconds=default.timeout))
        lease: timedelta | None = getattr(delivery, "lease", None)
        policy = cls(
            max_attempts=int(getattr(delivery, "max_attempts", default.max_attempts)),
            max_age=getattr(delivery, "max_age", default.max_age),
            backoff_base=base.total_seconds(),
            backoff_cap=cap.total_seconds(),
            timeout=timeout.total_seconds(),
            claim_lease=None if lease is None else lease.total_seconds(),
        )
        return replace(policy, **overrides)

    @property
    def lease(self) -> float:
        """Seconds a claimed row stays reserved: after this, a dead worker's rows go to the others.

        ``[delivery] lease_seconds`` (default 15); longer than one call may take (``timeout``).
        """
        return self.claim_lease if self.claim_lease is not None else self.timeout + 5.0


@dataclass(frozen=True, slots=True)
class Route:
    """Where a row goes: the RPC, the address, and the node whose receipt must come back."""

    method: str
    address: str
    issuer: str


def _address(endpoint: str) -> str:
    for scheme in ("grpcs://", "grpc://", "https://", "http://"):
        endpoint = endpoint.removeprefix(scheme)
    return endpoint.rstrip("/")


def route(trust: TrustConfig, local_node: str, recipient: str, peers: Mapping[str, str]) -> Route:
    """The route of an envelope for ``recipient`` from ``local_node``; UNAVAILABLE without an endpoint.

    A department behind this gateway gets ``Adapter.Deliver`` at its endpoint; any other node is
    reached through ``Exchange.Submit`` of its own gateway (or itself when it is a gateway). An
    address in ``peers`` (jgx.toml ``[peers]``) overrides the trust configuration's endpoint.
    """
    node = trust.nodes.get(recipient)
    if node is None:
        raise TransportError(
            ReasonCode.UNAVAILABLE, f"recipient {recipient!r} is not in the trust configuration"
        )
    if node.gateway == local_node:
        method, target = DELIVER, recipient
    else:
        method, target = SUBMIT, node.gateway or recipient
    endpoint = peers.get(target) or (trust.nodes[target].endpoint if target in trust.nodes else "")
    if not endpoint:
        raise TransportError(
            ReasonCode.UNAVAILABLE, f"no endpoint for {target!r} (trust configuration or [peers])"
        )
    return Route(method, _address(endpoint), target)
