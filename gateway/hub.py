"""The I/O shell of a gateway node: steps 9–12 of DESIGN §2 around the pure pipeline.

    receive bytes ─► (dup?) ─► pipeline.judge, steps 1–8 ─► 9 log leaf (durable)
                                                          ─► 10 outbox rows, same transaction
                                                          ─► 11 signed receipt, same transaction
                                                          ─► 12 left to the delivery worker (outbox)

Every envelope that passes step 2 gets a leaf and a signed receipt, accepted or rejected; refusals at
steps 1–2 (no envelope to receipt) are answered with a status and logged as events. A duplicate (the
exact bytes of an earlier envelope whose message id was consumed) gets its own ``duplicate`` leaf and
is answered with the original receipt; the same id with other bytes is REPLAYED.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypedDict

import structlog

from gateway._text import encodable, storable
from gateway._time import utc_now
from gateway.envelope import envelope_digest
from gateway.errors import ReasonCode
from gateway.freshness import remember_until
from gateway.keys import PrivateKey
from gateway.logbook import LogSigner, bind_side_rows, build_leaf
from gateway.loghead import LogHead
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pipeline import Validate, Verdict, judge
from gateway.policy import LocalLimits, Policy
from gateway.receipts import bounded_findings, issue_receipt
from gateway.sequencer import Checkpointer, Sequencer
from gateway.storage import (
    Appended,
    Entry,
    EntryRefused,
    MessageRecord,
    ReplayConflict,
    Seen,
    SignerUnavailable,
    StorageError,
    Store,
)
from gateway.treehash import SM3
from gateway.trust import TrustConfig

__all__ = ["SIGNER_FAILED", "STORE_FAILED", "Handled", "Hub", "SeenCache"]

# What a client is told when the log cannot be written: the store's own error (table names, SQL,
# file paths) is logged on the node and never sent.
STORE_FAILED = "交换日志暂时无法写入 / the exchange log cannot be written at the moment"
# What a client is told when the node's signing key (on a token) cannot sign its receipt.
SIGNER_FAILED = "本节点暂时无法签名回执 / this node cannot sign receipts at the moment"

_log = structlog.get_logger("jgx.hub")
_OUTCOME_NAMES = {v: k.removeprefix("OUTCOME_").lower() for k, v in exchange_pb2.Outcome.items()}


@dataclass(frozen=True, slots=True)
class Handled:
    """The hub's answer to one envelope: a signed receipt, or a refusal before one could be issued."""

    receipt: bytes | None
    outcome: exchange_pb2.Outcome.ValueType
    reasons: tuple[str, ...] = ()
    log_index: int | None = None
    detail: str = ""
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class _Original:
    log_index: int
    receipt: bytes
    header: exchange_pb2.Message  # the original's header fields (no payload)


class SeenCache:
    """The replay window in memory (`gateway.freshness.SeenIds`); the durable copy is the seen table."""

    def __init__(self) -> None:
        """An empty window; `load` fills it from the store at start."""
        self._until: dict[tuple[str, str], datetime] = {}

    def seen(self, sender: str, message_id: str, *, now: datetime) -> bool:
        """True when (sender, message_id) was consumed and is still within its window at ``now``."""
        until = self._until.get((sender, message_id))
        return until is not None and now <= until

    def add(self, seen: Seen, *, now: datetime | None = None) -> None:
        """Consume an id (before its leaf is written, so concurrent copies see it).

        Every 4096 ids, ids whose window closed before ``now`` are forgotten: a message that old is
        EXPIRED anyway, and the seen table keeps the durable record.
        """
        self._until[(seen.sender, seen.message_id)] = seen.until
        if now is not None and len(self._until) % 4096 == 0:
            self._until = {key: until for key, until in self._until.items() if until >= now}

    def discard(self, sender: str, message_id: str) -> None:
        """Give an id back when its leaf could not be written."""
        self._until.pop((sender, message_id), None)

    def load(self, rows: list[Seen]) -> None:
        """Fill the window from stored rows."""
        for row in rows:
            self.add(row)


