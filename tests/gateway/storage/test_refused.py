"""An entry no store can keep is refused alone: EntryRefused, nothing of its batch written, others land.

Runs against every backend (the ``store`` fixture), so SQLite, which would keep a NUL, refuses what
PostgreSQL cannot keep, and both answer the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from gateway.sequencer import Sequencer
from gateway.storage import Entry, EntryRefused, Seen, StorageError, Store
from tests.gateway.storage.conftest import NOW, entry


def _broken_receipt(_index: int) -> bytes:
    raise UnicodeEncodeError("utf-8", "\udfff", 0, 1, "surrogates not allowed")


# name -> how the n-th entry is spoiled
SPOILED = {
    "lone surrogate in a field": lambda e: dataclasses.replace(e, correlation_id="clue-\udfff"),
    "NUL in a field": lambda e: dataclasses.replace(e, correlation_id="clue-\x00"),
    "lone surrogate in a seen id": lambda e: dataclasses.replace(e, seen=Seen("sc.amr", "m-\ud800", NOW)),
    "a receipt that cannot be issued": lambda e: dataclasses.replace(e, receipt=_broken_receipt),
}


@pytest.mark.parametrize("case", list(SPOILED))
async def test_a_spoiled_entry_is_refused_and_its_batch_is_not_written(store: Store, case: str) -> None:
    """A batch holding one entry no store can keep raises EntryRefused and writes nothing."""
    spoiled: Entry = SPOILED[case](entry(1))
    with pytest.raises(EntryRefused):
        await store.append([entry(0, seen=True), spoiled, entry(2)])
    assert (0, []) == (await store.size(), await store.seen_since(NOW))


@pytest.mark.parametrize("case", list(SPOILED))
async def test_the_sequencer_isolates_a_spoiled_entry(store: Store, case: str) -> None:
    """Entries queued in one batch with a spoiled one land; the spoiled one alone fails with EntryRefused."""
    failed: list[str] = []
    sequencer = Sequencer(store, on_failure=lambda e: failed.append(e.message_id))
    sequencer.start()
    # Queued without yielding to the writer task: the three are one batch.
    futures = [sequencer.append(e) for e in (entry(0), SPOILED[case](entry(1)), entry(2))]
    results = await asyncio.gather(*futures, return_exceptions=True)
    await sequencer.close()
    assert isinstance(results[1], EntryRefused)
    assert isinstance(results[1], StorageError)  # callers that know only StorageError still see one
    stored = [record.message_id for record in await store.messages(0, 10)]
    assert (["m-0", "m-2"], ["m-1"]) == (stored, failed)
