"""The Adapter service a department runs (DESIGN §3, `jgx.adapter.v1.Adapter`): Describe, Deliver, Export.

Deliver is the hub pushing one signed envelope to the department. The adapter judges it with the same
pure pipeline as the hub (with itself as the local node), answers an identical envelope with the
receipt it gave the first time, refuses a reused message id with other bytes as REPLAYED, signs its
own receipt, and only then hands an accepted message to the department's mapping, the values sealed
for the adapter's key opened (wire.md §12.7; the store keeps the envelope as received). Receipts and
seen ids live in a SQLite file, so a restart forgets nothing.

Deliver receives the exact envelope bytes (no protobuf round trip), so the digest in the receipt is
the digest of what the hub sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import grpc
import structlog

from adapters.lifecycle import IllegalTransition, china_day, deadline_overrides
from adapters.national import next_batch
from adapters.sdk._status import abort
from adapters.sdk.department import Department, Handling, Record
from adapters.sdk.messages import record_message
from adapters.sdk.store import AdapterStore
from adapters.sdk.worklist import Worklist
from gateway._time import utc_now
from gateway.envelope import envelope_digest, seal_message
from gateway.errors import ReasonCode, TransportError, VerificationError
from gateway.freshness import remember_until
from gateway.keys import PrivateKey
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pipeline import Validate, Verdict, judge, relays_for
from gateway.receipts import issue_receipt
from gateway.sealed_records import open_message
from gateway.tls import peer_identity
from gateway.trust import TrustConfig

__all__ = [
    "SERVICE",
    "AdapterIdentity",
    "AdapterServicer",
    "PeerIdentity",
    "Published",
    "peer_node",
    "rpc_handler",
]

SERVICE = "jgx.adapter.v1.Adapter"
log = structlog.get_logger("jgx.adapter")

#: Maps a call to the node id of its authenticated TLS client, or None on an insecure channel.
PeerIdentity = Callable[[grpc.aio.ServicerContext[object, object], TrustConfig], str | None]


def peer_node(context: grpc.aio.ServicerContext[object, object], trust: TrustConfig) -> str | None:
    """The node id in the client's mTLS certificate; None on an insecure channel, "" when it names no node."""
    auth = context.auth_context()
    if b"ssl" not in auth.get("transport_security_type", []):
        return None
    try:
        node = peer_identity(auth).node_id
    except TransportError as exc:
        log.warning("deliver.peer_refused", detail=exc.detail)
        return ""
    return node if node in trust.nodes else ""


@dataclass(frozen=True, slots=True)
class AdapterIdentity:
    """Who the adapter is: its node id, signing key and the software it runs."""

    node_id: str
    key: PrivateKey
    software_name: str = "jgx-adapter"
    software_version: str = "0.1.0"
    build_digest: str = ""
    contact: str = ""


@dataclass(frozen=True, slots=True)
class Published:
    """What `AdapterServicer.publish` queued: the batch id and how many records went as what."""

    batch_id: str
    inserted: int
    updated: int
    unchanged: int



