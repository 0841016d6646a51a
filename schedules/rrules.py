"""RRule strings for the deployments: phase flows daily in their windows, each duty on its due dates.

Every string is an RFC 5545 rule set as Prefect's ``RRuleSchedule`` reads it::

    DTSTART:20180320T090000+08:00
    RRULE:FREQ=MONTHLY;BYMONTHDAY=15,-1;UNTIL=20181231T155959Z
    RDATE:20180428T090000+08:00
    EXDATE:20180430T090000+08:00

* Times are wall-clock times in the campaign's time zone, written with their UTC offset (Prefect
  relabels DTSTART/RDATE/EXDATE with the schedule's ``timezone``; a naive anchor with the default
  timezone would be read as UTC, eight hours off). UNTIL must be UTC when DTSTART has an offset,
  so it is the last day's 23:59:59 local time in UTC: whether read as UTC or relabelled as local
  time, it falls after that day's run and before the next day's.
* The RRULE line is the plain calendar rule that fits the duty's due dates best ("the 15th and
  the last day of the month"); the working-day calendar (holidays, 调休 make-up days, rolls to the
  preceding or following working day, offsets in working days) cannot be said in an RRULE, so the
  dates it moves are listed: EXDATE drops the rule's dates that are not due dates, RDATE adds the
  true due dates the rule misses. The set therefore expands to exactly the due dates that
  ``tasks.due.due_date`` computes, and the Prefect UI shows the true dates.
* A duty's dates are the due dates of its periods in the windows it runs in (its phases, or the
  whole campaign), kept when a phase flow runs on that day (inside the campaign's window). Event
  duties (事件) have no calendar period; the phase flows check them every day of their windows,
  so their schedule is daily in those windows.
* Windows are month-days: a campaign with another ``year`` gets the same rules in that year. A
  year the working-day calendar does not know raises ``campaign.workdays.UnknownCalendarYear``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from campaign.periods import Frequency, periods_between
from campaign.workdays import WorkCalendar
from plan.schema import Duty, Phase, Plan
from schedules.workdates import run_time
from tasks.due import due_date

__all__ = ["duty_dates", "duty_rrule", "occurrences", "phase_rrule", "rule_set", "run_time", "unreached_due_dates"]

MAX_RRULE_LENGTH = 6500  # prefect.client.schemas.schedules.MAX_RRULE_LENGTH
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WORKWEEK = "BYDAY=MO,TU,WE,TH,FR"


class RRuleTooLong(ValueError):
    pass


def campaign_days(plan: Plan) -> tuple[dt.date, dt.date]:
    return plan.campaign_window()


def _check_year(plan: Plan, cal: WorkCalendar) -> None:
    # Fail on an unknown year even for schedules that would not consult the calendar.
    year = plan.campaign.year
    if not cal.knows(year):
        cal.is_workday(dt.date(year, 1, 1))  # raises UnknownCalendarYear with the operator's hint


def duty_dates(plan: Plan, duty: Duty, cal: WorkCalendar) -> list[dt.date]:
    """The days a duty's own schedule fires: its due dates (every window day for event duties),
    those a phase flow runs on."""
    _check_year(plan, cal)
    first, last = campaign_days(plan)
    days: set[dt.date] = set()
    windows = plan.duty_windows(duty)
    if duty.frequency is Frequency.EVENT:
        for start, end in windows:
            d = start
            while d <= end:
                days.add(d)
                d += dt.timedelta(days=1)
    else:
        anchor = plan.campaign_window()[0]
        for start, end in windows:
            for p in periods_between(duty.frequency, start, end, anchor):
                days.add(due_date(duty.due, p, cal, plan.campaign_window()[1]))
    return sorted(d for d in days if first <= d <= last)


def unreached_due_dates(plan: Plan, cal: WorkCalendar) -> dict[str, list[dt.date]]:
    """Due dates no phase flow runs on, outside the campaign's window (a December deadline rolled
    into January): operators should know these instances are never checked."""
    _check_year(plan, cal)
    first, last = campaign_days(plan)
    anchor = first
    out: dict[str, list[dt.date]] = {}
    for duty in plan.duties():
        if duty.frequency is Frequency.EVENT:
            continue
        days = {
            due_date(duty.due, p, cal, last)
            for start, end in plan.duty_windows(duty)
            for p in periods_between(duty.frequency, start, end, anchor)
        }
        missed = sorted(d for d in days if not first <= d <= last)
        if missed:
            out[duty.key] = missed
    return out


# --- rendering -------------------------------------------------------------------------------


def _local(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=tz)


def _fmt_local(when: dt.datetime) -> str:
    off = when.strftime("%z")  # +0800
    return when.strftime("%Y%m%dT%H%M%S") + off[:3] + ":" + off[3:]


def _until(day: dt.date, tz: ZoneInfo) -> str:
    end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz).astimezone(dt.UTC)
    return end.strftime("%Y%m%dT%H%M%SZ")


def _expand_naive(rule: str, start: dt.datetime, last: dt.date) -> set[dt.datetime]:
    """Occurrences of a plain RRULE in naive local wall time (how Prefect reads our strings)."""
    until = dt.datetime.combine(last, dt.time(23, 59, 59))
    r = rrulestr(f"RRULE:{rule};UNTIL={until:%Y%m%dT%H%M%S}", dtstart=start)
    return set(r)


def _anchors(plan: Plan, duty: Duty) -> list[dt.date]:
    """The period ends (or starts) the due rule counts from, before any working-day move."""
    anchor = plan.campaign_window()[0]
    return sorted(
        {
            p.end if duty.due.anchor == "period_end" else p.start
            for start, end in plan.duty_windows(duty)
            for p in periods_between(duty.frequency, start, end, anchor)
        }
    )


def _monthday(d: dt.date) -> int:
    return -1 if (d + dt.timedelta(days=1)).month != d.month else d.day


def _candidates(plan: Plan, duty: Duty, days: Sequence[dt.date]) -> list[str]:
    """Plain rules that may describe the dates. The first is the rule the plan states (the period
    ends or starts); the others fit dates the working-day rules moved ("every Monday")."""
    freq = duty.frequency
    if freq in (Frequency.DAILY, Frequency.EVENT):
        return ["FREQ=DAILY", f"FREQ=WEEKLY;{WORKWEEK}"]
    anchors = _anchors(plan, duty)
    common_wd = [WEEKDAYS[w] for w, _ in Counter(d.weekday() for d in days).most_common()]
    if freq in (Frequency.WEEKLY, Frequency.BIWEEKLY):
        every = "FREQ=WEEKLY" + (";INTERVAL=2" if freq is Frequency.BIWEEKLY else "")
        wds = [WEEKDAYS[anchors[0].weekday()], *common_wd]
        return list(dict.fromkeys(f"{every};BYDAY={w}" for w in wds))
    if freq is Frequency.HALF_MONTHLY:
        out = ["FREQ=MONTHLY;BYMONTHDAY=" + ("15,-1" if duty.due.anchor == "period_end" else "1,16")]
        first = Counter(_monthday(d) for d in days if d.day <= 15).most_common(1)
        second = Counter(_monthday(d) for d in days if d.day > 15).most_common(1)
        if first and second:
            out.append(f"FREQ=MONTHLY;BYMONTHDAY={first[0][0]},{second[0][0]}")
        return list(dict.fromkeys(out))
    # Monthly and longer: the anchor months (3,6,9,12 for quarters), or the months after them
    # when the due rule moves the date into the next month.
    months = sorted({a.month for a in anchors})
    every_month = months == list(range(months[0], months[-1] + 1))

    def bymonth(ms: list[int]) -> str:
        return "" if every_month else ";BYMONTH=" + ",".join(map(str, sorted(ms)))

    later = [m % 12 + 1 for m in months]
    out = [f"FREQ=MONTHLY{bymonth(months)};BYMONTHDAY=" + ("-1" if duty.due.anchor == "period_end" else "1")]
    for ms in (months, later):
        common_md = [md for md, _ in Counter(_monthday(d) for d in days if d.month in ms).most_common(2)]
        out += [f"FREQ=MONTHLY{bymonth(ms)};BYMONTHDAY={md}" for md in common_md]
        out += [f"FREQ=MONTHLY{bymonth(ms)};{WORKWEEK};BYSETPOS={k}" for k in (-1, 1, 2, 3, -2, -3)]
    return list(dict.fromkeys(out))


# A rule other than the plan's own must save this many corrections to be preferred.
PLAIN_RULE_BONUS = 2


def rule_set(days: Sequence[dt.date], at: dt.time, tz: ZoneInfo, candidates: Iterable[str]) -> str:
    """The rule set whose occurrences are exactly ``days`` at ``at`` local time.

    Picks the candidate RRULE needing the fewest RDATE/EXDATE corrections, the first candidate
    (the plan's own rule) unless another saves more than PLAIN_RULE_BONUS of them; an RDATE list
    alone when no rule helps."""
    if not days:
        raise ValueError("a schedule needs at least one date")
    days = sorted(set(days))
    start = dt.datetime.combine(days[0], at)
    want = {dt.datetime.combine(d, at) for d in days}
    best: tuple[int, str, set[dt.datetime], set[dt.datetime]] | None = None
    for i, rule in enumerate(candidates):
        got = _expand_naive(rule, start, days[-1])
        rdates, exdates = want - got, got - want
        cost = len(rdates) + len(exdates) + (PLAIN_RULE_BONUS if i else 0)
        if best is None or cost < best[0]:
            best = (cost, rule, rdates, exdates)
    lines = [f"DTSTART:{_fmt_local(_local(days[0], at, tz))}"]
    if best is not None and best[0] < len(want):
        _, rule, rdates, exdates = best
        lines.append(f"RRULE:{rule};UNTIL={_until(days[-1], tz)}")
    else:
        rdates, exdates = want, set()
    if rdates:
        lines.append("RDATE:" + ",".join(_fmt_local(d.replace(tzinfo=tz)) for d in sorted(rdates)))
    if exdates:
        lines.append("EXDATE:" + ",".join(_fmt_local(d.replace(tzinfo=tz)) for d in sorted(exdates)))
    text = "\n".join(lines)
    if len(text) > MAX_RRULE_LENGTH:
        raise RRuleTooLong(f"rule set of {len(text)} characters exceeds Prefect's {MAX_RRULE_LENGTH}")
    return text


def phase_rrule(plan: Plan, phase: Phase) -> str:
    """Daily at the run time, from the phase's first to its last day."""
    tz = ZoneInfo(plan.campaign.timezone)
    start, end = plan.phase_dates(phase)
    return f"DTSTART:{_fmt_local(_local(start, run_time(plan), tz))}\nRRULE:FREQ=DAILY;UNTIL={_until(end, tz)}"


EVENT_CHECK_MINUTES = 10


def event_rrule(plan: Plan, duty: Duty) -> str:
    """Event duties (a fault reached within 90 minutes) are checked every 10 minutes of every
    window they run in, by their own deployment: a daily phase run could not see a 90-minute
    deadline pass. One rule per window would need a rule set; the campaign's windows are
    contiguous, so one rule from the first window's start to the last window's end serves."""
    tz = ZoneInfo(plan.campaign.timezone)
    windows = plan.duty_windows(duty)
    start, end = windows[0][0], windows[-1][1]
    return (
        f"DTSTART:{_fmt_local(dt.datetime.combine(start, dt.time(0, 0), tzinfo=tz))}\n"
        f"RRULE:FREQ=MINUTELY;INTERVAL={EVENT_CHECK_MINUTES};UNTIL={_until(end, tz)}"
    )


def duty_rrule(plan: Plan, duty: Duty, cal: WorkCalendar) -> str | None:
    """The duty's due dates at the run time, as a rule set (see the module docstring); None when
    none of its due dates falls inside the campaign's window (see ``unreached_due_dates``)."""
    days = duty_dates(plan, duty, cal)
    if not days:
        return None
    tz = ZoneInfo(plan.campaign.timezone)
    try:
        return rule_set(days, run_time(plan), tz, _candidates(plan, duty, days))
    except RRuleTooLong as exc:
        raise RRuleTooLong(f"duty {duty.key}: {exc}") from None


def occurrences(rrule: str, timezone: str, limit: int = 5000) -> list[dt.datetime]:
    """Expand a rule set exactly as the Prefect server does (RRuleSchedule.to_rrule)."""
    from prefect.client.schemas.schedules import RRuleSchedule

    rs = RRuleSchedule(rrule=rrule, timezone=timezone).to_rrule()
    tz = ZoneInfo(timezone)
    out: list[dt.datetime] = []
    for d in rs:
        out.append(d.astimezone(tz))
        if len(out) >= limit:
            break
    return out
