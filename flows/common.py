"""What every flow needs: the campaign's plan and the township parameter, resolved once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campaign.settings import get_settings
from campaign.workdays import WorkCalendar, default_calendar
from plan.schema import Plan
from storage.catalog import current_plan
from storage.db import session_scope
from tasks.units import resolve_township


@dataclass(frozen=True)
class RunScope:
    campaign: str
    campaign_id: int
    plan: Plan
    township: str | None  # division code, or None for the whole city
    calendar: WorkCalendar


def run_scope(campaign: str | None, township: str | None) -> RunScope:
    code = campaign or get_settings().CAMPAIGN
    with session_scope() as s:
        c, plan = current_plan(s, code)
        town = resolve_township(s, plan, township)
    cal = default_calendar()
    year = plan.campaign.year
    if not cal.knows(year):
        # Fail before doing anything: a weekends-only guess would move every deadline.
        cal.is_workday(dt.date(year, 1, 1))
    return RunScope(code, c.id, plan, town, cal)
