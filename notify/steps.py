"""Which reminder or escalation steps are due for a duty's open instances at ``as_of``.

Reminders before the due time go to the 责任人 at T−3 and T−1 working days and on the due day
(only the latest step that applies is sent: a missed run does not send two reminders at once).
Once overdue, each escalation step of the chain frozen on the instance fires after its delay in
working days, each to its own recipients, once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.workdays import WorkCalendar
from plan.schema import EscalationStep, ReminderPolicy
from storage.models import DutyInstance
from tasks.due import at_local
from tasks.instances import DutyContext, _scope


@dataclass(frozen=True)
class Step:
    name: str  # before-3 | before-1 | due | escalate-0 … escalate-N
    target: str  # 责任人 | unit_head | 市级责任领导 | a department
    fire_at: dt.datetime
    kind: str  # reminder | overdue | escalation


def shift_out_of_quiet(t: dt.datetime, policy: ReminderPolicy, tz: ZoneInfo) -> dt.datetime:
    """A time inside quiet hours (default 21:00–08:00) moves to the end of them."""
    local = t.astimezone(tz)
    qs = tuple(int(x) for x in policy.quiet_hours.start.split(":"))
    qe = tuple(int(x) for x in policy.quiet_hours.end.split(":"))
    hm = (local.hour, local.minute)
    if hm >= qs:
        return at_local(local.date() + dt.timedelta(days=1), policy.quiet_hours.end, tz)
    if hm < qe:
        return at_local(local.date(), policy.quiet_hours.end, tz)
    return t


def reminder_steps(due_at: dt.datetime, policy: ReminderPolicy, cal: WorkCalendar, tz: ZoneInfo) -> list[Step]:
    due_day = due_at.astimezone(tz).date()
    steps = [
        Step(f"before-{n}", "责任人", at_local(cal.add_workdays(due_day, -n), policy.send_at, tz), "reminder")
        for n in sorted(policy.before_workdays, reverse=True)
    ]
    if policy.on_due_day:
        steps.append(Step("due", "责任人", min(at_local(due_day, policy.send_at, tz), due_at), "reminder"))
    return steps


def escalation_steps(
    overdue_since: dt.datetime, chain: list[EscalationStep], policy: ReminderPolicy, cal: WorkCalendar, tz: ZoneInfo
) -> list[Step]:
    start = overdue_since.astimezone(tz)
    out = []
    for i, s in enumerate(chain):
        if s.after_workdays == 0:
            fire = overdue_since
        else:
            fire = at_local(cal.add_workdays(start.date(), s.after_workdays), policy.send_at, tz)
        out.append(Step(f"escalate-{i}", s.to, fire, "overdue" if i == 0 else "escalation"))
    return out


@dataclass(frozen=True)
class DueStep:
    instance_id: int
    unit_code: str
    unit_name: str
    township_code: str | None
    period_key: str
    due_at: dt.datetime
    step: Step


def due_steps(session: Session, ctx: DutyContext, horizon_days: int = 10) -> list[DueStep]:
    """Every (instance, step) that should have gone out by as_of and is still relevant."""
    policy, tz, cal = ctx.plan.reminders, ctx.tz, ctx.calendar
    rows = session.execute(
        select(
            DutyInstance.id,
            DutyInstance.unit_code,
            DutyInstance.unit_name,
            DutyInstance.township_code,
            DutyInstance.period_key,
            DutyInstance.due_at,
            DutyInstance.alert_after,
            DutyInstance.extended_to,
            DutyInstance.overdue_since,
            DutyInstance.escalation_chain,
            DutyInstance.acknowledged_at,
        ).where(
            _scope(ctx),
            (DutyInstance.completed_at.is_(None)) | (DutyInstance.completed_at > ctx.as_of),
            DutyInstance.due_at <= ctx.as_of + dt.timedelta(days=horizon_days),
        )
    ).all()
    out: list[DueStep] = []
    cache: dict[dt.datetime, list[Step]] = {}
    for iid, unit, uname, town, period, due, alert, ext, since, chain, acked in rows:
        effective_due = ext or due
        alert_at = ext or alert
        if alert_at > ctx.as_of:
            if acked is not None and acked <= ctx.as_of:
                continue  # acknowledged: no more reminders (the escalation clock still runs)
            steps = cache.get(effective_due)
            if steps is None:
                steps = cache[effective_due] = reminder_steps(effective_due, policy, cal, tz)
            fired = [s for s in steps if s.fire_at <= ctx.as_of]
            if fired:
                out.append(DueStep(iid, unit, uname, town, period, effective_due, fired[-1]))
            continue
        frozen = [EscalationStep.model_validate(x) for x in (chain or [])] or list(policy.escalation)
        for s in escalation_steps(since or alert_at, frozen, policy, cal, tz):
            if s.fire_at <= ctx.as_of:
                out.append(DueStep(iid, unit, uname, town, period, effective_due, s))
    return out
