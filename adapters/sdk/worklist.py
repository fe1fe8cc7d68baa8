"""The adapter's work items: delivered tasks and clues moved through `adapters.lifecycle`, kept in the store.

The servicer asks `check` before it accepts a lifecycle message (a claim for a closed task is refused
with RULE_VIOLATION), then `record`s the delivered message and the department's replies. `mark_overdue`
turns every item whose clock ran out into 超期 (overdue), logs a ``lifecycle.overdue`` event and counts
it in the ``jgx_lifecycle_overdue_total`` metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import structlog
from prometheus_client import Counter

from adapters.lifecycle import Event, IllegalTransition, Item, State, apply, china_day, dispatch, overdue
from adapters.sdk.department import Handling, Record
from adapters.sdk.store import AdapterStore
from gateway.pb.jgx.exchange.v1 import exchange_pb2

__all__ = ["LIFECYCLE_STANDARDS", "OVERDUE_TOTAL", "Worklist"]

log = structlog.get_logger("jgx.lifecycle")
OVERDUE_TOTAL = Counter(
    "jgx_lifecycle_overdue_total", "Tasks and clues whose deadline passed (超期)", ["node", "standard"]
)
#: Standards whose messages carry a lifecycle (`Message.action`).
LIFECYCLE_STANDARDS = frozenset({"SC-11", "SC-12", "SC-13", "SC-14"})


class Worklist:
    """The tasks and clues one adapter works on."""

    def __init__(self, store: AdapterStore, *, node: str, overrides: Mapping[str, int] | None = None) -> None:
        self.store = store
        self.node = node
        self.overrides = overrides

    def get(self, correlation_id: str) -> Item | None:
        """The current state of one task or clue."""
        text = self.store.load_item(correlation_id)
        return Item.from_json(text) if text is not None else None

    def items(self) -> list[Item]:
        """Every task and clue."""
        return [Item.from_json(text) for text in self.store.items()]

    @staticmethod
    def tracks(message: exchange_pb2.Message) -> bool:
        """True for a lifecycle message: an action on a task or clue."""
        return bool(message.action and message.correlation_id and message.standard in LIFECYCLE_STANDARDS)

    def check(self, message: exchange_pb2.Message) -> None:
        """Raise `IllegalTransition` when the delivered message's action is not allowed now."""
        if not self.tracks(message):
            return
        item = self.get(message.correlation_id)
        event = Event(message.action)
        if item is None:
            if event != Event.DISPATCH:
                raise IllegalTransition(message.correlation_id, None, event)
            return
        apply(item, event, on=item.history[-1].on, overrides=self.overrides)

    def record(self, message: exchange_pb2.Message, handling: Handling, now: datetime) -> Item | None:
        """Apply the delivered message and then the department's replies; store and return the item."""
        if not self.tracks(message):
            return None
        today = china_day(now)
        item = self.get(message.correlation_id)
        event = Event(message.action)
        variant = next(
            (w.variant for w in handling.work_items if w.correlation_id == message.correlation_id), ""
        )
        if item is None:
            item = dispatch(
                message.correlation_id, message.standard, on=today, variant=variant,
                message_id=message.message_id, overrides=self.overrides,
            )  # fmt: skip
        else:
            item = apply(item, event, on=today, message_id=message.message_id, overrides=self.overrides)
        item = self._replies(item, handling.replies, now)
        self.store.save_item(item.correlation_id, item.to_json(), now=now)
        log.info(
            "lifecycle.step", correlation_id=item.correlation_id, action=event.value, state=item.state.value
        )
        return item

    def reply(self, record: Record, now: datetime, *, message_id: str = "") -> Item:
        """Apply one of the department's own replies (a claim or feedback sent later); store the item."""
        item = self.get(record.correlation_id)
        if item is None:
            raise IllegalTransition(record.correlation_id, None, Event(record.action))
        item = apply(
            item, Event(record.action), on=china_day(now), message_id=message_id, overrides=self.overrides
        )
        self.store.save_item(item.correlation_id, item.to_json(), now=now)
        return item

    def _replies(self, item: Item, replies: Sequence[Record], now: datetime) -> Item:
        for reply in replies:
            if reply.correlation_id == item.correlation_id and reply.action:
                item = apply(item, Event(reply.action), on=china_day(now), overrides=self.overrides)
        return item

    def mark_overdue(self, now: datetime) -> list[Item]:
        """Turn items whose clock ran out into 超期; log and count each once; return every overdue item."""
        late = overdue(self.items(), now)
        for item in late:
            if item.state == State.OVERDUE:
                continue
            marked = apply(item, Event.DEADLINE_PASSED, on=china_day(now), overrides=self.overrides)
            self.store.save_item(marked.correlation_id, marked.to_json(), now=now)
            OVERDUE_TOTAL.labels(node=self.node, standard=item.standard).inc()
            log.warning(
                "lifecycle.overdue", correlation_id=item.correlation_id, standard=item.standard,
                stage=item.state.value, due=item.due.isoformat() if item.due else None,
            )  # fmt: skip
        return overdue(self.items(), now)
