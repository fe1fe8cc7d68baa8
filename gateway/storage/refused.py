"""Entries no store can keep: refused alone, before anything is written (DESIGN §2: every envelope past
step 2 is answered; one bad entry never fails another's commit).

Both backends call `check_entry` on every entry of a batch before writing, and sign receipts through
`issued`, so SQLite (which would keep a NUL) and PostgreSQL (which would not) refuse the same entries
the same way: `EntryRefused`, a `StorageError` that says the store itself is fine.
"""

from __future__ import annotations

from gateway.keys import SigningUnavailable
from gateway.storage.base import Entry, StorageError

__all__ = ["EntryRefused", "SignerUnavailable", "check_entry", "issued"]


class EntryRefused(StorageError):
    """One entry cannot be kept as it is (text no store can encode, a receipt that cannot be issued).

    The store itself is fine: nothing of the batch was written, and the other entries of a batch that
    failed for this one land when appended without it. The hub answers such an envelope with a logged
    rejection instead (reason INTERNAL), never with silence.
    """


class SignerUnavailable(StorageError):
    """The node's signing key cannot sign the receipt (`gateway.keys.SigningUnavailable`: its token removed
    or its session closed). Nothing of the batch was written, like any store failure: the hub answers
    UNAVAILABLE (retry later) and the sender's message id stays unconsumed. Not `EntryRefused`: a logged
    INTERNAL rejection needs a signed receipt too, which this key cannot make either."""


def check_entry(entry: Entry) -> None:
    """EntryRefused unless every text of ``entry`` is valid UTF-8 without NUL (what every backend keeps)."""
    texts = {
        "kind": entry.kind, "sender": entry.sender, "recipient": entry.recipient,
        "message_id": entry.message_id, "standard": entry.standard,
        "standard_version": entry.standard_version, "correlation_id": entry.correlation_id,
        "action": entry.action, **{f"reason_codes[{n}]": c for n, c in enumerate(entry.reason_codes)},
        **{f"outbox[{n}]": r for n, r in enumerate(entry.outbox)},
        **({"seen.sender": entry.seen.sender, "seen.id": entry.seen.message_id} if entry.seen else {}),
    }  # fmt: skip
    for name, text in texts.items():
        if not isinstance(text, str):
            raise EntryRefused(f"{name} is not text")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise EntryRefused(f"{name} is not encodable as UTF-8 (a lone surrogate)") from None
        if "\x00" in text:
            raise EntryRefused(f"{name} contains NUL")


def issued(entry: Entry, index: int) -> bytes | None:
    """The receipt ``entry`` signs at ``index`` (None without one); EntryRefused when it cannot be issued."""
    if entry.receipt is None:
        return None
    try:
        return entry.receipt(index)
    except SigningUnavailable as exc:  # the key, not the entry: no receipt can be issued for any entry
        raise SignerUnavailable(f"the node's signing key cannot sign: {exc}"[:300]) from exc
    except Exception as exc:  # whatever the signer raises concerns this entry only
        raise EntryRefused(
            f"the receipt of {entry.message_id!r} cannot be issued: {type(exc).__name__}: {exc}"[:300]
        ) from exc