class AdapterServicer:
    """Serves `jgx.adapter.v1.Adapter` for one department; the department supplies only its mapping."""

    def __init__(
        self,
        *,
        identity: AdapterIdentity,
        trust: TrustConfig,
        department: Department,
        store: AdapterStore,
        validate: Validate | None = None,
        clock: Callable[[], datetime] = utc_now,
        peer_identity: PeerIdentity = peer_node,
        on_handled: Callable[[exchange_pb2.Message, Handling, datetime], None] | None = None,
    ) -> None:
        self.identity = identity
        self.trust = trust
        self.department = department
        self.store = store
        self.validate = validate
        self.clock = clock
        self.peer_identity = peer_identity
        self.on_handled = on_handled
        self.worklist = Worklist(store, node=identity.node_id, overrides=deadline_overrides(trust.policies))
        # A department that keeps delivered dispatches in memory gets them back after a restart.
        restore = getattr(department, "restore", None)
        if callable(restore):
            restore([self._opened(exchange_pb2.Message.FromString(m)) for m in store.dispatches()])

    def _opened(self, message: exchange_pb2.Message) -> exchange_pb2.Message:
        """`message` with the values sealed for this adapter opened (as is when they do not open)."""
        try:
            return open_message(message, self.identity.key)
        except VerificationError:
            return message

    @property
    def hub(self) -> str:
        """The gateway this adapter's node sits behind (its relay and default recipient)."""
        node = self.trust.nodes.get(self.identity.node_id)
        return node.gateway if node is not None and node.gateway else "sc.hub"

    # -- Describe ----------------------------------------------------------------------------------

    def manifest(self) -> adapter_pb2.Manifest:
        """The adapter's manifest: node id, claimed standards, software and key ids."""
        return adapter_pb2.Manifest(
            node_id=self.identity.node_id,
            standards=[
                adapter_pb2.StandardClaim(standard=c.standard, standard_version=c.version)
                for c in self.department.claims()
            ],
            software_name=self.identity.software_name,
            software_version=self.identity.software_version,
            build_digest=self.identity.build_digest,
            key_ids=[self.identity.key.key_id],
            contact=self.identity.contact,
        )

    async def Describe(
        self,
        request: adapter_pb2.DescribeRequest,  # noqa: ARG002 - the gRPC signature
        context: grpc.aio.ServicerContext[object, object],  # noqa: ARG002
    ) -> adapter_pb2.Manifest:
        """Answer with the manifest."""
        return self.manifest()

    # -- Deliver -----------------------------------------------------------------------------------

    async def Deliver(
        self, request: bytes, context: grpc.aio.ServicerContext[object, object]
    ) -> adapter_pb2.DeliverResponse:
        """Judge the delivered envelope bytes and answer with the adapter's signed receipt."""
        receipt = self.deliver(request, transport_node=self.peer_identity(context, self.trust))
        return adapter_pb2.DeliverResponse(receipt=exchange_pb2.Envelope.FromString(receipt))

    def deliver(self, data: bytes, *, transport_node: str | None = None) -> bytes:
        """The receipt (serialized envelope) for delivered envelope bytes `data`; records what it decided."""
        now = self.clock()
        digest = envelope_digest(data)
        # (a) Exactly these bytes were receipted before: the original receipt, unchanged.
        earlier = self.store.by_digest(digest)
        if earlier is not None:
            log.info("deliver.duplicate", sender=earlier.sender, message_id=earlier.message_id)
            return earlier.receipt
        # (b) The hub's pipeline, steps 2-8, with this adapter as the local node.
        verdict = judge(
            data, trust=self.trust, local_node=self.identity.node_id, now=now, seen=self.store,
            validate=self.validate,
        )  # fmt: skip
        message = verdict.message
        # (c) Step 5's transport check after the fact: the TLS client must be the sender or this
        #     adapter's own gateway.
        if (
            transport_node is not None
            and message is not None
            and verdict.outcome != exchange_pb2.OUTCOME_REJECTED
        ):
            allowed = relays_for(self.trust, message.sender) | {self.hub}
            if transport_node not in allowed:
                verdict = Verdict(
                    exchange_pb2.OUTCOME_REJECTED, digest, (ReasonCode.IDENTITY_MISMATCH,),
                    envelope=verdict.envelope, message=message, step=5, detail=transport_node,
                )  # fmt: skip
        # (d) A lifecycle action must fit the task's state (no claim for a closed task).
        if verdict.accepted and message is not None:
            try:
                self.worklist.check(message)
            except IllegalTransition as exc:
                verdict = Verdict(
                    exchange_pb2.OUTCOME_REJECTED, digest, (exc.reason,), envelope=verdict.envelope,
                    message=message, step=8, detail=exc.detail,
                )  # fmt: skip
        # (e) Open the values sealed for this adapter's key (wire.md §12): only the recipient can tell
        #     that a sealed value really opens; one that does not is MALFORMED.
        opened = message
        if verdict.accepted and message is not None:
            try:
                opened = open_message(message, self.identity.key)
            except VerificationError as exc:
                verdict = Verdict(
                    exchange_pb2.OUTCOME_REJECTED, digest, (exc.reason,), envelope=verdict.envelope,
                    message=message, step=8, detail=exc.detail,
                )  # fmt: skip
        # (f) Hand an accepted message (sealed values opened) to the department before receipting it: if
        #     the mapping fails, nothing is recorded and the hub's redelivery gets another chance.
        if verdict.accepted and opened is not None:
            try:
                handling = self.department.handle_delivered(opened, now=now)
            except Exception as exc:
                log.exception("deliver.department_failed", message_id=opened.message_id, error=str(exc))
                return self._receipt(verdict, now, reasons=(ReasonCode.INTERNAL,), log_index=0)
        else:
            handling = Handling()
        return self._record(verdict, handling, now, opened)

    def _receipt(
        self,
        verdict: Verdict,
        now: datetime,
        *,
        reasons: tuple[ReasonCode, ...] | None = None,
        log_index: int,
    ) -> bytes:
        message = verdict.message
        codes = verdict.reasons if reasons is None else reasons
        outcome = exchange_pb2.OUTCOME_REJECTED if codes else verdict.outcome
        return issue_receipt(
            issuer=self.identity.node_id,
            key=self.identity.key,
            envelope_sha256=verdict.envelope_sha256,
            message_id=message.message_id if message is not None else "",
            sender=message.sender if message is not None else "",
            recipient=message.recipient if message is not None else "",
            outcome=outcome,
            reason_codes=[r.value for r in codes],
            findings=verdict.findings,
            log_index=log_index,
            now=now,
        ).SerializeToString()

    def _record(
        self, verdict: Verdict, handling: Handling, now: datetime, opened: exchange_pb2.Message | None
    ) -> bytes:
        message = verdict.message
        # Envelopes refused before the sender was established (forged, unreadable, another node's body or
        # TLS connection, step 5 at the latest) name no trustworthy (sender, message_id): receipt, keep
        # nothing. A replay must not overwrite the pair's first record.
        if message is None or not verdict.consumes_id:
            log.info("deliver.rejected", reasons=[r.value for r in verdict.reasons], step=verdict.step)
            return self._receipt(verdict, now, log_index=0)
        receipt = self._receipt(verdict, now, log_index=self.store.next_seq())
        stored = self.store.record(
            sender=message.sender, message_id=message.message_id, envelope_sha256=verdict.envelope_sha256,
            outcome=verdict.outcome, receipt=receipt, received_at=now,
            remember_until=remember_until(message, skew=self.trust.clock_skew), standard=message.standard,
            action=message.action, correlation_id=message.correlation_id,
        )  # fmt: skip
        if stored is None:  # the pair was recorded in between: same bytes or a replay
            earlier = self.store.by_id(message.sender, message.message_id)
            if earlier is not None and earlier.envelope_sha256 == verdict.envelope_sha256:
                return earlier.receipt
            return self._receipt(verdict, now, reasons=(ReasonCode.REPLAYED,), log_index=0)
        log.info(
            "deliver.receipted", sender=message.sender, message_id=message.message_id,
            standard=message.standard, action=message.action, correlation_id=message.correlation_id,
            outcome=exchange_pb2.Outcome.Name(verdict.outcome), reasons=[r.value for r in verdict.reasons],
        )  # fmt: skip
        if verdict.accepted:
            if message.action == "dispatch" and self.worklist.tracks(message):
                self.store.save_dispatch(message.correlation_id, message.SerializeToString())
            self._queue(handling.replies, now)
            self.worklist.record(message, handling, now)
            if self.on_handled is not None and opened is not None:
                self.on_handled(opened, handling, now)
        return receipt

    def publish(self, records: Iterable[Record]) -> Published:
        """Queue the department's records for the hub as one batch (cd_batch), skipping unchanged ones.

        A record seen for the first time goes as an insert (cd_operation ``i``), a changed one as an
        update (``u``); one whose payload is unchanged since it was last published is not sent again,
        so running the same export twice sends nothing twice.
        """
        now = self.clock()
        day = china_day(now)
        batch = next_batch(day, self.store.batches(day.strftime("%Y%m%d")))
        inserted = updated = unchanged = 0
        queued: list[tuple[Record, bytes]] = []
        for record in records:
            digest = hashlib.sha256(
                json.dumps(record.payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
            ).digest()
            before = self.store.published(record.standard, record.business_key)
            if before == digest and record.operation != "delete":
                unchanged += 1
                continue
            operation = record.operation if before is None or record.operation == "delete" else "update"
            inserted += before is None
            updated += before is not None
            queued.append((replace(record, operation=operation, batch_id=batch), digest))
        self._queue([r for r, _ in queued], now)
        for record, digest in queued:
            self.store.mark_published(record.standard, record.business_key, digest, batch)
        return Published(batch if queued else "", inserted, updated, unchanged)

    def send(self, records: Sequence[Record]) -> list[str]:
        """Sign the department's own records (e.g. a later 反馈) into the outbox; their message ids.

        Lifecycle replies also move their task or clue (`IllegalTransition` when they may not).
        """
        now = self.clock()
        for record in records:
            if record.action and record.correlation_id:
                self.worklist.reply(record, now)
        return self._queue(records, now)

    def _queue(self, records: Sequence[Record], now: datetime) -> list[str]:
        ids: list[str] = []
        for reply in records:
            outgoing = record_message(
                reply, sender=self.identity.node_id, default_recipient=self.hub, now=now, trust=self.trust
            )
            envelope = seal_message(outgoing, self.identity.key).SerializeToString()
            self.store.enqueue(
                message_id=outgoing.message_id, envelope=envelope, now=now,
                correlation_id=outgoing.correlation_id, action=outgoing.action,
            )  # fmt: skip
            ids.append(outgoing.message_id)
        return ids

    # -- Export ------------------------------------------------------------------------------------

    async def Export(
        self, request: adapter_pb2.ExportRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> AsyncIterator[exchange_pb2.Envelope]:
        """Stream the department's records of one claimed standard as signed envelopes."""
        claims = {c.standard: c.version for c in self.department.claims()}
        if request.standard not in claims:
            await abort(context, ReasonCode.STANDARD_UNKNOWN, f"{request.standard!r} is not claimed")
        version = claims[request.standard]
        if request.standard_version and request.standard_version != version:
            await abort(context, ReasonCode.VERSION_NOT_IN_FORCE, f"claims {request.standard}@{version} only")
        recipient = request.recipient or self.hub
        if recipient not in self.trust.nodes:
            await abort(context, ReasonCode.NOT_ADDRESSED_TO_US, f"recipient {recipient!r} is no node")
        now = self.clock()
        for count, record in enumerate(self.department.export(request.standard), start=1):
            message = record_message(
                record, sender=self.identity.node_id, default_recipient=recipient, now=now, trust=self.trust
            )
            message.standard_version = version
            yield seal_message(message, self.identity.key)
            if request.limit and count >= request.limit:
                break


def rpc_handler(servicer: AdapterServicer) -> grpc.GenericRpcHandler[object, object]:
    """The service's method handlers; Deliver takes the raw envelope bytes (no re-serialization)."""
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Describe": grpc.unary_unary_rpc_method_handler(
                servicer.Describe,
                request_deserializer=adapter_pb2.DescribeRequest.FromString,
                response_serializer=adapter_pb2.Manifest.SerializeToString,
            ),
            "Deliver": grpc.unary_unary_rpc_method_handler(
                servicer.Deliver,
                request_deserializer=None,
                response_serializer=adapter_pb2.DeliverResponse.SerializeToString,
            ),
            "Export": grpc.unary_stream_rpc_method_handler(
                servicer.Export,
                request_deserializer=adapter_pb2.ExportRequest.FromString,
                response_serializer=exchange_pb2.Envelope.SerializeToString,
            ),
        },
    )
