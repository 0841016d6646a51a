"""The dates on which a duty has work, computed from the catalog alone.

A duty has work on a date when one of its periods starts, when a reminder step falls (T−3, T−1
working days, the due day), or when an escalation step of an instance still open would fire.
The phase flow runs a duty's subflow only on those dates: a subflow run costs over a second,
so calling every duty every day would waste most of a run.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from campaign.periods import Frequency, periods_between
from campaign.workdays import WorkCalendar
from plan.schema import Duty, Plan
from tasks.due import due_date


def work_dates(plan: Plan, duty: Duty, cal: WorkCalendar) -> set[dt.date]:
    if duty.frequency is Frequency.EVENT:
        # Event duties are checked every day of their windows (faults can happen any day).
        days: set[dt.date] = set()
        for start, end in plan.duty_windows(duty):
            d = start
            while d <= end:
                days.add(d)
                d += dt.timedelta(days=1)
        return days
    policy = plan.reminders
    anchor = plan.campaign_window()[0]
    out: set[dt.date] = set()
    for start, end in plan.duty_windows(duty):
        for p in periods_between(duty.frequency, start, end, anchor):
            out.add(max(p.start, start))
            due = due_date(duty.due, p, cal)
            out.update(cal.add_workdays(due, -n) for n in policy.before_workdays)
            out.add(due)
            alert = cal.add_workdays(due, duty.due.grace_workdays) if duty.due.grace_workdays else due
            for step in policy.escalation:
                out.add(cal.add_workdays(alert, step.after_workdays) if step.after_workdays else alert)
    return out


def duties_with_work(plan: Plan, day: dt.date, cal: WorkCalendar, phase_key: str | None = None) -> list[Duty]:
    """Duties that have work on ``day`` (optionally: only those running in a phase), in catalog order."""
    out = []
    for d in plan.duties():
        if phase_key and d.phases and phase_key not in d.phases:
            continue
        if day in _cached_dates(plan, d.key, id(cal), cal):
            out.append(d)
    return out


_cache: dict[tuple[int, str, int], set[dt.date]] = {}


def _cached_dates(plan: Plan, key: str, cal_id: int, cal: WorkCalendar) -> set[dt.date]:
    k = (id(plan), key, cal_id)
    if k not in _cache:
        if len(_cache) > 4096:
            _cache.clear()
        _cache[k] = work_dates(plan, plan.duty(key), cal)
    return _cache[k]


@lru_cache(maxsize=8)
def tz_of(name: str) -> ZoneInfo:
    return ZoneInfo(name)
