"""The kinds of duty logic, and the one registry that names them.

A duty is a catalog entry, not a module: its kind follows from the entry (an event duty, or a
periodic one completed by report rows). Each kind says how its instances come to exist and how
they are completed; flagging, quotas and reminders are the same for every kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from campaign.periods import Frequency
from plan.schema import Duty
from tasks.events import complete_from_events, materialise_events
from tasks.instances import DutyContext, complete_from_evidence, flag_overdue, materialise
from tasks.measures import evaluate_targets

Step = Callable[[Session, DutyContext], int]


@dataclass(frozen=True)
class DutyKind:
    name: str
    description: str
    materialise: Step
    complete: Step


PERIODIC = DutyKind(
    "periodic",
    "one instance per unit and period (每周、每半月、每月 …), completed by the rows of its report",
    materialise,
    complete_from_evidence,
)
EVENT = DutyKind(
    "event",
    "one instance per reported event, due response_minutes after it, completed by the recorded arrival",
    materialise_events,
    complete_from_events,
)

KINDS: dict[str, DutyKind] = {k.name: k for k in (PERIODIC, EVENT)}


def kind_of(duty: Duty) -> DutyKind:
    return EVENT if duty.frequency is Frequency.EVENT else PERIODIC


def bring_up_to_date(session: Session, ctx: DutyContext) -> None:
    """Every step before reminders, in one unit of work: what a duty flow's tasks do one by one."""
    kind = kind_of(ctx.duty)
    kind.materialise(session, ctx)
    kind.complete(session, ctx)
    evaluate_targets(session, ctx)
    flag_overdue(session, ctx)
