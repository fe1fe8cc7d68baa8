"""The lifecycle of tasks and clues: 分发 (dispatch) → 认领 (claim) → 反馈 (feedback) → 结束 (close).

Like h11's state machine, everything that moves a task or clue lives in one table, `TRANSITIONS`;
nothing else changes a state. 退回 (return) sends an item back (the department declines it, or the
dispatcher refuses its feedback); 超期 (overdue) is what a stage's clock turns into when its deadline
passes. Deadlines are counted in working days with the State Council holiday calendar
(`standards.calendar`), per standard and stage (`DEADLINES`); the statutory ones come from the 12315
rules (《市场监督管理投诉举报处理暂行办法》), the others are the project's policy and can be overridden
from the trust configuration's ``policies.deadlines``.

Pure: no clock reads, no I/O; the day is passed in. Days are counted in China Standard Time.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final

from gateway.errors import ReasonCode, VerificationError
from standards.calendar import add_working_days, working_days_between

__all__ = [
    "DEADLINES",
    "TRANSITIONS",
    "Deadline",
    "Event",
    "IllegalTransition",
    "Item",
    "State",
    "Step",
    "apply",
    "china_day",
    "deadline_overrides",
    "dispatch",
    "overdue",
]

CHINA: Final = timezone(timedelta(hours=8), "CST")


class State(enum.StrEnum):
    """Where a task or clue stands."""

    DISPATCHED = "dispatched"  # 已分发, waiting for a claim
    CLAIMED = "claimed"  # 已认领, being worked on
    FED_BACK = "fed_back"  # 已反馈, waiting for the dispatcher to close it
    CLOSED = "closed"  # 已结束
    RETURNED = "returned"  # 已退回
    OVERDUE = "overdue"  # 已超期 (the stage's deadline passed)


class Event(enum.StrEnum):
    """What can happen to a task or clue; the wire's `Message.action` values plus the clock."""

    DISPATCH = "dispatch"
    CLAIM = "claim"
    FEEDBACK = "feedback"
    CLOSE = "close"
    RETURN = "return"
    DEADLINE_PASSED = "deadline_passed"


_S, _E = State, Event
#: (state, event) -> next state. `None` is the state before the first dispatch.
TRANSITIONS: Final[Mapping[tuple[State | None, Event], State]] = {
    (None, _E.DISPATCH): _S.DISPATCHED,
    (_S.DISPATCHED, _E.CLAIM): _S.CLAIMED,
    (_S.DISPATCHED, _E.RETURN): _S.RETURNED,  # the department declines: not its competence
    (_S.DISPATCHED, _E.CLOSE): _S.CLOSED,  # the dispatcher withdraws the task
    (_S.DISPATCHED, _E.DEADLINE_PASSED): _S.OVERDUE,
    (_S.CLAIMED, _E.FEEDBACK): _S.FED_BACK,
    (_S.CLAIMED, _E.RETURN): _S.RETURNED,
    (_S.CLAIMED, _E.CLOSE): _S.CLOSED,
    (_S.CLAIMED, _E.DEADLINE_PASSED): _S.OVERDUE,
    (_S.FED_BACK, _E.FEEDBACK): _S.FED_BACK,  # supplementary feedback
    (_S.FED_BACK, _E.RETURN): _S.CLAIMED,  # the dispatcher refuses the feedback: work on
    (_S.FED_BACK, _E.CLOSE): _S.CLOSED,
    (_S.OVERDUE, _E.CLAIM): _S.CLAIMED,  # late, and the history keeps that it was late
    (_S.OVERDUE, _E.FEEDBACK): _S.FED_BACK,
    (_S.OVERDUE, _E.RETURN): _S.RETURNED,
    (_S.OVERDUE, _E.CLOSE): _S.CLOSED,
    (_S.RETURNED, _E.DISPATCH): _S.DISPATCHED,  # dispatched again (to the same or another unit)
}


@dataclass(frozen=True, slots=True)
class Deadline:
    """A stage's clock: this many working days after the stage began, and where the number comes from."""

    working_days: int
    basis_zh: str
    basis_en: str
    statutory: bool = False


_POLICY_ZH, _POLICY_EN = (
    "本项目协同监管时限策略（可由信任配置覆盖）",
    "project policy (overridable in the trust configuration)",
)
#: (standard, variant, state) -> the clock that runs while an item is in that state. Variant "" is
#: the default; SC-11 distinguishes 投诉 (complaint) and 举报 (tip-off).
DEADLINES: Final[Mapping[tuple[str, str, State], Deadline]] = {
    ("SC-11", "complaint", _S.DISPATCHED): Deadline(
        7,
        "《市场监督管理投诉举报处理暂行办法》第十四条：收到投诉之日起七个工作日内作出受理或者不予受理的决定",
        "complaint: decide on acceptance within 7 working days of receipt (Interim Measures, art. 14)",
        True,
    ),
    ("SC-11", "complaint", _S.CLAIMED): Deadline(
        45,
        "《市场监督管理投诉举报处理暂行办法》第二十一条：自受理之日起四十五个工作日内未达成调解协议的终止调解",
        "complaint: mediation ends without agreement 45 working days after acceptance (art. 21)",
        True,
    ),
    ("SC-11", "tip", _S.DISPATCHED): Deadline(
        15,
        "《市场监督管理行政处罚程序规定》：举报自收到之日起十五个工作日内核查并决定是否立案",
        "tip-off: verify and decide on opening a case within 15 working days",
        True,
    ),
    ("SC-12", "", _S.DISPATCHED): Deadline(3, _POLICY_ZH, _POLICY_EN),
    ("SC-12", "", _S.CLAIMED): Deadline(15, _POLICY_ZH, _POLICY_EN),
    ("SC-13", "", _S.DISPATCHED): Deadline(5, _POLICY_ZH, _POLICY_EN),
    ("SC-13", "", _S.CLAIMED): Deadline(30, _POLICY_ZH, _POLICY_EN),
    ("SC-14", "", _S.DISPATCHED): Deadline(3, _POLICY_ZH, _POLICY_EN),
    ("SC-14", "", _S.CLAIMED): Deadline(20, _POLICY_ZH, _POLICY_EN),
}


