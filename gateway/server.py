"""The Exchange service over grpc.aio (DESIGN §3), with the standard health and reflection services.

Submit and SubmitStream take the envelope as raw bytes (no deserializer), so the digest a receipt binds
is over exactly the bytes that arrived. Refusals before a receipt can be issued (steps 1–2: unknown
transport identity, oversized or unparseable envelope; or the store being unavailable) are gRPC statuses
carrying a ``google.rpc.ErrorInfo`` whose ``reason`` is the reason code, never a raw exception.

SubmitStream keeps at most ``max_in_flight`` envelopes between reading and answering: when the client
reads its receipts slowly, the service stops reading envelopes and gRPC flow control pushes back on
the client, so a slow reader never makes the node buffer without bound.

Rate limit (`gateway.ratelimit`): a unary Submit over its sender's rate is refused with
RESOURCE_EXHAUSTED / RATE_LIMITED; a SubmitStream over its rate is paced by the same flow control.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import structlog
from google.protobuf.message import DecodeError, Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from gateway.config import Connections
from gateway.error_details import error_status
from gateway.errors import JgxError, ReasonCode, TransportError, VerificationError
from gateway.hub import Handled, Hub
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.policy import transport_limit
from gateway.ratelimit import RateLimiter
from gateway.server_calls import connection_options, guarded, guarded_stream
from gateway.server_queries import LogQueries

__all__ = ["SERVICE_NAME", "ExchangeService", "PeerNode", "Server", "abort_with_reason", "insecure_peer"]

SERVICE_NAME = "jgx.exchange.v1.Exchange"
_log = structlog.get_logger("jgx.server")

PeerNode = Callable[[grpc.aio.ServicerContext[bytes, bytes]], str | None]


def insecure_peer(_context: grpc.aio.ServicerContext[bytes, bytes]) -> str | None:
    """No transport identity (plaintext development server on loopback)."""
    return None


async def abort_with_reason(
    context: grpc.aio.ServicerContext[bytes, bytes], reason: ReasonCode, detail: str = "", **metadata: str
) -> None:
    """End the call with the status of ``reason`` (raises, as ``context.abort`` does)."""
    await context.abort_with_status(error_status(reason, detail, **metadata))  # type: ignore[attr-defined]


def _response(receipt: bytes) -> bytes:
    # SubmitResponse { Envelope receipt = 1; }: the stored receipt bytes, framed as field 1
    # (tag 0x0a, varint length), never parsed and re-serialized.
    size, length = len(receipt), bytearray()
    while size > 0x7F:
        length.append((size & 0x7F) | 0x80)
        size >>= 7
    length.append(size)
    return b"\x0a" + bytes(length) + receipt


def _refusal(handled: Handled) -> ReasonCode:
    code = handled.reasons[0] if handled.reasons else ReasonCode.INTERNAL.value
    return ReasonCode(code) if code in ReasonCode.__members__ else ReasonCode.INTERNAL


class ExchangeService:
    """The Exchange RPCs of one node, as generic handlers over raw bytes."""

    def __init__(
        self,
        hub: Hub,
        *,
        peer_node: PeerNode = insecure_peer,
        max_in_flight: int = 64,
        rate_limit: RateLimiter | None = None,
        connections: Connections | None = None,
    ) -> None:
        """Serve ``hub``; ``peer_node`` reads the client's node id from the TLS auth context."""
        self.hub = hub
        self.peer_node = peer_node
        self.max_in_flight = max_in_flight
        self.rate_limit = rate_limit
        self.connections = connections or Connections()
        self.queries = LogQueries(hub)
        self._open_calls: dict[str, int] = {}
        self._call_peers: dict[int, str | None] = {}  # id(context) of each admitted call -> its peer

    @contextlib.asynccontextmanager
    async def _admitted(self, context: grpc.aio.ServicerContext[bytes, bytes]) -> AsyncIterator[None]:
        """(1) once per call, then count the call against its peer; RATE_LIMITED over the limit."""
        peer = await self._peer(context)
        # The TLS node id; without TLS the client's address without its port (one host, one peer).
        key = peer or context.peer().rsplit(":", 1)[0]
        limit = self.connections.max_calls_per_peer
        if self._open_calls.get(key, 0) >= limit:
            _log.warning("peer.too_many_calls", peer=key, limit=limit)
            raise TransportError(ReasonCode.RATE_LIMITED, f"{limit} calls of {key} are open already")
        self._open_calls[key] = self._open_calls.get(key, 0) + 1
        self._call_peers[id(context)] = peer  # the handler reads it back instead of asking again
        try:
            yield
        finally:
            self._call_peers.pop(id(context), None)
            self._open_calls[key] -= 1
            if not self._open_calls[key]:
                del self._open_calls[key]

    async def _peer(self, context: grpc.aio.ServicerContext[bytes, bytes]) -> str | None:
        """(1) The client's node id from the TLS auth context; a refused identity ends the call."""
        if id(context) in self._call_peers:
            return self._call_peers[id(context)]
        try:
            return self.peer_node(context)
        except JgxError as exc:
            _log.warning("transport.refused", reason=exc.reason.value, detail=exc.detail, peer=context.peer())
            await abort_with_reason(context, exc.reason, exc.detail)
            raise  # abort raised already

    def _over_rate(self, context: grpc.aio.ServicerContext[bytes, bytes], peer: str | None) -> str | None:
        """The sender's key when it is over its rate, else None (a token is taken)."""
        if self.rate_limit is None:
            return None
        key = peer or context.peer()  # the TLS node id; without TLS, the peer address
        return None if self.rate_limit.allow(key, time.monotonic()) else key

    def _refused(self, key: str, peer: str | None) -> None:
        """Log and count a RATE_LIMITED refusal like any envelope's event."""
        event: dict[str, object] = {
            "message_id": "", "sender": peer or "", "recipient": "", "standard": "", "outcome": "refused",
            "reasons": [ReasonCode.RATE_LIMITED.value], "log_index": None, "step": 1, "duplicate": False,
            "detail": f"rate limit of {key}", "latency_ms": 0.0,
        }  # fmt: skip
        _log.warning("envelope", peer=key, **event)
        for observe in self.hub.observers:
            observe(event)

    async def _paced(self, context: grpc.aio.ServicerContext[bytes, bytes], peer: str | None) -> None:
        """Wait until a stream's sender has a token again (flow control instead of a refusal)."""
        key = self._over_rate(context, peer)
        if key is None or self.rate_limit is None:
            return
        _log.warning("stream.rate_limited", peer=key, sender=peer or "", detail="reading paused")
        while key is not None:
            await asyncio.sleep(max(self.rate_limit.wait(key, time.monotonic()), 0.001))
            key = self._over_rate(context, peer)

    async def submit(self, request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        """Submit: one envelope in, its signed receipt out."""
        peer = await self._peer(context)
        if (limited := self._over_rate(context, peer)) is not None:
            self._refused(limited, peer)
            await abort_with_reason(context, ReasonCode.RATE_LIMITED, limited)
        handled = await self.hub.submit(request, transport_node=peer)
        if handled.receipt is None:
            await abort_with_reason(context, _refusal(handled), handled.detail)
        assert handled.receipt is not None  # abort raised otherwise
        return _response(handled.receipt)

    async def submit_stream(
        self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> AsyncIterator[bytes]:
        """SubmitStream: envelopes in, receipts out in the same order, at most max_in_flight between."""
        peer = await self._peer(context)
        pending: asyncio.Queue[asyncio.Task[Handled] | None] = asyncio.Queue(maxsize=self.max_in_flight)

        idle = self.connections.stream_idle_seconds

        async def read() -> None:
            envelopes = aiter(requests)
            try:
                while True:
                    try:
                        async with asyncio.timeout(idle):
                            data = await anext(envelopes)
                    except StopAsyncIteration:
                        return
                    except TimeoutError:  # a silent stream holds memory: end it, the client may reopen
                        raise TransportError(
                            ReasonCode.UNAVAILABLE, f"no envelope for {idle:g} s: the stream is closed"
                        ) from None
                    await self._paced(context, peer)  # over its rate: stop reading for a while
                    task = asyncio.create_task(self.hub.submit(data, transport_node=peer))
                    await pending.put(task)  # blocks while max_in_flight are unanswered: flow control
            finally:
                await pending.put(None)

        reader = asyncio.create_task(read())
        position = 0
        try:
            while (task := await pending.get()) is not None:
                handled = await task
                if handled.receipt is None:
                    await abort_with_reason(
                        context, _refusal(handled), handled.detail, position=str(position)
                    )
                assert handled.receipt is not None
                yield _response(handled.receipt)
                position += 1
            await reader  # surfaces a broken request stream
        finally:
            reader.cancel()
            # Envelopes already read are judged and logged even if the client went away.
            while not pending.empty():
                leftover = pending.get_nowait()
                if leftover is not None:
                    leftover.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def trace(
        self, request: exchange_pb2.TraceRequest, _context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> exchange_pb2.TraceResponse:
        """Trace: the log events of a message id or correlation id on this node."""
        return await self.queries.trace(request)

    async def get_checkpoint(
        self, _request: exchange_pb2.GetCheckpointRequest, _context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> exchange_pb2.Checkpoint:
        """GetCheckpoint: the latest signed checkpoint (signing one first if the log grew)."""
        return await self.queries.checkpoint()

    async def get_inclusion_proof(
        self, request: exchange_pb2.GetInclusionProofRequest, _context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> exchange_pb2.InclusionProof:
        """GetInclusionProof: a leaf's audit path against a signed checkpoint."""
        return await self.queries.inclusion_proof(request)

    async def get_consistency_proof(
        self,
        request: exchange_pb2.GetConsistencyProofRequest,
        _context: grpc.aio.ServicerContext[bytes, bytes],
    ) -> exchange_pb2.ConsistencyProof:
        """GetConsistencyProof: proof that one tree size extends another."""
        return await self.queries.consistency_proof(request)

    def handler(self) -> grpc.GenericRpcHandler[Any, Any]:
        """The generic handler registering every Exchange method, each behind `_guarded`."""
        ex = exchange_pb2

        def unary(fn: Callable[..., Awaitable[Any]], request_type: type[Message]) -> Any:
            async def parsed(data: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
                request = request_type()
                try:
                    request.ParseFromString(data)
                except (DecodeError, ValueError, TypeError):
                    raise VerificationError(
                        ReasonCode.MALFORMED, f"the request is not a {request_type.__name__}"
                    ) from None
                response: Message = await fn(request, context)
                return response.SerializeToString()

            return grpc.unary_unary_rpc_method_handler(guarded(parsed, self._admitted))

        return grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "Submit": grpc.unary_unary_rpc_method_handler(guarded(self.submit, self._admitted)),
                "SubmitStream": grpc.stream_stream_rpc_method_handler(
                    guarded_stream(self.submit_stream, self._admitted)
                ),
                "Trace": unary(self.trace, ex.TraceRequest),
                "GetCheckpoint": unary(self.get_checkpoint, ex.GetCheckpointRequest),
                "GetInclusionProof": unary(self.get_inclusion_proof, ex.GetInclusionProofRequest),
                "GetConsistencyProof": unary(self.get_consistency_proof, ex.GetConsistencyProofRequest),
            },
        )


class Server:
    """A running node: the grpc.aio server with Exchange, health and reflection around one hub."""

    def __init__(
        self,
        hub: Hub,
        *,
        peer_node: PeerNode = insecure_peer,
        max_in_flight: int = 64,
        max_receive: int | None = None,
        rate_limit: RateLimiter | None = None,
        connections: Connections | None = None,
    ) -> None:
        """Prepare the server; the gRPC receive limit defaults to `gateway.policy.transport_limit`.

        It is well above the envelope limit in force, so an envelope over that limit still reaches
        step 2 and is answered TOO_LARGE with ErrorInfo instead of a bare RESOURCE_EXHAUSTED.
        """
        self.hub = hub
        limit = max_receive or transport_limit(hub.policy.max_envelope_bytes)
        connections = connections or Connections()
        transport = [("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit * 2)]
        self.grpc = grpc.aio.server(options=[*transport, *connection_options(connections)])
        self.exchange = ExchangeService(
            hub, peer_node=peer_node, max_in_flight=max_in_flight, rate_limit=rate_limit,
            connections=connections,
        )  # fmt: skip
        self.health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        self.grpc.add_generic_rpc_handlers([self.exchange.handler()])
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        reflection.enable_server_reflection(
            [
                SERVICE_NAME,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            self.grpc,
        )

    def add_port(self, address: str, credentials: grpc.ServerCredentials | None = None) -> int:
        """Listen on ``address`` (TLS when ``credentials``); return the bound port."""
        if credentials is None:
            return self.grpc.add_insecure_port(address)
        return self.grpc.add_secure_port(address, credentials)

    async def start(self) -> None:
        """Start serving and report SERVING on the health service."""
        await self.grpc.start()
        for name in ("", SERVICE_NAME):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        _log.info("server.started", node=self.hub.node_id)

    async def set_serving(self, serving: bool) -> None:
        """SERVING or NOT_SERVING on the health service (`gateway.health.HealthWatch` decides)."""
        answer = health_pb2.HealthCheckResponse
        status = answer.SERVING if serving else answer.NOT_SERVING
        for name in ("", SERVICE_NAME):
            await self.health.set(name, status)

    async def drain(self, grace: float) -> None:
        """Stop accepting (NOT_SERVING, new calls refused); in-flight calls get ``grace`` s, then end."""
        await self.health.enter_graceful_shutdown()
        await self.grpc.stop(grace)

    async def stop(self, grace: float = 10.0) -> None:
        """Graceful shutdown: `drain`, then write what the hub queued and sign a last checkpoint."""
        await self.drain(grace)
        await self.hub.close()
        _log.info("server.stopped", node=self.hub.node_id)
