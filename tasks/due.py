"""Due times of duty instances, from the duty's due rule and the working-day calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from campaign.periods import Period
from campaign.workdays import WorkCalendar
from plan.schema import DueRule


def at_local(day: dt.date, hhmm: str, tz: ZoneInfo) -> dt.datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, h, m, tzinfo=tz)


def due_date(rule: DueRule, period: Period, cal: WorkCalendar) -> dt.date:
    anchor = period.end if rule.anchor == "period_end" else period.start
    day = cal.roll(anchor, rule.roll)
    if rule.offset_workdays:
        day = cal.add_workdays(day, rule.offset_workdays)
    return day


def due_and_alert(rule: DueRule, period: Period, cal: WorkCalendar, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """(due_at, alert_after): alert_after is due plus the grace in working days."""
    day = due_date(rule, period, cal)
    due = at_local(day, rule.time, tz)
    alert_day = cal.add_workdays(day, rule.grace_workdays) if rule.grace_workdays else day
    return due, at_local(alert_day, rule.time, tz)
