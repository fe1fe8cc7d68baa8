"""Read-side answers of the Exchange service: Trace, checkpoints and proofs, from stored hashes only.

Proofs are assembled from O(log n) stored complete-subtree hashes (`gateway.merkle`), never by
recomputing the tree. A proof "against the latest checkpoint" for a leaf newer than that checkpoint
first signs a new checkpoint, so a sender can prove its receipt at once.

Every request is checked before the store sees it (an id of bounded length without NUL, an index
inside the log, sizes in order): what a client sends wrong is MALFORMED (INVALID_ARGUMENT), and a
failing store is the caller's to report as UNAVAILABLE, never with the store's own words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.errors import ReasonCode, VerificationError
from gateway.merkle import ProofError
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.storage import MessageRecord, StoredCheckpoint

if TYPE_CHECKING:
    from gateway.hub import Hub

__all__ = ["LogQueries", "trace_event"]

_MAX_TEXT = 256  # characters of an id in a query (message ids are at most 64)


def _text(value: str, field: str, *, required: bool = False) -> str:
    """``value`` if it can name something in the log; MALFORMED otherwise."""
    if (required and not value) or len(value) > _MAX_TEXT or "\x00" in value:
        raise VerificationError(ReasonCode.MALFORMED, f"{field} must be 1–{_MAX_TEXT} characters without NUL")
    return value


def _malformed(detail: str) -> VerificationError:
    return VerificationError(ReasonCode.MALFORMED, detail)


def trace_event(node: str, record: MessageRecord) -> exchange_pb2.TraceEvent:
    """The TraceEvent of a stored row."""
    event = exchange_pb2.TraceEvent(
        node=node,
        log_index=record.log_index,
        kind=record.kind,
        sender=record.sender,
        recipient=record.recipient,
        message_id=record.message_id,
        standard=record.standard,
        outcome=record.outcome,  # type: ignore[arg-type]
        reason_codes=list(record.reason_codes),
        envelope_sha256=record.envelope_sha256,
        action=record.action,
        correlation_id=record.correlation_id,
    )
    event.time.FromDatetime(record.time)
    return event


def _checkpoint(stored: StoredCheckpoint | None) -> exchange_pb2.Checkpoint | None:
    if stored is None:
        return None
    return exchange_pb2.Checkpoint(note=stored.note, size=stored.size, root_hash=stored.root_hash)


class LogQueries:
    """Trace, checkpoint and proof lookups over one hub's store."""

    def __init__(self, hub: Hub) -> None:
        """Answer for ``hub``."""
        self.hub = hub

    async def trace(self, request: exchange_pb2.TraceRequest) -> exchange_pb2.TraceResponse:
        """Every log event of the message id (optionally of one sender) or of the correlation id."""
        store = self.hub.store
        key = request.WhichOneof("key")
        if key is None:
            raise _malformed("name a message_id or a correlation_id")
        sender = _text(request.sender, "sender")
        if key == "correlation_id":
            rows = await store.find_messages(correlation_id=_text(request.correlation_id, key, required=True))
        else:
            rows = await store.find_messages(
                message_id=_text(request.message_id, key, required=True), sender=sender
            )
        return exchange_pb2.TraceResponse(events=[trace_event(self.hub.node_id, row) for row in rows])

    async def latest(self, *, covering: int = 0) -> StoredCheckpoint:
        """The latest checkpoint, signing a new one when it does not cover ``covering`` leaves."""
        stored = await self.hub.store.latest_checkpoint()
        if stored is None or stored.size < covering or stored.size < await self.hub.store.size():
            stored = await self.hub.checkpointer.checkpoint_now()
        if stored is None:
            # An empty log has a checkpoint too: size 0, root H("") of the log's hash profile. It is
            # signed on demand and not stored; being the empty tree, it is consistent with every later one.
            empty = self.hub.hasher.empty_root
            return StoredCheckpoint(
                size=0, root_hash=empty, note=self.hub.signer.sign(0, empty), time=self.hub.clock()
            )
        return stored

    async def checkpoint(self) -> exchange_pb2.Checkpoint:
        """The latest signed checkpoint as served by GetCheckpoint."""
        found = _checkpoint(await self.latest())
        assert found is not None
        return found

    async def _leaf_index(self, request: exchange_pb2.GetInclusionProofRequest) -> int:
        which = request.WhichOneof("leaf")
        if which is None:
            raise _malformed("name a log_index or a message_id")
        if which == "message_id":
            rows = await self.hub.store.find_messages(
                message_id=_text(request.message_id, which, required=True),
                sender=_text(request.sender, "sender"),
            )
            originals = [r for r in rows if r.duplicate_of is None and r.kind == "submission"]
            if not originals:
                raise VerificationError(
                    ReasonCode.MALFORMED, f"no leaf for message id {request.message_id!r}"
                )
            return originals[0].log_index
        return request.log_index

    async def inclusion_proof(
        self, request: exchange_pb2.GetInclusionProofRequest
    ) -> exchange_pb2.InclusionProof:
        """The audit path of a leaf in the tree of ``tree_size`` (0: the latest checkpoint)."""
        store = self.hub.store
        index = await self._leaf_index(request)
        logged = await store.size()
        if request.tree_size > logged or index >= (request.tree_size or logged):
            raise _malformed(
                f"leaf {index} in a tree of {request.tree_size or logged}: the log has {logged} leaves"
            )
        if request.tree_size:
            size, checkpoint = request.tree_size, _checkpoint(await store.checkpoint(request.tree_size))
        else:
            latest = await self.latest(covering=index + 1)
            size, checkpoint = latest.size, _checkpoint(latest)
        try:
            hashes = await store.inclusion_proof(index, size)
            [leaf] = await store.leaves(index, index + 1)
        except ProofError as exc:
            raise _malformed(str(exc)) from None
        proof = exchange_pb2.InclusionProof(
            log_index=index, tree_size=size, leaf=leaf.leaf, leaf_hash=leaf.leaf_hash, hashes=hashes
        )
        if checkpoint is not None:
            proof.checkpoint.CopyFrom(checkpoint)
        return proof

    async def consistency_proof(
        self, request: exchange_pb2.GetConsistencyProofRequest
    ) -> exchange_pb2.ConsistencyProof:
        """The consistency proof from ``first_size`` to ``second_size`` (0: the latest checkpoint)."""
        second = request.second_size or (await self.latest()).size
        logged = await self.hub.store.size()
        if not request.first_size <= second <= logged:
            raise _malformed(f"sizes {request.first_size} → {second} in a log of {logged} leaves")
        try:
            hashes = await self.hub.store.consistency_proof(request.first_size, second)
        except ProofError as exc:
            raise _malformed(str(exc)) from None
        return exchange_pb2.ConsistencyProof(first_size=request.first_size, second_size=second, hashes=hashes)
