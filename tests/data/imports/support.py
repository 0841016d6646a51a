"""Shared by the import and measures tests: the corpus paths, a duty context, row counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.workdays import WorkCalendar
from storage.catalog import current_plan
from storage.models import DutyInstance, Evidence, Flag, IndicatorReading, Submission
from tasks.instances import DutyContext, complete_from_evidence, duty_row_id, materialise
from tests.conftest import shanghai

HERE = Path(__file__).resolve().parent
GOOD, BAD = HERE / "good", HERE / "bad"
CAMPAIGN = "taonan-2018"
NOW = shanghai(2018, 4, 23, 9)  # the import time of most tests (a Monday)
WAFANG = "220881100000"
VILLAGES = {"瓦房": "220881100200", "荣华": "220881100201", "长山": "220881100202"}


def ctx_for(s: Session, duty: str, as_of: dt.datetime, township: str | None = WAFANG) -> DutyContext:
    c, plan = current_plan(s, CAMPAIGN)
    return DutyContext(plan, plan.duty(duty), duty_row_id(s, c.id, duty), c.id, as_of, township, WorkCalendar())


def done(s: Session, duty: str, as_of: dt.datetime, township: str | None = WAFANG) -> set[tuple[str, str]]:
    """Materialise and complete the duty; the (unit_code, period_key) of its done instances."""
    ctx = ctx_for(s, duty, as_of, township)
    materialise(s, ctx)
    complete_from_evidence(s, ctx)
    rows = s.execute(
        select(DutyInstance.unit_code, DutyInstance.period_key).where(
            DutyInstance.duty_id == ctx.duty_id, DutyInstance.status == "done"
        )
    ).tuples()
    return set(rows)


def counts(s: Session) -> dict[str, int]:
    """Rows of every table an import writes (compared before/after a rejected file)."""
    return {
        m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
        for m in (Submission, Evidence, IndicatorReading, Flag)
    }
