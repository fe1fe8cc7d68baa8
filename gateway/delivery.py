"""Step 12 of DESIGN §2: the delivery worker drains the outbox to each recipient and logs its receipt.

    outbox row ─► route (peer gateway: Exchange.Submit │ department behind this hub: Adapter.Deliver)
               ─► send the ORIGINAL envelope bytes, with a per-call timeout
               ─► verify the recipient's signed receipt (issuer = the node that answered, digest = bytes sent)
               ─► a ``delivery`` leaf that settles the row (one transaction)
    failure    ─► RECEIPT_INVALID / UNAVAILABLE / … logged; retry after exponential backoff with full
                  jitter; dead letter after ``max_attempts`` attempts or ``max_age``; an operator replays it

Order is kept per (sender, recipient) channel: the store only lets the oldest pending row of a channel
be claimed (`Store.claim_due`), so a later row never overtakes an earlier one that is still retrying.
Resending is safe: a recipient answers the exact bytes it already receipted with the original receipt.

`backoff`, `route` and `DeliveryPolicy` are pure (`gateway.delivery_plan`); the worker is the I/O
shell around them. Transport security sits behind one seam, ``credentials`` (mTLS channel credentials
from `gateway.tls`); without them the worker dials plaintext, which servers allow on loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import grpc
import structlog
from google.protobuf.message import DecodeError

from gateway._aio import stop_task, wait_event
from gateway._time import utc_now
from gateway.delivery_plan import DELIVER, SUBMIT, DeliveryPolicy, Route, backoff, route
from gateway.envelope import envelope_digest
from gateway.error_details import reason_of
from gateway.errors import JgxError, ReasonCode, TransportError, VerificationError
from gateway.logbook import bind_side_rows, build_leaf
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from gateway.storage import Entry, OutboxItem, StorageError, Store
from gateway.treehash import SM3
from gateway.trust import TrustConfig

if TYPE_CHECKING:
    from gateway.hub import Hub

__all__ = [
    "DELIVER",
    "SUBMIT",
    "Attempt",
    "DeliveryPolicy",
    "DeliveryWorker",
    "Route",
    "backoff",
    "route",
    "start_delivery",
]

_log = structlog.get_logger("jgx.delivery")

# Refusals that no resend of the same bytes can change: dead-letter at once instead of retrying.
_PERMANENT = frozenset({ReasonCode.MALFORMED, ReasonCode.TOO_LARGE, ReasonCode.PAYLOAD_TYPE_UNKNOWN})


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one delivery attempt came to (for logs and metrics)."""

    outbox_id: int
    recipient: str
    sender: str
    message_id: str
    attempt: int
    result: str  # "delivered" | "retry" | "dead"
    reason: str
    seconds: float


def _constant(data: bytes) -> Callable[[int], bytes]:
    return lambda _index: data


def _header(envelope: bytes) -> exchange_pb2.Message:
    """The stored envelope's message header (verified when it was received; payload dropped)."""
    message = exchange_pb2.Message()
    with contextlib.suppress(DecodeError, ValueError):
        message.ParseFromString(exchange_pb2.Envelope.FromString(envelope).body)
    message.ClearField("payload")
    return message


