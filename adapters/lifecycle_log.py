"""Tasks and clues as a gateway's exchange log knows them: the log's lifecycle messages folded through
`adapters.lifecycle`, and which of them are overdue.

The console's dashboard and ``jgx lifecycle overdue --dir NODE`` both call `overdue_in_log`, with the
same clock argument and the deadlines of the same trust configuration, so they cannot disagree.
Every accepted lifecycle message of the log counts, however old: a task dispatched long ago and never
claimed is the most overdue of all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters import lifecycle
from gateway.storage import MessageSummary, Store
from gateway.trust import TrustConfig

__all__ = ["LogLifecycle", "fold_lifecycle", "overdue_in_log"]

_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def fold_lifecycle(
    rows: Iterable[MessageSummary], *, overrides: Mapping[str, int] | None = None
) -> dict[str, lifecycle.Item]:
    """The lifecycle item of each correlation id after its accepted messages, in log order.

    A message the table does not allow in the item's state is skipped (the hub logged it, but it moves
    nothing); the timeline still shows it. ``overrides`` are the trust policies' deadlines.
    """
    items: dict[str, lifecycle.Item] = {}
    for row in rows:
        if not row.correlation_id or row.action not in lifecycle.Event.__members__.values():
            continue
        event, day = lifecycle.Event(row.action), lifecycle.china_day(row.time)
        current = items.get(row.correlation_id)
        try:
            if current is None and event == lifecycle.Event.DISPATCH:
                items[row.correlation_id] = lifecycle.dispatch(
                    row.correlation_id, row.standard, on=day, message_id=row.message_id, overrides=overrides
                )
            elif current is not None:
                items[row.correlation_id] = lifecycle.apply(
                    current, event, on=day, message_id=row.message_id, overrides=overrides
                )
        except lifecycle.IllegalTransition:
            continue
    return items


@dataclass(frozen=True, slots=True)
class LogLifecycle:
    """Every task and clue of the log (as folded), and those overdue at the time asked, most overdue first."""

    items: Mapping[str, lifecycle.Item]
    overdue: list[lifecycle.Item]


async def overdue_in_log(store: Store, trust: TrustConfig, now: datetime, *, party: str = "") -> LogLifecycle:
    """The log's tasks and clues and which are overdue at ``now``; ``party`` confines them to one node."""
    rows = await store.lifecycle_messages(since=_BEGINNING)
    if party:
        rows = [r for r in rows if party in (r.sender, r.recipient)]
    items = fold_lifecycle(rows, overrides=lifecycle.deadline_overrides(trust.policies))
    return LogLifecycle(items, lifecycle.overdue(items.values(), now))
