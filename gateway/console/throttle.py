"""Login throttling: failed logins slow down, then lock, per (account, address) pair and per address.

Pure: no I/O; the caller passes the time. The policy (docs/console.md):

- A pair (account, client address) may fail ``PAIR_FREE`` times freely; after each further failure
  the next attempt must wait 2, 4, 8… seconds; at ``PAIR_LOCK`` failures the pair is locked for
  ``LOCK_FOR``. A correct password clears the pair.
- An address may fail ``ADDRESS_FREE`` times (any accounts) freely, then waits 1, 2, 4… seconds
  (at most a minute) between attempts, and at ``ADDRESS_LOCK`` failures it is locked for
  ``LOCK_FOR``. A correct password does not clear the address (one known account must not reset
  the count of guesses at others).
- An account is never locked as a whole: an attacker guessing from many addresses would otherwise
  lock its owner out. The owner's correct password from an address that has not failed keeps
  working; an account failing from many addresses is reported (``under_attack``) for the audit log.

Failures older than ``WINDOW`` are forgotten. While an attempt is refused the password is not even
checked, so a throttled guess learns nothing. The counters live in the console process (each
replica counts on its own) and are bounded in size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, TypeVar

__all__ = ["Decision", "LoginThrottle"]

WINDOW: Final = timedelta(minutes=15)
LOCK_FOR: Final = timedelta(minutes=15)
PAIR_FREE: Final = 2
PAIR_LOCK: Final = 5
ADDRESS_FREE: Final = 10
ADDRESS_LOCK: Final = 30
ADDRESS_MAX_WAIT: Final = timedelta(minutes=1)
ACCOUNT_ALERT: Final = 20  # failures of one account from anywhere within WINDOW
_MAX_KEYS: Final = 100_000  # per table; the oldest entries go first when it is full
K = TypeVar("K")


@dataclass
class _Count:
    failures: int = 0
    last: datetime | None = None
    locked_until: datetime | None = None
    reported: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a login attempt may be checked now; if not, how long to wait and why."""

    allowed: bool
    retry_after: timedelta = timedelta(0)
    reason: str = ""  # "pair_locked" | "pair_slowed" | "address_locked" | "address_slowed"


@dataclass
class LoginThrottle:
    """The failure counters of one console process."""

    pairs: dict[tuple[str, str], _Count] = field(default_factory=dict)
    addresses: dict[str, _Count] = field(default_factory=dict)
    accounts: dict[str, _Count] = field(default_factory=dict)

    def check(self, account: str, address: str, now: datetime) -> Decision:
        """May ``address`` try ``account``'s password now?"""
        pair = self._current(self.pairs, (account, address), now)
        where = self._current(self.addresses, address, now)
        for count, kind, free, cap in (
            (pair, "pair", PAIR_FREE, None),
            (where, "address", ADDRESS_FREE, ADDRESS_MAX_WAIT),
        ):
            if count is None:
                continue
            if count.locked_until is not None and now < count.locked_until:
                return Decision(False, count.locked_until - now, f"{kind}_locked")
            wait = _wait(count.failures, free, first=timedelta(seconds=2 if kind == "pair" else 1), cap=cap)
            if count.last is not None and now < count.last + wait:
                return Decision(False, count.last + wait - now, f"{kind}_slowed")
        return Decision(True)

    def failed(self, account: str, address: str, now: datetime) -> list[str]:
        """Count a failure; the events it caused: ``pair_locked``, ``address_locked``, ``under_attack``."""
        events = []
        if self._bump(self.pairs, (account, address), now, PAIR_LOCK, lock=True):
            events.append("pair_locked")
        if self._bump(self.addresses, address, now, ADDRESS_LOCK, lock=True):
            events.append("address_locked")
        if self._bump(self.accounts, account, now, ACCOUNT_ALERT, lock=False):  # never locked as a whole
            events.append("under_attack")
        return events

    def _bump(self, table: dict[K, _Count], key: K, now: datetime, limit: int, *, lock: bool) -> bool:
        """One more failure for ``key``; True when it reached ``limit`` now (and locks, if ``lock``)."""
        count = self._current(table, key, now) or _Count()
        count.failures += 1
        count.last = now
        reached = count.failures >= limit and not count.reported
        if reached:
            count.reported = True
            if lock:
                count.locked_until = now + LOCK_FOR
        self._store(table, key, count)
        return reached

    def succeeded(self, account: str, address: str) -> None:
        """A correct password clears the pair (not the address, nor the account's alert)."""
        self.pairs.pop((account, address), None)

    @staticmethod
    def _current(table: dict[K, _Count], key: K, now: datetime) -> _Count | None:
        count = table.get(key)
        if count is None:
            return None
        locked = count.locked_until is not None and now < count.locked_until
        if not locked and count.last is not None and now - count.last >= WINDOW:
            del table[key]  # quiet for a whole window: forgotten
            return None
        return count

    @staticmethod
    def _store(table: dict[K, _Count], key: K, count: _Count) -> None:
        table.pop(key, None)
        if len(table) >= _MAX_KEYS:
            del table[next(iter(table))]  # dicts keep insertion order: the least recently failed
        table[key] = count


def _wait(failures: int, free: int, *, first: timedelta, cap: timedelta | None) -> timedelta:
    """The pause after ``failures`` failures: none while free, then doubling from ``first``."""
    if failures <= free:
        return timedelta(0)
    wait = first * (1 << min(failures - free - 1, 20))
    return min(wait, cap) if cap is not None else wait