class DeliveryWorker:
    """Drains one node's outbox: claims due rows, delivers, verifies receipts, logs, retries."""

    def __init__(
        self,
        *,
        store: Store,
        trust: TrustConfig,
        node_id: str,
        policy: DeliveryPolicy | None = None,
        peers: Mapping[str, str] | None = None,
        credentials: grpc.ChannelCredentials | Callable[[], grpc.ChannelCredentials] | None = None,
        clock: Callable[[], datetime] = utc_now,
        rand: Callable[[], float] = random.random,
        worker_id: str = "",
    ) -> None:
        """A worker for ``node_id``'s ``store``; ``credentials`` switch the channels to mTLS.

        ``credentials`` may be a function (`gateway.node_tls.NodeTls.channel_credentials`): when it
        returns another object, the certificate was rotated and channels are reopened with it.
        """
        self.store = store
        self.trust = trust
        self.node_id = node_id
        self.policy = policy or DeliveryPolicy()
        self.peers = dict(peers or {})
        self.credentials = credentials
        self.clock = clock
        self.rand = rand
        self.worker_id = worker_id or f"{node_id}/{uuid.uuid4().hex[:8]}"
        self.observers: list[Callable[[Attempt], None]] = []
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._presented: grpc.ChannelCredentials | None = None  # what the open channels were made with
        self._closing: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False  # checked every turn: the loop ends even if a cancellation went astray
        self._task: asyncio.Task[None] | None = None

    # -- the loop --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start draining in the background."""
        self._task = asyncio.create_task(self._run(), name=f"jgx-delivery-{self.node_id}")

    def wake(self) -> None:
        """Look at the outbox now (new rows were written) instead of at the next poll."""
        self._wake.set()

    async def close(self) -> None:
        """Stop the loop (a call in flight is cancelled; its row is retried after its lease)."""
        self._stopping = True
        self._wake.set()
        await stop_task(self._task)
        self._task = None
        for channel in self._channels.values():
            await channel.close(None)
        self._channels.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def _run(self) -> None:
        # Rows are delivered concurrently, up to `batch` in flight; a slow or silent recipient holds
        # only its own channel's row, never a pass: whenever a delivery ends the loop claims again.
        inflight: set[asyncio.Task[Attempt | None]] = set()
        try:
            while not self._stopping:
                self._wake.clear()
                room = self.policy.batch - len(inflight)
                if self.clock() >= self.trust.expires_at:
                    room = 0  # nothing is sent, nor a receipt judged, under an expired trust configuration
                items: list[OutboxItem] = []
                if room > 0:
                    try:
                        items = await self.store.claim_due(
                            now=self.clock(), limit=room, lease_seconds=self.policy.lease,
                            worker=self.worker_id,
                        )  # fmt: skip
                    except Exception as exc:  # noqa: BLE001 - the worker outlives a failing store call
                        _log.error("delivery.claim_failed", error=str(exc))
                for item in items:
                    task = asyncio.create_task(self._settle(item))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                if items and len(items) == room:
                    continue  # more may be due at once
                await wait_event(self._wake, self.policy.poll_interval)
        finally:
            for task in inflight:
                task.cancel()
            await asyncio.gather(*inflight, return_exceptions=True)

    async def _settle(self, item: OutboxItem) -> Attempt | None:
        try:
            return await self.deliver(item)
        except Exception as exc:  # noqa: BLE001 - a failing store call: the row comes back after its lease
            _log.error("delivery.failed", outbox_id=item.id, error=str(exc))
            return None
        finally:
            self._wake.set()  # the channel's next row may be claimable now

    async def run_once(self) -> int:
        """One pass: claim the due channel heads and deliver them concurrently; the number claimed."""
        items = await self.store.claim_due(
            now=self.clock(), limit=self.policy.batch, lease_seconds=self.policy.lease, worker=self.worker_id
        )
        if items:
            await asyncio.gather(*(self.deliver(item) for item in items))
        return len(items)

    # -- one row ---------------------------------------------------------------------------------
    async def deliver(self, item: OutboxItem) -> Attempt:
        """Deliver one claimed row and settle, reschedule or dead-letter it."""
        started = time.perf_counter()
        data = item.envelope or b""
        header = _header(data)
        digest = envelope_digest(data)
        try:
            target = route(self.trust, self.node_id, item.recipient, self.peers)
            answer = await self._call(target, data)
            receipt = verify_receipt(
                answer, self.trust, issuer=target.issuer, now=self.clock(), envelope_sha256=digest, sent=data
            )
        except JgxError as exc:
            return await self._failed(item, header, exc.reason, exc.detail, started)
        try:
            entry = self._leaf(item, header, data, receipt, answer)
            # The leaf commits to the recipient's receipt as stored and to the outbox row it settles.
            bound = bind_side_rows(entry, hasher=self.store.hasher, receipt=answer.SerializeToString())
            await self.store.append([bound])
        except StorageError as exc:  # the recipient has it; the row is resent after its lease
            _log.error("delivery.log_failed", outbox_id=item.id, error=str(exc))
            return self._report(item, header, "retry", ReasonCode.UNAVAILABLE.value, str(exc), started)
        outcome = exchange_pb2.Outcome.Name(receipt.outcome).removeprefix("OUTCOME_").lower()
        return self._report(item, header, "delivered", "", outcome, started)

    async def _call(self, target: Route, data: bytes) -> exchange_pb2.Envelope:
        channel = self._channel(target.address)
        try:
            call = channel.unary_unary(target.method, request_serializer=None, response_deserializer=None)
            raw: bytes = await call(data, timeout=self.policy.timeout)
        except grpc.aio.AioRpcError as exc:
            reason = reason_of(exc)
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                self._retire(target.address)  # redial next time instead of gRPC's own reconnect backoff
            raise TransportError(reason, f"{exc.code().name}: {exc.details() or ''}"[:300]) from None
        response = (
            adapter_pb2.DeliverResponse() if target.method == DELIVER else exchange_pb2.SubmitResponse()
        )
        try:
            response.ParseFromString(raw)
        except (DecodeError, ValueError, TypeError):
            raise VerificationError(ReasonCode.RECEIPT_INVALID, "the answer is not a receipt") from None
        if not response.HasField("receipt"):
            raise VerificationError(ReasonCode.RECEIPT_INVALID, "the answer carries no receipt")
        return response.receipt

    def _retire(self, address: str) -> None:
        channel = self._channels.pop(address, None)
        if channel is not None:
            closing = asyncio.create_task(channel.close(grace=1.0))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    def _channel(self, address: str) -> grpc.aio.Channel:
        credentials = self.credentials() if callable(self.credentials) else self.credentials
        if credentials is not self._presented:  # a rotated certificate: reconnect presenting it
            for old in list(self._channels):
                self._retire(old)
            self._presented = credentials
        channel = self._channels.get(address)
        if channel is None:
            if credentials is not None:
                channel = grpc.aio.secure_channel(address, credentials)
            else:
                channel = grpc.aio.insecure_channel(address)
            self._channels[address] = channel
        return channel

    def _leaf(
        self,
        item: OutboxItem,
        header: exchange_pb2.Message,
        data: bytes,
        receipt: exchange_pb2.Receipt,
        answer: exchange_pb2.Envelope,
    ) -> Entry:
        now, digest, hasher = self.clock(), envelope_digest(data), self.store.hasher
        reasons = tuple(receipt.reason_codes)
        header.recipient = item.recipient
        return Entry(
            leaf=build_leaf(
                time=now,
                kind="delivery",
                envelope_sha256=digest,
                envelope_sm3=hasher.digest(data) if hasher is SM3 else None,
                outcome=receipt.outcome,
                reason_codes=reasons,
                message=header,
                payload_type=answer.payload_type,
            ),
            kind="delivery",
            time=now,
            envelope_sha256=digest,
            outcome=receipt.outcome,
            sender=header.sender,
            recipient=item.recipient,
            message_id=header.message_id,
            standard=header.standard,
            standard_version=header.standard_version,
            correlation_id=header.correlation_id,
            action=header.action,
            reason_codes=reasons,
            receipt=_constant(answer.SerializeToString()),  # the recipient's receipt, as received
            delivers=item.id,
        )

    async def _failed(
        self, item: OutboxItem, header: exchange_pb2.Message, reason: ReasonCode, detail: str, started: float
    ) -> Attempt:
        now = self.clock()
        error = f"{reason.value}: {detail}"[:500]
        record = await self.store.message(item.log_index)
        too_old = record is not None and now - record.time >= self.policy.max_age
        if reason in _PERMANENT or item.attempts >= self.policy.max_attempts or too_old:
            await self.store.dead_letter(item.id, error=error, now=now)
            return self._report(item, header, "dead", reason.value, detail, started)
        wait = backoff(item.attempts, self.policy.backoff_base, self.policy.backoff_cap, self.rand())
        await self.store.mark_failed(item.id, error=error, next_attempt_at=now + timedelta(seconds=wait))
        return self._report(item, header, "retry", reason.value, detail, started, wait=wait)

    def _report(
        self,
        item: OutboxItem,
        header: exchange_pb2.Message,
        result: str,
        reason: str,
        detail: str,
        started: float,
        *,
        wait: float | None = None,
    ) -> Attempt:
        attempt = Attempt(
            outbox_id=item.id,
            recipient=item.recipient,
            sender=header.sender,
            message_id=header.message_id,
            attempt=item.attempts,
            result=result,
            reason=reason,
            seconds=time.perf_counter() - started,
        )
        log = _log.info if result == "delivered" else _log.warning
        log(
            "delivery",
            outbox_id=item.id,
            message_id=attempt.message_id,
            sender=attempt.sender,
            recipient=item.recipient,
            attempt=item.attempts,
            result=result,
            reason=reason,
            detail=detail[:200],
            retry_in_s=None if wait is None else round(wait, 3),
            latency_ms=round(attempt.seconds * 1000, 3),
        )
        for observe in self.observers:
            observe(attempt)
        return attempt


def start_delivery(
    hub: Hub,
    *,
    policy: DeliveryPolicy | None = None,
    peers: Mapping[str, str] | None = None,
    credentials: grpc.ChannelCredentials | Callable[[], grpc.ChannelCredentials] | None = None,
) -> DeliveryWorker:
    """Start a worker draining ``hub``'s outbox, woken whenever the hub accepts an envelope to relay."""
    worker = DeliveryWorker(
        store=hub.store,
        trust=hub.trust,
        node_id=hub.node_id,
        policy=policy,
        peers=peers,
        credentials=credentials,
        clock=hub.clock,
    )

    def wake(event: Mapping[str, object]) -> None:
        if event.get("outcome") == "accepted" and event.get("recipient") not in ("", hub.node_id):
            worker.wake()

    hub.observers.append(wake)
    worker.start()
    return worker
