"""Delivered tasks become work items that move through the lifecycle; unclaimed ones turn overdue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from structlog.testing import capture_logs

from adapters.lifecycle import State
from adapters.sdk import AdapterServicer, Record
from gateway.errors import ReasonCode
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.testing import Federation
from tests.adapters.conftest import NOW, TaskDesk, make_servicer
from tests.adapters.test_servicer import task


def reasons(receipt: bytes) -> list[str]:
    return list(exchange_pb2.Receipt.FromString(exchange_pb2.Envelope.FromString(receipt).body).reason_codes)


def test_a_dispatched_task_is_claimed_at_once(servicer: AdapterServicer, fed: Federation) -> None:
    """A delivered dispatch, auto-claimed by the department, is a claimed work item."""
    servicer.deliver(task(fed, correlation_id="T-1"))
    item = servicer.worklist.get("T-1")
    assert (State.CLAIMED, ["dispatch", "claim"]) == (
        item.state if item else None,
        [s.event for s in item.history] if item else [],
    )


def test_a_close_for_an_unknown_task_is_refused(servicer: AdapterServicer, fed: Federation) -> None:
    """Closing a task the adapter never received is refused with RULE_VIOLATION."""
    assert [ReasonCode.RULE_VIOLATION.value] == reasons(
        servicer.deliver(task(fed, correlation_id="T-x", action="close"))
    )


def test_feedback_moves_the_item_and_queues_the_message(servicer: AdapterServicer, fed: Federation) -> None:
    """The department's later feedback is signed into the outbox and the item becomes fed back."""
    servicer.deliver(task(fed, correlation_id="T-2", message_id="disp-2"))
    feedback = Record(
        "SC-14", "1.0.0", "T-2", {"taskNo": "T-2", "status": "反馈"}, recipient="cn.national",
        correlation_id="T-2", action="feedback", in_reply_to="disp-2",
    )  # fmt: skip
    (message_id,) = servicer.send([feedback])
    item = servicer.worklist.get("T-2")
    assert (State.FED_BACK, ["claim", "feedback"]) == (
        item.state if item else None,
        [p.action for p in servicer.store.outbox(correlation_id="T-2")],
    )
    assert message_id == servicer.store.outbox(correlation_id="T-2")[-1].message_id


def test_an_unclaimed_task_turns_overdue_and_is_reported(fed: Federation, tmp_path: Path) -> None:
    """A department that never claims: after the claim deadline the task is overdue, logged once."""

    servicer = make_servicer(fed, tmp_path / "a.sqlite", TaskDesk(claim=False))
    servicer.deliver(task(fed, correlation_id="T-3"))
    later = NOW + timedelta(days=10)
    with capture_logs() as logs:
        first = servicer.worklist.mark_overdue(later)
        again = servicer.worklist.mark_overdue(later)
    events = [e for e in logs if e["event"] == "lifecycle.overdue"]
    assert (["T-3"], ["T-3"], 1, State.OVERDUE) == (
        [i.correlation_id for i in first],
        [i.correlation_id for i in again],
        len(events),
        first[0].state,
    )


def test_a_restarted_department_can_still_feed_back(fed: Federation, tmp_path: Path) -> None:
    """After a restart on the same store, the department answers a task delivered before it."""
    from adapters.departments import SAMPLES, MarketRegulation

    path = tmp_path / "a.sqlite"
    before = make_servicer(fed, path, MarketRegulation(SAMPLES))
    before.deliver(task(fed, correlation_id="LHJG-9", message_id="disp-9"))
    desk = MarketRegulation(SAMPLES)
    after = make_servicer(fed, path, desk)
    (message_id,) = after.send([desk.task_feedback("LHJG-9", NOW)])
    item = after.worklist.get("LHJG-9")
    assert ("disp-9", State.FED_BACK) == (desk.tasks["LHJG-9"].message_id, item.state if item else None)
    assert message_id
