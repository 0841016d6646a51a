"""Periods of recurring duties: which period a date falls in, and its key.

Period keys are stable strings (``2018-05H1`` for the first half of May) so that a duty
instance is one row per duty × unit × period however often a flow re-runs.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Frequency(StrEnum):
    DAILY = "每天"
    WEEKLY = "每周"
    BIWEEKLY = "每两周"
    HALF_MONTHLY = "每半月"
    MONTHLY = "每月"
    QUARTERLY = "每季度"
    HALF_YEARLY = "每半年"
    YEARLY = "每年"
    EVENT = "事件"


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date
    key: str


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_of(freq: Frequency, day: dt.date, anchor: dt.date | None = None) -> Period:
    """The period of ``freq`` that contains ``day``.

    ``anchor`` (the campaign's start) fixes where two-week blocks begin: the Monday of its week.
    """
    y, m = day.year, day.month
    if freq is Frequency.DAILY:
        return Period(day, day, day.isoformat())
    if freq is Frequency.WEEKLY:
        start = day - dt.timedelta(days=day.weekday())
        iso = start.isocalendar()
        return Period(start, start + dt.timedelta(days=6), f"{iso.year}-W{iso.week:02d}")
    if freq is Frequency.BIWEEKLY:
        base = anchor or dt.date(y, 1, 1)
        base -= dt.timedelta(days=base.weekday())
        n = (day - base).days // 14
        start = base + dt.timedelta(days=14 * n)
        iso = start.isocalendar()
        return Period(start, start + dt.timedelta(days=13), f"{iso.year}-W{iso.week:02d}+2")
    if freq is Frequency.HALF_MONTHLY:
        if day.day <= 15:
            return Period(dt.date(y, m, 1), dt.date(y, m, 15), f"{y}-{m:02d}H1")
        return Period(dt.date(y, m, 16), _month_end(y, m), f"{y}-{m:02d}H2")
    if freq is Frequency.MONTHLY:
        return Period(dt.date(y, m, 1), _month_end(y, m), f"{y}-{m:02d}")
    if freq is Frequency.QUARTERLY:
        q = (m - 1) // 3
        return Period(dt.date(y, 3 * q + 1, 1), _month_end(y, 3 * q + 3), f"{y}-Q{q + 1}")
    if freq is Frequency.HALF_YEARLY:
        if m <= 6:
            return Period(dt.date(y, 1, 1), dt.date(y, 6, 30), f"{y}-H1")
        return Period(dt.date(y, 7, 1), dt.date(y, 12, 31), f"{y}-H2")
    if freq is Frequency.YEARLY:
        return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), f"{y}")
    raise ValueError(f"{freq} duties have no calendar period; their deadline is anchored to the event")


def periods_between(freq: Frequency, start: dt.date, end: dt.date, anchor: dt.date | None = None) -> list[Period]:
    """Every period of ``freq`` that overlaps [start, end], in order."""
    out: list[Period] = []
    day = start
    while day <= end:
        p = period_of(freq, day, anchor)
        out.append(p)
        day = p.end + dt.timedelta(days=1)
    return out