class IllegalTransition(VerificationError):
    """An event that the lifecycle table does not allow in the item's state (RULE_VIOLATION)."""

    def __init__(self, correlation_id: str, state: State | None, event: Event) -> None:
        self.state = state
        self.event = event
        shown = state.value if state is not None else "new"
        super().__init__(
            ReasonCode.RULE_VIOLATION,
            f"{correlation_id}: 状态“{shown}”下不允许“{event.value}”"
            f" / {event.value} is not allowed in state {shown}",
        )


@dataclass(frozen=True, slots=True)
class Step:
    """One applied event: what happened, on which day, into which state, and the message behind it."""

    event: Event
    on: date
    state: State
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    """A task or clue: its state, the day its current clock ends (if one runs) and its history."""

    correlation_id: str
    standard: str
    state: State
    due: date | None
    history: tuple[Step, ...]
    variant: str = ""
    late: bool = False  # a deadline passed at some point

    def to_json(self) -> str:
        """The item as JSON text (for the adapter's store)."""
        doc: dict[str, Any] = {
            "correlation_id": self.correlation_id,
            "standard": self.standard,
            "variant": self.variant,
            "state": self.state.value,
            "due": self.due.isoformat() if self.due else None,
            "late": self.late,
            "history": [[s.event.value, s.on.isoformat(), s.state.value, s.message_id] for s in self.history],
        }
        return json.dumps(doc, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Item:
        """The item stored by `to_json`."""
        doc = json.loads(text)
        return cls(
            doc["correlation_id"],
            doc["standard"],
            State(doc["state"]),
            date.fromisoformat(doc["due"]) if doc["due"] else None,
            tuple(Step(Event(e), date.fromisoformat(d), State(s), m) for e, d, s, m in doc["history"]),
            doc["variant"],
            doc["late"],
        )


def china_day(moment: datetime) -> date:
    """The calendar day in China Standard Time of an aware datetime (working days are counted in it)."""
    return moment.astimezone(CHINA).date()


def deadline_overrides(policies: Mapping[str, Any]) -> dict[str, int]:
    """Deadlines from the trust policies: {"SC-14": {"claimed": 10}} -> {"SC-14/claimed": 10}."""
    overrides: dict[str, int] = {}
    for standard, spec in dict(policies.get("deadlines", {})).items():
        if isinstance(spec, dict):
            for stage, days in spec.items():
                if isinstance(days, int) and stage != "working_days":
                    overrides[f"{standard}/{stage}"] = days
    return overrides


def deadline_for(
    standard: str, variant: str, state: State, *, overrides: Mapping[str, int] | None = None
) -> Deadline | None:
    """The clock that runs in `state`, from `overrides` (working days per "SC-14/claimed") or the table."""
    key = f"{standard}/{state.value}"
    if overrides and key in overrides:
        return Deadline(int(overrides[key]), _POLICY_ZH, _POLICY_EN)
    return DEADLINES.get((standard, variant, state)) or DEADLINES.get((standard, "", state))


def _due(
    standard: str, variant: str, state: State, on: date, overrides: Mapping[str, int] | None
) -> date | None:
    deadline = deadline_for(standard, variant, state, overrides=overrides)
    return add_working_days(on, deadline.working_days) if deadline is not None else None


def dispatch(
    correlation_id: str,
    standard: str,
    *,
    on: date,
    variant: str = "",
    message_id: str = "",
    overrides: Mapping[str, int] | None = None,
) -> Item:
    """A new item, dispatched on `on` (its claim clock starts)."""
    state = TRANSITIONS[(None, Event.DISPATCH)]
    return Item(
        correlation_id,
        standard,
        state,
        _due(standard, variant, state, on, overrides),
        (Step(Event.DISPATCH, on, state, message_id),),
        variant,
    )


def apply(
    item: Item, event: Event, *, on: date, message_id: str = "", overrides: Mapping[str, int] | None = None
) -> Item:
    """The item after `event` on day `on`; `IllegalTransition` when the table does not allow it."""
    target = TRANSITIONS.get((item.state, event))
    if target is None:
        raise IllegalTransition(item.correlation_id, item.state, event)
    # On DEADLINE_PASSED the passed deadline stays visible; any other event starts the next clock.
    due = item.due if target == State.OVERDUE else _due(item.standard, item.variant, target, on, overrides)
    return replace(
        item,
        state=target,
        due=due,
        history=(*item.history, Step(event, on, target, message_id)),
        late=item.late or event == Event.DEADLINE_PASSED,
    )


def overdue(items: Iterable[Item], now: datetime) -> list[Item]:
    """The items whose running clock ended before `now`'s day (China time), most overdue first."""
    today = china_day(now)
    running = (State.DISPATCHED, State.CLAIMED, State.OVERDUE)
    late = [i for i in items if i.state in running and i.due is not None and i.due < today]
    return sorted(late, key=lambda i: (i.due, i.correlation_id))


def days_overdue(item: Item, now: datetime) -> int:
    """Working days since the item's deadline passed (0 when it has not)."""
    if item.due is None:
        return 0
    return max(0, working_days_between(item.due, china_day(now)))
