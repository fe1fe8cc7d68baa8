"""One message or task across every hop: this node's log with its receipts, and every other gateway's Trace.

    local log rows ─► each stored receipt verified (issuer from the trust configuration, bound to the
                      envelope digest): the hub's own receipt for a submission, the next hop's receipt
                      (with its log index there) for a delivery
    other gateways ─► Exchange.Trace over mTLS, one call each (a gateway that does not answer is named)
    ─► one list in time order; the envelope digest is the same at every hop, so the hops line up

The gateways asked are the trust configuration's nodes that receive for themselves (no ``gateway``
field) and have an endpoint; ``peers`` (jgx.toml ``[peers]``) overrides their addresses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from google.protobuf.message import DecodeError

from gateway.errors import VerificationError
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import receipt_issuer, verify_receipt
from gateway.storage import MessageRecord
from gateway.trust import TrustConfig

__all__ = ["Hop", "Trace", "gateways_of", "local_hops", "trace_hops"]

_TRACE = "/jgx.exchange.v1.Exchange/Trace"
_OUTCOMES: dict[int, str] = {
    int(v): k.removeprefix("OUTCOME_").lower() for k, v in exchange_pb2.Outcome.items()
}


@dataclass(frozen=True, slots=True)
class Hop:
    """One log event of the message or task on one node, with the receipt that node keeps for it."""

    node: str
    log_index: int
    time: datetime
    kind: str
    sender: str
    recipient: str
    message_id: str
    standard: str
    action: str
    outcome: str
    reasons: tuple[str, ...]
    envelope_sha256: bytes
    receipt: str = ""  # "sc.hub#12 ✔" — issuer, its log index, verified; "" when the node keeps none

    def line(self) -> str:
        """One line for a person."""
        reasons = ",".join(self.reasons) or "-"
        return (
            f"{self.time:%Y-%m-%dT%H:%M:%S.%f}"[:-3]
            + f"Z {self.node:<12} #{self.log_index:<6} {self.kind:<10} {self.sender} -> {self.recipient} "
            f"{self.standard} {self.action or '-'} {self.outcome} {reasons} "
            f"sha256:{self.envelope_sha256.hex()[:12]} {self.receipt or '-'}"
        )


@dataclass(frozen=True, slots=True)
class Trace:
    """The hops found, and the gateways that could not be asked (node id → why)."""

    hops: tuple[Hop, ...]
    unreachable: Mapping[str, str]


def _receipt(node: str, record: MessageRecord, trust: TrustConfig, now: datetime) -> str:
    if record.receipt is None:
        return ""
    # The issuer follows from the entry and the trust configuration, never from the receipt's claim.
    issuer = receipt_issuer(trust, node, kind=record.kind, recipient=record.recipient)
    try:
        envelope = exchange_pb2.Envelope.FromString(record.receipt)
        receipt = verify_receipt(
            envelope, trust, issuer=issuer, now=now, envelope_sha256=record.envelope_sha256
        )
    except (DecodeError, ValueError):
        return "receipt ✘ unreadable"
    except VerificationError as exc:
        return f"receipt ✘ {exc.reason.value}"
    return f"receipt {receipt.issuer}#{receipt.log_index} ✔"


def local_hops(
    node: str, records: Sequence[MessageRecord], trust: TrustConfig, *, now: datetime
) -> list[Hop]:
    """This node's log rows as hops, each with its stored receipt verified against the trust configuration."""
    return [
        Hop(
            node,
            r.log_index,
            r.time,
            r.kind,
            r.sender,
            r.recipient,
            r.message_id,
            r.standard,
            r.action,
            _OUTCOMES.get(r.outcome, str(r.outcome)),
            tuple(r.reason_codes),
            r.envelope_sha256,
            _receipt(node, r, trust, now),
        )
        for r in records
    ]


def gateways_of(trust: TrustConfig, peers: Mapping[str, str], *, local: str) -> dict[str, str]:
    """The other gateways to ask and their addresses: nodes receiving for themselves, with an endpoint."""
    found: dict[str, str] = {}
    for node_id, node in trust.nodes.items():
        if node_id == local or node.gateway:
            continue
        address = peers.get(node_id) or node.endpoint
        for scheme in ("grpcs://", "grpc://", "https://", "http://"):
            address = address.removeprefix(scheme)
        if address:
            found[node_id] = address.rstrip("/")
    return found


def _remote(event: exchange_pb2.TraceEvent) -> Hop:
    return Hop(
        event.node,
        event.log_index,
        event.time.ToDatetime(tzinfo=UTC),
        event.kind,
        event.sender,
        event.recipient,
        event.message_id,
        event.standard,
        event.action,
        _OUTCOMES.get(event.outcome, str(event.outcome)),
        tuple(event.reason_codes),
        event.envelope_sha256,
    )


async def trace_hops(
    local: Sequence[Hop],
    request: exchange_pb2.TraceRequest,
    gateways: Mapping[str, str],
    *,
    credentials: grpc.ChannelCredentials | None,
    timeout: float = 5.0,
) -> Trace:
    """The local hops plus every gateway's answer to `request`, in time order."""
    hops = list(local)
    unreachable: dict[str, str] = {}
    for node, address in gateways.items():
        channel = (
            grpc.aio.secure_channel(address, credentials)
            if credentials is not None
            else grpc.aio.insecure_channel(address)
        )
        async with channel:
            call = channel.unary_unary(
                _TRACE,
                request_serializer=exchange_pb2.TraceRequest.SerializeToString,
                response_deserializer=exchange_pb2.TraceResponse.FromString,
            )
            try:
                response = await call(request, timeout=timeout)
            except grpc.aio.AioRpcError as exc:
                unreachable[node] = f"{exc.code().name}: {exc.details() or ''}"[:200]
                continue
        hops.extend(_remote(event) for event in response.events)
    hops.sort(key=lambda h: (h.time, h.node, h.log_index))
    return Trace(tuple(hops), unreachable)
