"""The console's overviews: the dashboard, a task's or clue's lifecycle, the checkpoint history.

Lifecycle states come from the one transition table in `adapters.lifecycle` (分发 → 认领 → 反馈 → 结束):
the console replays the accepted lifecycle messages of a correlation id through it
(`adapters.lifecycle_log`, with the trust configuration's deadlines), so the timeline, the state and
the overdue flag are the ones ``jgx lifecycle overdue --dir`` prints for the same clock.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from adapters import lifecycle
from adapters.lifecycle_log import fold_lifecycle, overdue_in_log
from gateway import merkle
from gateway._time import format_time
from gateway.checkpoint import check_consistent
from gateway.console.auth import Principal
from gateway.console.records import OUTCOME_NAMES, LogKeys, outbox_json, summary, summary_of
from gateway.errors import JgxError
from gateway.logbook import verify_origin_checkpoint
from gateway.storage import Store

__all__ = ["checkpoint_history", "dashboard", "lifecycle_view"]


def _item_json(item: lifecycle.Item, now: datetime) -> dict[str, Any]:
    late = bool(lifecycle.overdue([item], now))
    return {
        "correlation_id": item.correlation_id,
        "standard": item.standard,
        "state": lifecycle.State.OVERDUE.value if late else item.state.value,
        "due": item.due.isoformat() if item.due else None,
        "overdue": late,
        "days_overdue": lifecycle.days_overdue(item, now) if late else 0,
    }


async def dashboard(
    store: Store, keys: LogKeys, principal: Principal, now: datetime, *, hours: int = 24
) -> dict[str, Any]:
    """Traffic per hour, sender and standard; queue depth; overdue tasks and clues; the last checkpoint."""
    since = (now - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
    buckets = await store.traffic(since=since, until=now + timedelta(seconds=1), bucket_seconds=3600)
    if principal.party:
        buckets = [b for b in buckets if b.sender == principal.party]
    per_hour: dict[str, dict[str, int]] = defaultdict(lambda: {"accepted": 0, "rejected": 0, "duplicate": 0})
    per_sender: dict[str, dict[str, int]] = defaultdict(
        lambda: {"accepted": 0, "rejected": 0, "duplicate": 0}
    )
    per_standard: dict[str, dict[str, int]] = defaultdict(
        lambda: {"accepted": 0, "rejected": 0, "duplicate": 0}
    )
    for bucket in buckets:
        outcome = OUTCOME_NAMES.get(bucket.outcome, "rejected")
        per_hour[format_time(bucket.start)][outcome] += bucket.count
        per_sender[bucket.sender][outcome] += bucket.count
        per_standard[bucket.standard][outcome] += bucket.count
    hours_axis = [format_time(since + timedelta(hours=h)) for h in range(hours + 1)]
    tasks = await overdue_in_log(store, keys.trust, now, party=principal.party)
    items = tasks.items
    overdue = [_item_json(i, now) for i in tasks.overdue]
    latest = await store.latest_checkpoint()
    return {
        "since": format_time(since),
        "throughput": [
            {"hour": h, **per_hour.get(h, {"accepted": 0, "rejected": 0, "duplicate": 0})} for h in hours_axis
        ],
        "by_sender": dict(sorted(per_sender.items())),
        "by_standard": dict(sorted(per_standard.items())),
        "queue": await store.outbox_counts(),
        "open_items": sum(1 for i in items.values() if i.state != lifecycle.State.CLOSED),
        "overdue": overdue,
        "checkpoint": None
        if latest is None
        else {"size": latest.size, "root_hash": latest.root_hash.hex(), "time": format_time(latest.time)},
    }


async def lifecycle_view(
    store: Store, keys: LogKeys, correlation_id: str, principal: Principal, now: datetime
) -> dict[str, Any] | None:
    """Every logged message of a task or clue across nodes, as a timeline; None if nothing is visible."""
    rows = await store.find_messages(correlation_id=correlation_id)
    visible = [r for r in rows if principal.may_see(r.sender, r.recipient)]
    if not visible:
        return None
    events = []
    for record in visible:
        row = summary_of(record)
        event = summary(row)
        event["deliveries"] = [outbox_json(item) for item in await store.outbox_of(record.log_index)]
        events.append((row, event))
    accepted = [row for row, _ in events if row.outcome == 1 and row.kind == "submission"]
    overrides = lifecycle.deadline_overrides(keys.trust.policies)
    item = fold_lifecycle(accepted, overrides=overrides).get(correlation_id)
    return {
        "correlation_id": correlation_id,
        "item": None if item is None else _item_json(item, now),
        "history": []
        if item is None
        else [
            {
                "event": s.event.value,
                "on": s.on.isoformat(),
                "state": s.state.value,
                "message_id": s.message_id,
            }
            for s in item.history
        ],
        "events": [event for _, event in events],
        "nodes": sorted({r.sender for r, _ in events} | {r.recipient for r, _ in events}),
    }


async def checkpoint_history(store: Store, keys: LogKeys, *, limit: int = 100) -> list[dict[str, Any]]:
    """The latest checkpoints, newest first: signature check and consistency with the one before."""
    stored = (await store.checkpoints())[-(limit + 1) :]
    verifiers = keys.verifiers()
    rows: list[dict[str, Any]] = []
    previous = None
    for position, entry in enumerate(stored):
        row: dict[str, Any] = {"size": entry.size, "root_hash": entry.root_hash.hex(),
                               "time": format_time(entry.time), "signature_valid": False,
                               "consistent_with_previous": None, "problem": ""}  # fmt: skip
        try:
            checkpoint = verify_origin_checkpoint(entry.note, keys.origin, verifiers)
            row["signature_valid"] = checkpoint.root_hash == entry.root_hash and checkpoint.size == entry.size
            if previous is not None:
                proof = await store.consistency_proof(previous.size, checkpoint.size)
                check_consistent(previous, checkpoint, proof, hasher=keys.hasher)
                row["consistent_with_previous"] = True
                row["proof_length"] = len(proof)
            previous = checkpoint
        except (JgxError, merkle.ProofError) as exc:
            row["problem"] = str(exc)[:300]
            if previous is not None:
                row["consistent_with_previous"] = False
        if position > 0 or len(stored) <= limit:
            rows.append(row)
    return list(reversed(rows))
