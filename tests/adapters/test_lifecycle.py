"""The task and clue lifecycle: one table of transitions, working-day deadlines, overdue detection."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from adapters.lifecycle import (
    TRANSITIONS,
    Event,
    IllegalTransition,
    Item,
    State,
    apply,
    days_overdue,
    dispatch,
    overdue,
)
from gateway.errors import ReasonCode

DAY = date(2026, 11, 27)  # a Friday

# name -> (events after dispatch, expected final state)
PATHS = {
    "claimed, fed back, closed": ([Event.CLAIM, Event.FEEDBACK, Event.CLOSE], State.CLOSED),
    "declined on arrival": ([Event.RETURN], State.RETURNED),
    "returned and dispatched again": ([Event.RETURN, Event.DISPATCH, Event.CLAIM], State.CLAIMED),
    "feedback refused, then fed back again": (
        [Event.CLAIM, Event.FEEDBACK, Event.RETURN, Event.FEEDBACK],
        State.FED_BACK,
    ),
    "never claimed": ([Event.DEADLINE_PASSED], State.OVERDUE),
    "claimed late": ([Event.DEADLINE_PASSED, Event.CLAIM], State.CLAIMED),
    "withdrawn by the dispatcher": ([Event.CLOSE], State.CLOSED),
}


@pytest.mark.parametrize("name", PATHS)
def test_paths_through_the_lifecycle(name: str) -> None:
    """Each named path of events ends in its expected state."""
    events, expected = PATHS[name]
    item = dispatch("T-1", "SC-14", on=DAY)
    for event in events:
        item = apply(item, event, on=DAY)
    assert expected == item.state


ILLEGAL = [
    (state, event) for state, event in itertools.product(State, Event) if (state, event) not in TRANSITIONS
]


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_every_pair_outside_the_table_is_refused(state: State, event: Event) -> None:
    """An event the table does not list for the state raises IllegalTransition with RULE_VIOLATION."""
    item = Item("T-1", "SC-14", state, None, ())
    with pytest.raises(IllegalTransition) as caught:
        apply(item, event, on=DAY)
    assert ReasonCode.RULE_VIOLATION == caught.value.reason


def test_a_closed_task_cannot_be_claimed() -> None:
    """Claiming a closed task is refused and names the state and event in both languages."""
    item = apply(dispatch("T-9", "SC-14", on=DAY), Event.CLOSE, on=DAY)
    with pytest.raises(IllegalTransition) as caught:
        apply(item, Event.CLAIM, on=DAY)
    assert "T-9: 状态“closed”下不允许“claim” / claim is not allowed in state closed" == caught.value.detail


DEADLINES = {
    # name -> (standard, variant, received, expected last day of the first clock)
    "12315 complaint across National Day": ("SC-11", "complaint", date(2026, 9, 29), date(2026, 10, 14)),
    "12315 complaint at the end of November": ("SC-11", "complaint", DAY, date(2026, 12, 8)),
    "12315 tip-off, 15 working days": ("SC-11", "tip", DAY, date(2026, 12, 18)),
    "national task, 3 working days to claim": ("SC-14", "", DAY, date(2026, 12, 2)),
}


@pytest.mark.parametrize("name", DEADLINES)
def test_deadlines_count_working_days(name: str) -> None:
    """The first clock ends the stated number of working days later, skipping weekends and holidays."""
    standard, variant, received, expected = DEADLINES[name]
    assert expected == dispatch("X", standard, variant=variant, on=received).due


def test_claiming_starts_the_next_clock() -> None:
    """A claimed 12315 complaint gets the 45-working-day mediation clock from the day of acceptance."""
    item = apply(dispatch("C-1", "SC-11", variant="complaint", on=DAY), Event.CLAIM, on=date(2026, 11, 30))
    assert date(2027, 2, 2) == item.due


def test_a_trust_policy_overrides_the_table() -> None:
    """A deadline from the trust configuration's policies replaces the table's."""
    assert date(2026, 11, 30) == dispatch("T", "SC-14", on=DAY, overrides={"SC-14/dispatched": 1}).due


def test_overdue_lists_items_whose_clock_ran_out() -> None:
    """Only items whose running clock ended before today are overdue, most overdue first."""
    never_claimed = dispatch("T-old", "SC-14", on=date(2026, 11, 2))
    just_late = dispatch("T-late", "SC-14", on=date(2026, 11, 20))
    on_time = dispatch("T-new", "SC-14", on=DAY)
    done = apply(
        apply(apply(never_claimed, Event.CLAIM, on=DAY), Event.FEEDBACK, on=DAY), Event.CLOSE, on=DAY
    )
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Chengdu
    late = overdue([on_time, just_late, never_claimed, done], now)
    assert ["T-old", "T-late"] == [i.correlation_id for i in late]
    assert [16, 2] == [days_overdue(i, now) for i in late]


def test_days_are_counted_in_china_time() -> None:
    """At 17:00 UTC it is already the next day in China, and a clock ending the day before is overdue."""
    item = dispatch("T", "SC-14", on=date(2026, 11, 24))  # due 2026-11-27
    assert ([], ["T"]) == (
        [i.correlation_id for i in overdue([item], datetime(2026, 11, 27, 15, 59, tzinfo=UTC))],
        [i.correlation_id for i in overdue([item], datetime(2026, 11, 27, 16, 0, tzinfo=UTC))],
    )


def test_an_item_survives_its_json_form() -> None:
    """An item written with to_json reads back equal."""
    item = apply(dispatch("T-1", "SC-14", on=DAY, message_id="m1"), Event.DEADLINE_PASSED, on=DAY)
    assert item == Item.from_json(item.to_json())
