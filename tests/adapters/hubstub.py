"""A stand-in for the hub's Exchange service (Submit, SubmitStream) until the real gateway server lands.

It judges with the real pure pipeline and signs real receipts as sc.hub; it keeps no log.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import grpc

from gateway.freshness import MemorySeenIds, remember_until
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pipeline import judge
from gateway.receipts import issue_receipt
from gateway.testing import Federation


class StandInHub:
    def __init__(
        self,
        fed: Federation,
        now: datetime | None,
        *,
        signer: str = "sc.hub",
        sm3: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.fed = fed
        self.signer = signer
        self.sm3 = sm3  # an sm3-profile hub: the envelope_sm3 its receipts carry
        self.fixed_now = now
        self.seen = MemorySeenIds()
        self.receipts: dict[bytes, exchange_pb2.Envelope] = {}
        self.accepted: list[exchange_pb2.Message] = []

    @property
    def now(self) -> datetime:
        return self.fixed_now or datetime.now(UTC)

    def receipt(self, data: bytes) -> exchange_pb2.SubmitResponse:
        verdict = judge(data, trust=self.fed.trust, local_node="sc.hub", now=self.now, seen=self.seen)
        if verdict.envelope_sha256 in self.receipts:
            return exchange_pb2.SubmitResponse(receipt=self.receipts[verdict.envelope_sha256])
        message = verdict.message
        receipt = issue_receipt(
            issuer="sc.hub", key=self.fed.keys[self.signer], envelope_sha256=verdict.envelope_sha256,
            envelope_sm3=None if self.sm3 is None else self.sm3(data),
            message_id=message.message_id if message else "", sender=message.sender if message else "",
            recipient=message.recipient if message else "", outcome=verdict.outcome,
            reason_codes=[r.value for r in verdict.reasons], findings=(), log_index=len(self.receipts),
            now=self.now,
        )  # fmt: skip
        if message is not None and verdict.accepted:
            self.seen.remember(message.sender, message.message_id, remember_until(message), now=self.now)
            self.receipts[verdict.envelope_sha256] = receipt
            self.accepted.append(message)
        return exchange_pb2.SubmitResponse(receipt=receipt)

    async def submit(self, request: bytes, context: object) -> exchange_pb2.SubmitResponse:
        return self.receipt(request)

    async def submit_stream(
        self, requests: AsyncIterator[bytes], context: object
    ) -> AsyncIterator[exchange_pb2.SubmitResponse]:
        async for data in requests:
            yield self.receipt(data)

    def handler(self) -> grpc.GenericRpcHandler[object, object]:
        return grpc.method_handlers_generic_handler(
            "jgx.exchange.v1.Exchange",
            {
                "Submit": grpc.unary_unary_rpc_method_handler(
                    self.submit, response_serializer=exchange_pb2.SubmitResponse.SerializeToString
                ),
                "SubmitStream": grpc.stream_stream_rpc_method_handler(
                    self.submit_stream, response_serializer=exchange_pb2.SubmitResponse.SerializeToString
                ),
            },
        )


@contextlib.asynccontextmanager
async def serve_hub(hub: StandInHub, port: int = 0) -> AsyncIterator[int]:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((hub.handler(),))
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        yield bound
    finally:
        await server.stop(grace=None)
