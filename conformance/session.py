"""One live run's calls and their record: the Recorder keeps every exchange, masked; _Session makes them.

Split from `conformance.runner` so the probes (`conformance.probes`) and the runner share one way of
calling the adapter and writing down what came back.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.json_format import MessageToDict

from conformance.assess import assess_envelope, destination_of, header_json
from conformance.evidence import Exchange, b64, mask_payload
from gateway._time import utc_now
from gateway.error_details import error_info
from gateway.errors import ReasonCode, TransportError
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

if TYPE_CHECKING:
    from conformance.runner import LiveOptions

__all__ = ["Recorder", "Session", "ms_since", "rpc_failure", "utc_now"]

_PAYLOAD_KEPT = 64 << 10  # request payloads above this size are described, not kept


def rpc_failure(error: grpc.aio.AioRpcError) -> dict[str, Any]:
    """A failed call as evidence: the gRPC status, the jgx ErrorInfo reason (if any) and the detail."""
    info = error_info(error)
    reason = info.reason if info is not None else ""
    return {"status": error.code().name, "reason": reason, "detail": (error.details() or "")[:300]}


class Recorder:
    """Collects exchanges in the order they finish, masking what it keeps."""

    def __init__(self, trust: TrustConfig, profile: str | None) -> None:
        self.trust = trust
        self.profile = profile
        self.exchanges: list[Exchange] = []

    def destination(self, recipient: str) -> str:
        """The SC-20 destination class evidence about a message to `recipient` is masked for."""
        return self.profile or destination_of(self.trust, recipient)

    def add(
        self,
        probe: str,
        rpc: str,
        request: Mapping[str, Any],
        response: Mapping[str, Any],
        *,
        started: datetime,
        duration_ms: float,
        concurrency: int = 1,
        subject: str = "",
    ) -> Exchange:
        """Record one exchange."""
        exchange = Exchange(
            len(self.exchanges) + 1,
            probe,
            rpc,
            dict(request),
            dict(response),
            started.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            round(duration_ms, 2),
            concurrency,
            subject,
        )
        self.exchanges.append(exchange)
        return exchange

    def delivery(self, data: bytes, message: exchange_pb2.Message, forgery: str) -> dict[str, Any]:
        """What evidence keeps of a delivered envelope: digest, size, header and the masked payload."""
        request: dict[str, Any] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "header": header_json(message),
            "forgery": forgery,
        }
        if len(message.payload) <= _PAYLOAD_KEPT:
            masked, pointers = mask_payload(
                message.payload, self.destination(message.recipient), message.standard
            )
            request["payload"], request["maskedPointers"] = masked, pointers
        else:
            request["payload"], request["maskedPointers"] = None, [f"omitted: {len(message.payload)} bytes"]
        return request



class Session:
    """One live run's calls over one channel."""

    def __init__(
        self, opts: LiveOptions, trust: TrustConfig, recorder: Recorder, channel: grpc.aio.Channel
    ) -> None:
        self.opts, self.trust, self.rec = opts, trust, recorder
        self._describe = channel.unary_unary(
            "/jgx.adapter.v1.Adapter/Describe",
            request_serializer=adapter_pb2.DescribeRequest.SerializeToString,
            response_deserializer=adapter_pb2.Manifest.FromString,
        )
        self._deliver = channel.unary_unary(
            "/jgx.adapter.v1.Adapter/Deliver",
            request_serializer=bytes,
            response_deserializer=adapter_pb2.DeliverResponse.FromString,
        )
        self._export = channel.unary_stream(
            "/jgx.adapter.v1.Adapter/Export",
            request_serializer=adapter_pb2.ExportRequest.SerializeToString,
            response_deserializer=bytes,
        )

    async def describe(self) -> Mapping[str, Any] | None:
        started, t0 = utc_now(), time.perf_counter()
        try:
            manifest = await self._describe(adapter_pb2.DescribeRequest(), timeout=self.opts.timeout)
            response: dict[str, Any] = {
                "status": "OK",
                "manifest": MessageToDict(
                    manifest, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
                ),
            }
        except grpc.aio.AioRpcError as exc:
            response = rpc_failure(exc)
        self.rec.add("describe", "Describe", {}, response, started=started, duration_ms=ms_since(t0))
        if response["status"] == "UNAVAILABLE":
            raise TransportError(ReasonCode.UNAVAILABLE, f"{self.opts.target}: {response['detail']}")
        return response.get("manifest")

    async def export(
        self, standard: str, version: str, recipient: str, *, limit: int | None = None, probe: str = "export"
    ) -> list[bytes]:
        """Export `standard` for `recipient`: at most `limit` records (0: all; default: the run's limit)."""
        destination = destination_of(self.trust, recipient)
        request = adapter_pb2.ExportRequest(
            standard=standard,
            standard_version=version,
            recipient=recipient,
            limit=self.opts.export_limit if limit is None else limit,
        )
        started, t0 = utc_now(), time.perf_counter()
        envelopes: list[bytes] = []
        try:
            async for data in self._export(request, timeout=self.opts.timeout * 3):
                envelopes.append(data)
            response: dict[str, Any] = {"status": "OK"}
        except grpc.aio.AioRpcError as exc:
            response = rpc_failure(exc)
        duration = ms_since(t0)
        response["envelopes"] = [self._kept(data, destination, recipient) for data in envelopes]
        self.rec.add(
            probe,
            "Export",
            {
                "standard": standard,
                "version": version,
                "recipient": recipient,
                "destination": destination,
                "limit": request.limit,
            },
            response,
            started=started,
            duration_ms=duration,
            subject=f"{standard}@{version}",
        )
        return envelopes

    def _kept(self, data: bytes, destination: str, recipient: str) -> dict[str, Any]:
        facts, message = assess_envelope(data, self.trust, now=self.opts.now, destination=destination)
        if message is None:
            return {"envelopeB64": b64(data)}
        masked, pointers = mask_payload(message.payload, self.rec.destination(recipient), message.standard)
        if not pointers:
            return {"envelopeB64": b64(data)}
        return {"redacted": True, "payload": masked, "maskedPointers": pointers, "atRun": facts.to_json()}

    async def deliver(
        self,
        probe: str,
        data: bytes,
        message: exchange_pb2.Message,
        *,
        forgery: str = "",
        concurrency: int = 1,
    ) -> Exchange:
        """Deliver `data` and record what came back."""
        request = self.rec.delivery(data, message, forgery)
        started, t0 = utc_now(), time.perf_counter()
        try:
            reply = await self._deliver(data, timeout=self.opts.timeout)
            response: dict[str, Any] = {"status": "OK", "receiptB64": b64(reply.receipt.SerializeToString())}
        except grpc.aio.AioRpcError as exc:
            response = rpc_failure(exc)
        return self.rec.add(
            probe,
            "Deliver",
            request,
            response,
            started=started,
            duration_ms=ms_since(t0),
            concurrency=concurrency,
            subject=f"{message.standard}@{message.standard_version}",
        )


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000
