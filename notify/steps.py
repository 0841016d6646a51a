"""Which reminder or escalation steps are due for a duty's open instances at ``as_of``.

Reminders before the due time go to the 责任人 at T−3 and T−1 working days and on the due day
(only the latest step that applies is sent: a missed run does not send two reminders at once).
Once overdue, each escalation step of the chain frozen on the instance fires after its delay in
working days, each to its own recipients, once.

An approved extension (延期, ``DutyInstance.extended_to``) moves the due time: reminders are
counted back from the new time and, should the new time pass as well, the overdue clock restarts
from it. Steps after an extension carry an *epoch* (``x201805181730``) so they are new ledger
keys, distinct from the steps sent about the original due time.
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


def step_rank(name: str) -> int:
    """Order of steps for one instance: before-3 < before-1 < due < escalate-0 < escalate-1 …"""
    if name.startswith("before-"):
        return -1000 - int(name.removeprefix("before-"))
    if name == "due":
        return -1
    if name.startswith("escalate-"):
        return int(name.removeprefix("escalate-"))
    return -2000


def _hm(s: str) -> tuple[int, int]:
    h, m = s.split(":")
    return int(h), int(m)


def in_quiet(t: dt.datetime, policy: ReminderPolicy, tz: ZoneInfo) -> bool:
    """Whether ``t`` falls inside quiet hours (default 21:00–08:00, across midnight)."""
    local = t.astimezone(tz)
    hm = (local.hour, local.minute)
    qs, qe = _hm(policy.quiet_hours.start), _hm(policy.quiet_hours.end)
    if qs == qe:
        return False
    if qs < qe:
        return qs <= hm < qe
    return hm >= qs or hm < qe


def shift_out_of_quiet(t: dt.datetime, policy: ReminderPolicy, tz: ZoneInfo) -> dt.datetime:
    """A time inside quiet hours moves to the end of them; other times are returned unchanged."""
    if not in_quiet(t, policy, tz):
        return t
    local = t.astimezone(tz)
    qe = _hm(policy.quiet_hours.end)
    day = local.date()
    if (local.hour, local.minute) >= qe:
        day += dt.timedelta(days=1)  # evening: quiet hours end tomorrow morning
    return at_local(day, policy.quiet_hours.end, tz)


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
    overdue_since: dt.datetime,
    chain: list[EscalationStep],
    policy: ReminderPolicy,
    cal: WorkCalendar,
    tz: ZoneInfo,
) -> list[Step]:
    """Step i fires ``after_workdays`` working days after the day it went overdue, at send_at
    (0: at the moment it went overdue)."""
    start = overdue_since.astimezone(tz)
    out = []
    for i, s in enumerate(chain):
        if s.after_workdays == 0:
            fire = overdue_since
        else:
            fire = at_local(cal.add_workdays(start.date(), s.after_workdays), policy.send_at, tz)
        out.append(Step(f"escalate-{i}", s.to, fire, "overdue" if i == 0 else "escalation"))
    return out


def epoch_of(extended_to: dt.datetime | None) -> str:
    """'' for the original due time, 'x<UTC yyyymmddHHMM>' after an extension."""
    return "" if extended_to is None else "x" + extended_to.astimezone(dt.UTC).strftime("%Y%m%d%H%M")


@dataclass(frozen=True)
class DueStep:
    instance_id: int
    unit_code: str
    unit_name: str
    township_code: str | None
    period_key: str
    due_at: dt.datetime
    step: Step
    epoch: str = ""


def reminder_horizon(ctx: DutyContext) -> dt.datetime:
    """The latest due time whose earliest reminder (T−max working days) may already be due.

    Counted in working days, not calendar days: T−3 before a due day after the National Day week
    falls eleven calendar days earlier."""
    policy, tz, cal = ctx.plan.reminders, ctx.tz, ctx.calendar
    n = max([*policy.before_workdays, 0])
    last_day = cal.add_workdays(ctx.today, n) if n else ctx.today
    return at_local(last_day + dt.timedelta(days=1), "00:00", tz)


def due_steps(session: Session, ctx: DutyContext) -> list[DueStep]:
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
            (DutyInstance.due_at <= reminder_horizon(ctx)) | (DutyInstance.extended_to.is_not(None)),
        )
    ).all()
    out: list[DueStep] = []
    cache: dict[dt.datetime, list[Step]] = {}
    esc_cache: dict[tuple[dt.datetime, str], list[Step]] = {}
    for iid, unit, uname, town, period, due, alert, ext, since, chain, acked in rows:
        effective_due = ext or due
        alert_at = ext or alert
        epoch = epoch_of(ext)
        if alert_at > ctx.as_of:
            if acked is not None and acked <= ctx.as_of:
                continue  # acknowledged: no more reminders (the escalation clock still runs)
            steps = cache.get(effective_due)
            if steps is None:
                steps = cache[effective_due] = reminder_steps(effective_due, policy, cal, tz)
            fired = [s for s in steps if s.fire_at <= ctx.as_of]
            if fired:
                out.append(DueStep(iid, unit, uname, town, period, effective_due, fired[-1], epoch))
            continue
        base = since or alert_at
        if ext is not None and ext > base:
            base = ext  # extended after it first went overdue: the clock restarts at the new time
        ck = (base, repr(chain))
        esteps = esc_cache.get(ck)
        if esteps is None:
            frozen = [EscalationStep.model_validate(x) for x in (chain or [])] or list(policy.escalation)
            esteps = esc_cache[ck] = escalation_steps(base, frozen, policy, cal, tz)
        for s in esteps:
            if s.fire_at <= ctx.as_of:
                out.append(DueStep(iid, unit, uname, town, period, effective_due, s, epoch))
    return out