class Hub:
    """One gateway node's exchange: judge, log, receipt, outbox, checkpoints."""

    def __init__(
        self,
        *,
        node_id: str,
        key: PrivateKey,
        trust: TrustConfig,
        store: Store,
        validate: Validate | None = None,
        clock: Callable[[], datetime] = utc_now,
        limits: LocalLimits | None = None,
        checkpoint_every: int = 1000,
        checkpoint_interval: float = 5.0,
        head: LogHead | None = None,
    ) -> None:
        """A hub for ``node_id`` signing receipts with ``key``; call `start` before `submit`.

        ``head`` (the node directory's `LogHead`) records each commit before its receipts are
        released and each stored checkpoint, so a database that later loses its tail is refused.
        """
        self.node_id = node_id
        self.key = key
        self.trust = trust
        self.store = store
        self.validate = validate
        self.clock = clock
        self.limits = limits or LocalLimits()
        self.hasher = store.hasher  # the log's hash profile, checked against the stored log on open
        self.signer = LogSigner.for_key(node_id, key, self.hasher)
        self.seen = SeenCache()
        self.checkpointer = Checkpointer(
            store, self.signer, clock=clock, every=checkpoint_every, interval=checkpoint_interval
        )
        on_commit = self.checkpointer.committed
        if head is not None:
            self.checkpointer.on_checkpoint = lambda stored: head.checkpointed(stored.note)

            def on_commit(size: int) -> None:
                head.committed(size)  # before any receipt of the batch leaves the node
                self.checkpointer.committed(size)

        self._sequencer = Sequencer(store, on_commit=on_commit, on_failure=self._forget)
        self._expiry_logged = False
        self._inflight: dict[bytes, tuple[exchange_pb2.Message, asyncio.Future[Appended]]] = {}
        # Called with the fields of every per-envelope event (metrics, the delivery worker's wake-up).
        self.observers: list[Callable[[Mapping[str, object]], None]] = []

    @property
    def policy(self) -> Policy:
        """The limits in force: the trust configuration's policies, tightened by this node's own."""
        return Policy.of(self.trust, self.limits)

    async def start(self) -> None:
        """Load the replay window, start the sequencer and the checkpointer."""
        self.seen.load(await self.store.seen_since(self.clock()))
        self._sequencer.start()
        await self.checkpointer.start()

    @property
    def pending_writes(self) -> int:
        """Envelopes judged and waiting for the log writer's next batch."""
        return self._sequencer.queued

    async def close(self) -> None:
        """Drain: write every queued entry, sign a last checkpoint. The store stays open."""
        await self._sequencer.close()
        await self.checkpointer.close()

    # -- steps 1–11 ------------------------------------------------------------------------------
    async def submit(self, data: bytes, *, transport_node: str | None = None) -> Handled:
        """Judge, log and receipt one envelope received as ``data`` (exact bytes).

        Never raises for what a peer sends: a fault of this node (a bug, a broken store) becomes an
        INTERNAL or UNAVAILABLE answer with no receipt, and an error event with the traceback.
        """
        if (expired := self._trust_expired()) is not None:
            return expired
        try:
            return await self._judged_again_on_conflict(data, transport_node)
        except asyncio.CancelledError:
            raise
        except StorageError as exc:
            _log.exception("envelope.store_failed", detail=str(exc))
            return Handled(
                None, exchange_pb2.OUTCOME_REJECTED, (ReasonCode.UNAVAILABLE.value,), detail=STORE_FAILED
            )
        except Exception as exc:  # noqa: BLE001 - the last line of defence: answer, log, keep serving
            _log.exception("envelope.internal_error", error=type(exc).__name__)
            return Handled(
                None, exchange_pb2.OUTCOME_REJECTED, (ReasonCode.INTERNAL.value,), detail="internal error"
            )

    def _trust_expired(self) -> Handled | None:
        """TRUST_EXPIRED once the trust configuration in force has expired (freeze protection, DESIGN §4).

        Keys, ACL and policies of an expired document are no longer vouched for by its admins, so the
        node judges nothing against them: every envelope is refused, unlogged, until a new signed
        version is installed (and the node restarted). ``trust.expired`` is logged once.
        """
        now = self.clock()
        if now < self.trust.expires_at:
            return None
        expired = f"{self.trust.expires_at:%Y-%m-%dT%H:%M:%SZ}"
        if not self._expiry_logged:
            self._expiry_logged = True
            _log.error("trust.expired", version=self.trust.version, expired_at=expired)
        handled = Handled(
            None,
            exchange_pb2.OUTCOME_REJECTED,
            (ReasonCode.TRUST_EXPIRED.value,),
            detail=f"trust configuration version {self.trust.version} expired at {expired}",
        )
        self._event(handled, None, time.perf_counter(), step=None)  # before any step of §7
        return handled

    async def _judged_again_on_conflict(self, data: bytes, transport_node: str | None) -> Handled:
        try:
            return await self._submit(data, transport_node, stored_first=False)
        except ReplayConflict:
            # Another replica on the same database (or a racing copy) consumed the id first: the
            # store's unique key is the final word. Judged again, the envelope is now a DUPLICATE
            # (same bytes: the original receipt) or REPLAYED (other bytes), with its own leaf.
            try:
                return await self._submit(data, transport_node, stored_first=True)
            except ReplayConflict as exc:  # cannot happen twice unless the store misbehaves
                _log.error("envelope.replay_conflict_again", detail=str(exc))
                return Handled(
                    None, exchange_pb2.OUTCOME_REJECTED, (ReasonCode.UNAVAILABLE.value,), detail=STORE_FAILED
                )

    async def _submit(self, data: bytes, transport_node: str | None, *, stored_first: bool) -> Handled:
        started = time.perf_counter()
        now = self.clock()
        digest = envelope_digest(data)
        # An exact copy of a logged envelope is a DUPLICATE. Its message id is still in the replay
        # window while the copy is fresh, so a copy that judge() would accept cannot be one: the
        # store is asked only for verdicts other than ACCEPTED (or after another replica's conflict).
        original = await self._original(digest, stored=stored_first)
        if original is not None:
            return await self._duplicate(original, data, digest, now, started)
        # (1)–(8) the pure pipeline.
        verdict = judge(
            data,
            trust=self.trust,
            local_node=self.node_id,
            now=now,
            seen=self.seen,
            transport_node=transport_node,
            policy=self.policy,
            validate=self.validate,
        )
        if not verdict.accepted and not stored_first:
            original = await self._original(digest, stored=True)  # e.g. REPLAYED, or since EXPIRED
            if original is not None:
                return await self._duplicate(original, data, digest, now, started)
        if verdict.envelope is None:  # refused at step 1 or 2: there is nothing to receipt
            handled = Handled(
                None, verdict.outcome, tuple(r.value for r in verdict.reasons), detail=verdict.detail
            )
            self._event(handled, verdict.message, started, step=verdict.step)
            return handled
        if verdict.reasons == (ReasonCode.REPLAYED,):
            original = await self._original(digest, stored=True)  # a copy that raced its original
            if original is not None:
                return await self._duplicate(original, data, digest, now, started)
        return await self._record(verdict, data, digest, now, started)

    async def _record(
        self, verdict: Verdict, data: bytes, digest: bytes, now: datetime, started: float
    ) -> Handled:
        try:
            return await self._commit(verdict, data, digest, now, started)
        except (ReplayConflict, asyncio.CancelledError):
            raise
        except SignerUnavailable as exc:  # the key cannot sign any receipt: nothing kept, the id not consumed
            _log.error(
                "envelope.signing_failed",
                message_id=_header(verdict.message)["message_id"],
                sender=_header(verdict.message)["sender"],
                error=str(exc),
            )
            handled = Handled(None, verdict.outcome, (ReasonCode.UNAVAILABLE.value,), detail=SIGNER_FAILED)
            self._event(handled, verdict.message, started, step=9)
            return handled
        except StorageError as exc:
            if not isinstance(exc, EntryRefused):  # the sequencer logged the store's words: none are sent
                handled = Handled(None, verdict.outcome, (ReasonCode.UNAVAILABLE.value,), detail=STORE_FAILED)
                self._event(handled, verdict.message, started, step=9)
                return handled
            failure: Exception = exc
        except Exception as exc:  # noqa: BLE001 - a fault while building this entry concerns it alone
            failure = exc
        # The entry could not be kept as judged (a bug of this node or of its validator, never the
        # store being down): answer with a logged rejection that holds nothing but the envelope bytes,
        # the parsed header and INTERNAL, so the envelope is still accounted for and receipted.
        _log.error(
            "envelope.entry_refused",
            message_id=_header(verdict.message)["message_id"],
            sender=_header(verdict.message)["sender"],
            error=f"{type(failure).__name__}: {failure}"[:300],
            reasons=[r.value for r in verdict.reasons],
        )
        fallback = replace(
            verdict,
            outcome=exchange_pb2.OUTCOME_REJECTED,
            reasons=(ReasonCode.INTERNAL,),
            findings=(),
            message=_storable_header(verdict.message),
            # Step 9 where the verdict consumed its id (step 6 on), so the id stays consumed and the
            # receipt names the message as before; an earlier refusal keeps its own step.
            step=9 if verdict.step >= 6 else verdict.step,
            detail=f"entry refused: {type(failure).__name__}",
        )
        return await self._commit(fallback, data, digest, now, started)

    async def _commit(
        self, verdict: Verdict, data: bytes, digest: bytes, now: datetime, started: float
    ) -> Handled:
        """(9)(10)(11) One entry for ``verdict``: leaf, outbox rows and receipt in one transaction."""
        message, envelope = verdict.message, verdict.envelope
        reasons = tuple(r.value for r in verdict.reasons)
        # Findings are bounded and made encodable now, outside the store's transaction.
        findings = bounded_findings(verdict.findings)
        seen = None
        if message is not None and verdict.consumes_id:
            # The id is consumed by any verified message, accepted or not: a resend needs a new id.
            seen = Seen(
                message.sender, message.message_id, remember_until(message, skew=self.policy.clock_skew)
            )
            self.seen.add(seen, now=now)
        deliver = verdict.accepted and message is not None and message.recipient != self.node_id

        digest_sm3 = self._sm3(data)

        def receipt(log_index: int) -> bytes:
            return issue_receipt(
                issuer=self.node_id,
                key=self.key,
                envelope_sha256=digest,
                envelope_sm3=digest_sm3,
                message_id=message.message_id if message else "",
                sender=message.sender if message else "",
                recipient=message.recipient if message else "",
                outcome=verdict.outcome,
                reason_codes=reasons,
                findings=findings,
                log_index=log_index,
                now=now,
            ).SerializeToString()

        entry = Entry(
            leaf=build_leaf(
                time=now,
                kind="submission",
                envelope_sha256=digest,
                envelope_sm3=digest_sm3,
                outcome=verdict.outcome,
                reason_codes=reasons,
                message=message,
                payload_type=envelope.payload_type if envelope is not None else "",
            ),
            kind="submission",
            time=now,
            envelope_sha256=digest,
            outcome=verdict.outcome,
            reason_codes=reasons,
            # The exact bytes received (they hash to the leaf's digest), never a re-serialization.
            envelope=data if envelope is not None else None,
            payload=message.payload if message is not None else None,
            receipt=receipt,
            outbox=(message.recipient,) if deliver and message is not None else (),
            seen=seen,
            **_header(message),
        )
        entry = bind_side_rows(entry, hasher=self.hasher)  # the leaf commits to every row stored beside it
        future = self._sequencer.append(entry)
        if seen is not None and message is not None:
            self._inflight[digest] = (message, future)
            future.add_done_callback(lambda _: self._inflight.pop(digest, None))
        try:
            appended = await future
        except ReplayConflict:
            if seen is not None:
                self.seen.add(seen)  # consumed elsewhere: remember it so the second judgement says so
            raise
        handled = Handled(appended.receipt, verdict.outcome, reasons, appended.log_index, verdict.detail)
        self._event(handled, message, started, step=verdict.step)
        return handled

    async def _original(self, digest: bytes, *, stored: bool) -> _Original | None:
        inflight = self._inflight.get(digest)
        if inflight is not None:
            header, future = inflight
            try:
                appended = await asyncio.shield(future)
            except StorageError:
                return None  # the original was not logged (its id was given back): judge this copy anew
            return _Original(appended.log_index, appended.receipt or b"", header)
        if not stored:
            return None
        record = await self.store.find_original(digest)
        if record is None or record.receipt is None:
            return None
        return _Original(record.log_index, record.receipt, _message_of(record))

    def _sm3(self, data: bytes) -> bytes | None:
        """SM3 of the envelope bytes under the sm3 profile (leaf and receipt carry it); None otherwise."""
        return self.hasher.digest(data) if self.hasher is SM3 else None

    async def _duplicate(
        self, original: _Original, data: bytes, digest: bytes, now: datetime, started: float
    ) -> Handled:
        outcome = exchange_pb2.OUTCOME_DUPLICATE
        entry = Entry(
            leaf=build_leaf(
                time=now,
                kind="submission",
                envelope_sha256=digest,
                envelope_sm3=self._sm3(data),
                outcome=outcome,
                message=original.header,
            ),
            kind="submission",
            time=now,
            envelope_sha256=digest,
            outcome=outcome,
            receipt=lambda _: original.receipt,
            duplicate_of=original.log_index,
            **_header(original.header),
        )
        entry = bind_side_rows(entry, hasher=self.hasher, receipt=original.receipt)
        try:
            appended = await self._sequencer.append(entry)
        except StorageError:
            handled = Handled(None, outcome, (ReasonCode.UNAVAILABLE.value,), detail=STORE_FAILED)
        else:
            handled = Handled(original.receipt, outcome, (), appended.log_index, duplicate=True)
        self._event(handled, original.header, started, step=0)
        return handled

    def _forget(self, entry: Entry) -> None:
        if entry.seen is not None:
            self.seen.discard(entry.seen.sender, entry.seen.message_id)

    def _event(
        self, handled: Handled, message: exchange_pb2.Message | None, started: float, *, step: int | None
    ) -> None:
        fields = _header(message)
        event: dict[str, object] = {
            "message_id": fields["message_id"],
            "sender": fields["sender"],
            "recipient": fields["recipient"],
            "standard": fields["standard"],
            # Nothing logged, nothing receipted: "refused", whatever the verdict would have been, so that
            # jgx_envelopes_accepted_total counts only envelopes whose leaf was committed.
            "outcome": (
                _OUTCOME_NAMES.get(handled.outcome, str(handled.outcome))
                if handled.receipt is not None
                else "refused"
            ),
            "reasons": list(handled.reasons),
            "log_index": handled.log_index,
            "step": step,
            "duplicate": handled.duplicate,
            "detail": encodable(handled.detail, limit=200),
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        # A verdict of INTERNAL is a fault of this node (its validator, its code): an error to look at.
        (_log.error if ReasonCode.INTERNAL.value in handled.reasons else _log.info)("envelope", **event)
        for observe in self.observers:
            observe(event)


class _Header(TypedDict):
    sender: str
    recipient: str
    message_id: str
    standard: str
    standard_version: str
    correlation_id: str
    action: str


def _header(message: exchange_pb2.Message | None) -> _Header:
    if message is None:
        message = exchange_pb2.Message()
    return {
        "sender": message.sender,
        "recipient": message.recipient,
        "message_id": message.message_id,
        "standard": message.standard,
        "standard_version": message.standard_version,
        "correlation_id": message.correlation_id,
        "action": message.action,
    }


def _message_of(record: MessageRecord) -> exchange_pb2.Message:
    return exchange_pb2.Message(
        sender=record.sender,
        recipient=record.recipient,
        message_id=record.message_id,
        standard=record.standard,
        standard_version=record.standard_version,
        correlation_id=record.correlation_id,
        action=record.action,
    )


def _storable_header(message: exchange_pb2.Message | None) -> exchange_pb2.Message | None:
    """A copy of ``message``'s header whose text every store keeps (`gateway._text.storable`)."""
    if message is None:
        return None
    header = exchange_pb2.Message()
    header.CopyFrom(message)
    for name in ("sender", "recipient", "message_id", "standard", "standard_version", "correlation_id",
                 "action"):  # fmt: skip
        setattr(header, name, storable(getattr(header, name)))
    return header
