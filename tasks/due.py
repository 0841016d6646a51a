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


def due_date(rule: DueRule, period: Period, cal: WorkCalendar, last_day: dt.date | None = None) -> dt.date:
    """The due day of a period. ``last_day`` is the campaign's last day: the plan's 完成时限 end
    with the campaign, so a deadline the calendar would push past it (12/31 is a holiday, so
    December would roll into January) comes back to the campaign's last working day — otherwise
    no phase run would ever check it."""
    anchor = period.end if rule.anchor == "period_end" else period.start
    day = cal.roll(anchor, rule.roll)
    if rule.offset_workdays:
        day = cal.add_workdays(day, rule.offset_workdays)
    if last_day is not None and day > last_day:
        day = cal.roll(last_day, "preceding")
    return day


def due_and_alert(
    rule: DueRule, period: Period, cal: WorkCalendar, tz: ZoneInfo, last_day: dt.date | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """(due_at, alert_after): alert_after is due plus the grace in working days."""
    day = due_date(rule, period, cal, last_day)
    due = at_local(day, rule.time, tz)
    alert_day = cal.add_workdays(day, rule.grace_workdays) if rule.grace_workdays else day
    return due, at_local(alert_day, rule.time, tz)
