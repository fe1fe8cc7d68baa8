"""The log's writers: one sequencer that group-commits entries, one checkpointer that signs tree heads.

Sequencer. Submissions judged at the same time are appended in one storage transaction (group commit):
while the store writes one batch, the next one gathers, so the fsync of ``synchronous=FULL`` is shared.
Each submitter awaits its own future; a batch that fails is retried entry by entry so that one bad entry
fails alone and never takes another sender's envelope down with it. An entry that fails alone for what
it holds (`EntryRefused`, or anything the store did not classify as its own failure) is reported as
EntryRefused, which the hub answers with a logged rejection; a store that cannot write is StorageError.

Checkpointer. One task signs a checkpoint every ``every`` new leaves or ``interval`` seconds, whichever
comes first, and only after a consistency proof from the previous checkpoint verifies
(`gateway.checkpoint.CheckpointLog`), so the node never signs two inconsistent checkpoints. Replicas
sharing one database start each round from the latest stored checkpoint, whoever signed it; the store
saves a checkpoint only under its writer's lock and only if it extends the latest one, and a replica
that lost the race adopts the winner's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog

from gateway._aio import wait_event
from gateway.checkpoint import Checkpoint, CheckpointLog
from gateway.keys import SigningUnavailable
from gateway.logbook import LogSigner
from gateway.storage import (
    Appended,
    Entry,
    EntryRefused,
    ReplayConflict,
    StorageError,
    Store,
    StoredCheckpoint,
)

__all__ = ["Checkpointer", "Sequencer"]

_log = structlog.get_logger("jgx.log")
_Item = tuple[Entry, "asyncio.Future[Appended]"]


class Sequencer:
    """Appends entries in arrival order, batching whatever arrived while the last batch was written."""

    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 256,
        on_commit: Callable[[int], None] | None = None,
        on_failure: Callable[[Entry], None] | None = None,
    ) -> None:
        """Sequence into ``store``; ``on_commit(size)`` after each batch, ``on_failure`` per lost entry."""
        self._store = store
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._on_failure = on_failure
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._run(), name="jgx-sequencer")

    @property
    def queued(self) -> int:
        """Entries waiting for the writer (not counting the batch being written)."""
        return self._queue.qsize()

    def append(self, entry: Entry) -> asyncio.Future[Appended]:
        """Queue ``entry``; the future resolves once it is durable (or fails with StorageError)."""
        if self._task is None or self._task.done():
            raise StorageError("the sequencer is not running")
        future: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((entry, future))
        return future

    async def close(self) -> None:
        """Write everything queued so far, then stop."""
        if self._task is not None and not self._task.done():
            self._queue.put_nowait(None)
            await self._task

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            await self._write(batch)

    async def _write(self, batch: list[_Item]) -> None:
        try:
            results = await self._store.append([entry for entry, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every storage failure is reported to its submitter
            if len(batch) > 1:
                for item in batch:  # retry one by one so that one bad entry fails alone
                    await self._write([item])
                return
            entry, future = batch[0]
            if isinstance(exc, ReplayConflict):  # another replica consumed the id: the hub judges again
                _log.info("log.replay_conflict", message_id=entry.message_id, sender=entry.sender)
            else:
                _log.error(
                    "log.append_failed", error=str(exc), message_id=entry.message_id, sender=entry.sender
                )
            if self._on_failure is not None:
                self._on_failure(entry)
            if not future.done():
                refused = EntryRefused(f"{type(exc).__name__}: {exc}"[:300])
                future.set_exception(exc if isinstance(exc, StorageError) else refused)
            return
        for (_, future), appended in zip(batch, results, strict=True):
            if not future.done():  # a submitter whose client went away still gets its entry logged
                future.set_result(appended)
        if self._on_commit is not None:
            self._on_commit(results[-1].log_index + 1)


class Checkpointer:
    """Signs a checkpoint every ``every`` leaves or ``interval`` seconds; never two inconsistent ones."""

    def __init__(
        self,
        store: Store,
        signer: LogSigner,
        *,
        clock: Callable[[], datetime],
        every: int = 1000,
        interval: float = 5.0,
    ) -> None:
        """Checkpoint ``store``'s log with ``signer``."""
        self._store = store
        self._signer = signer
        self._clock = clock
        self._every = every
        self._interval = interval
        self._state = CheckpointLog(signer.origin, signer.hasher)
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stop = False
        self._task: asyncio.Task[None] | None = None
        # Told every checkpoint stored (the node directory keeps the latest: `gateway.loghead`).
        self.on_checkpoint: Callable[[StoredCheckpoint], None] | None = None

    @property
    def latest_size(self) -> int:
        """The size of the latest signed checkpoint (0 before the first)."""
        return self._state.latest.size if self._state.latest is not None else 0

    async def start(self) -> None:
        """Resume from the latest stored checkpoint (verifying it) and start the periodic task."""
        stored = await self._store.latest_checkpoint()
        if stored is not None:
            self._state = self._resumed(stored)
        self._task = asyncio.create_task(self._run(), name="jgx-checkpointer")

    def committed(self, size: int) -> None:
        """Called after each commit: wake the task when ``every`` leaves await a checkpoint."""
        if size - self.latest_size >= self._every:
            self._wake.set()

    async def close(self) -> None:
        """Stop the task and sign a last checkpoint covering everything committed; a key that cannot sign
        any more (its token gone) is logged and the node stops all the same: the next start signs it."""
        self._stop = True
        self._wake.set()
        if self._task is not None:
            await self._task
        try:
            await self.checkpoint_now()
        except SigningUnavailable as exc:
            _log.error("log.checkpoint_failed", error=str(exc))

    async def _run(self) -> None:
        while True:
            await wait_event(self._wake, self._interval)
            self._wake.clear()
            if self._stop:
                return
            try:
                await self.checkpoint_now()
            except Exception as exc:  # noqa: BLE001 - a failed checkpoint is retried next round
                _log.error("log.checkpoint_failed", error=str(exc))

    async def _catch_up(self) -> StoredCheckpoint | None:
        """Adopt the latest stored checkpoint if another replica signed beyond ours (verifying it)."""
        stored = await self._store.latest_checkpoint()
        if stored is not None and stored.size > self.latest_size:
            self._state = self._resumed(stored)
        return stored

    def _resumed(self, stored: StoredCheckpoint) -> CheckpointLog:
        """The checkpoint log state after ``stored``, whose signature and origin are checked first."""
        return CheckpointLog(self._signer.origin, self._signer.hasher, self._signer.verify(stored.note))

    async def checkpoint_now(self) -> StoredCheckpoint | None:
        """Sign and store a checkpoint of the whole log if it grew; return the latest checkpoint."""
        async with self._lock:
            await self._catch_up()
            size = await self._store.size()
            if size == 0 or size <= self.latest_size:
                return await self._store.latest_checkpoint()
            root = await self._store.root(size)
            previous = self._state.latest
            proof = (
                await self._store.consistency_proof(previous.size, size)
                if previous is not None and previous.size > 0
                else []
            )
            new = Checkpoint(self._signer.origin, size, root)
            state, note = self._state.sign_next(new, proof, self._signer.origin, self._signer.key)
            stored = StoredCheckpoint(size=size, root_hash=root, note=note, time=self._clock())
            try:
                await self._store.save_checkpoint(stored)
            except StorageError:
                # Another replica stored a checkpoint of this size or larger meanwhile: adopt it.
                latest = await self._catch_up()
                if latest is not None and latest.size >= size:
                    return latest
                raise
            self._state = state
            _log.info("log.checkpoint", size=size, root=root.hex())
            if self.on_checkpoint is not None:
                self.on_checkpoint(stored)
            return stored
