"""The dates on which a duty has work, computed from the catalog alone.

A duty has work on a date when one of its periods starts, when a reminder step falls (T−3, T−1
working days, the due day), or when an escalation step of an instance still open would fire.
The phase flow runs a duty's subflow only on those dates: a subflow run costs over a second,
so calling every duty every day would waste most of a run.

The phase flows run once a day at ``run_time`` (reminders.send_at, 09:00). A step that fires
later in its day (going overdue at the due time, 17:30) is taken up by the next day's run, so
its work date is the next calendar day. A duty limited to some phases keeps its work dates that
fall after its own windows (the last period's deadline rolled into the next phase): the phase
running that day runs it, so no instance is left unchecked.
"""

from __future__ import annotations

import datetime as dt

from campaign.periods import Frequency, periods_between
from campaign.workdays import WorkCalendar
from plan.schema import Duty, Plan
from tasks.due import due_date


def work_dates(plan: Plan, duty: Duty, cal: WorkCalendar) -> set[dt.date]:
    if duty.frequency is Frequency.EVENT:
        # Not run by the phase flows: a 90-minute deadline needs checking every few minutes, so
        # the duty's own deployment runs every 10 minutes (schedules.rrules.event_rrule).
        return set()
    policy = plan.reminders
    anchor = plan.campaign_window()[0]
    runs_at = run_time(plan)
    due_at = _hhmm(duty.due.time)
    out: set[dt.date] = set()
    for start, end in plan.duty_windows(duty):
        for p in periods_between(duty.frequency, start, end, anchor):
            out.add(max(p.start, start))
            due = due_date(duty.due, p, cal, plan.campaign_window()[1])
            out.update(cal.add_workdays(due, -n) for n in policy.before_workdays)
            out.add(due)  # the due-day reminder fires at min(send_at, due time)
            alert = cal.add_workdays(due, duty.due.grace_workdays) if duty.due.grace_workdays else due
            for step in policy.escalation:
                if step.after_workdays:
                    out.add(cal.add_workdays(alert, step.after_workdays))  # at send_at
                else:
                    # It goes overdue at the due time; the first run at or after that moment.
                    out.add(alert if due_at <= runs_at else alert + dt.timedelta(days=1))
    return out


def run_time(plan: Plan) -> dt.time:
    """When the phase flows run each day: the hour reminders go out (reminders.send_at)."""
    return _hhmm(plan.reminders.send_at)


def _hhmm(value: str) -> dt.time:
    h, m = (int(x) for x in value.split(":"))
    return dt.time(h, m)


def runs_in_phase(plan: Plan, duty: Duty, day: dt.date, phase_key: str) -> bool:
    """Whether the run of phase ``phase_key`` on ``day`` is the one that runs ``duty`` (if it has
    work that day): its own phases, or any phase on a day after/between its own windows."""
    if not duty.phases or phase_key in duty.phases:
        return True
    return not any(start <= day <= end for start, end in plan.duty_windows(duty))


def duties_with_work(plan: Plan, day: dt.date, cal: WorkCalendar, phase_key: str | None = None) -> list[Duty]:
    """Duties that have work on ``day`` (optionally: only those the run of ``phase_key`` runs), in
    catalog order."""
    out = []
    for d in plan.duties():
        if phase_key and not runs_in_phase(plan, d, day, phase_key):
            continue
        if day in _cached_dates(plan, d.key, id(cal), cal):
            out.append(d)
    return out


_cache: dict[tuple[int, str, int], tuple[Plan, WorkCalendar, set[dt.date]]] = {}


def _cached_dates(plan: Plan, key: str, cal_id: int, cal: WorkCalendar) -> set[dt.date]:
    # Keyed by identity; the entry keeps the plan and calendar alive and is checked against them,
    # so a new object that happens to reuse a freed object's id never reads another's dates.
    k = (id(plan), key, cal_id)
    hit = _cache.get(k)
    if hit is None or hit[0] is not plan or hit[1] is not cal:
        if len(_cache) > 4096:
            _cache.clear()
        hit = _cache[k] = (plan, cal, work_dates(plan, plan.duty(key), cal))
    return hit[2]
