"""Duty instances on both engines: materialised once, completed by evidence, flagged once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.workdays import WorkCalendar
from storage.catalog import current_plan, load_catalog, township_codes
from storage.models import DutyInstance, Evidence, Flag, Submission
from tasks.instances import (
    DutyContext,
    complete_from_evidence,
    duty_row_id,
    flag_overdue,
    materialise,
    overdue_instances,
)
from tests.conftest import shanghai

SPINE = Path(__file__).parent / "data" / "plans" / "spine-2018.yaml"
WAFANG = "220881100000"


@pytest.fixture
def spine(session: Session) -> Session:
    load_catalog(session, SPINE, now=shanghai(2018, 3, 1))
    return session


def ctx_at(s: Session, as_of: dt.datetime, township: str | None = None) -> DutyContext:
    c, plan = current_plan(s, "spine-2018")
    return DutyContext(
        plan,
        plan.duty("i03-party-meeting"),
        duty_row_id(s, c.id, "i03-party-meeting"),
        c.id,
        as_of,
        township,
        WorkCalendar(),
    )


def add_minutes(s: Session, town: str, day: dt.date, received: dt.datetime) -> None:
    ctx = ctx_at(s, received)
    sub = Submission(
        campaign_id=ctx.campaign_id,
        report_type="party_meeting_minutes",
        file_name="f.xlsx",
        content_hash=f"{town}{day}{received}",
        scope_key="x",
        received_at=received,
        rows=1,
    )
    s.add(sub)
    s.flush()
    s.add(
        Evidence(
            campaign_id=ctx.campaign_id,
            submission_id=sub.id,
            report_type="party_meeting_minutes",
            row_number=2,
            unit_code=town,
            township_code=town,
            occurred_on=day,
            received_at=received,
            active=True,
            data={},
        )
    )
    s.flush()


def count(s: Session, *where: object) -> int:
    return s.scalar(select(func.count()).select_from(DutyInstance).where(*where)) or 0  # type: ignore[arg-type]


def test_it_materialises_one_instance_per_township_and_half_month_once(spine: Session) -> None:
    ctx = ctx_at(spine, shanghai(2018, 4, 20, 9))
    materialise(spine, ctx)
    materialise(spine, ctx)  # idempotent
    towns = len(township_codes(spine, ctx.plan))
    # 3/20 falls in 2018-03H2; by 4/20 the periods 03H2, 04H1, 04H2 have started.
    assert count(spine) == 3 * towns
    due = spine.scalar(select(DutyInstance.due_at).where(DutyInstance.period_key == "2018-04H2").limit(1))
    assert due == shanghai(2018, 4, 28, 17, 30)  # 4/30 is a holiday: rolled back to the make-up Saturday


def test_it_flags_a_missed_meeting_once(spine: Session) -> None:
    ctx = ctx_at(spine, shanghai(2018, 3, 30, 18))
    materialise(spine, ctx)
    for town in township_codes(spine, ctx.plan):
        if town != WAFANG:
            add_minutes(spine, town, dt.date(2018, 3, 28), shanghai(2018, 3, 28, 18))
    complete_from_evidence(spine, ctx)
    assert flag_overdue(spine, ctx) == 1
    assert flag_overdue(spine, ctx) == 0  # claimed exactly once
    assert [f["unit"] for f in overdue_instances(spine, ctx)] == ["瓦房镇"]
    assert spine.scalar(select(func.count()).select_from(Flag)) == 1


def test_it_does_not_flag_before_the_due_time(spine: Session) -> None:
    ctx = ctx_at(spine, shanghai(2018, 3, 30, 17, 29))
    materialise(spine, ctx)
    assert flag_overdue(spine, ctx) == 0


def test_late_minutes_resolve_the_flag_but_a_replay_still_sees_it_overdue(spine: Session) -> None:
    ctx = ctx_at(spine, shanghai(2018, 4, 2, 9), township=WAFANG)
    materialise(spine, ctx)
    flag_overdue(spine, ctx)
    add_minutes(spine, WAFANG, dt.date(2018, 3, 29), shanghai(2018, 4, 3, 10))
    later = ctx_at(spine, shanghai(2018, 4, 3, 12), township=WAFANG)
    assert complete_from_evidence(spine, later) == 1
    flag_overdue(spine, later)
    assert overdue_instances(spine, later) == []
    assert spine.scalar(select(Flag.resolved_at)) == shanghai(2018, 4, 3, 12)
    # A replay of 4/2 knows the minutes had not arrived yet.
    assert [f["period"] for f in overdue_instances(spine, ctx)] == ["2018-03H2"]


def test_minutes_dated_outside_the_period_do_not_complete_it(spine: Session) -> None:
    ctx = ctx_at(spine, shanghai(2018, 4, 2, 9), township=WAFANG)
    materialise(spine, ctx)
    add_minutes(spine, WAFANG, dt.date(2018, 4, 2), shanghai(2018, 4, 2, 8))
    assert complete_from_evidence(spine, ctx) == 1  # it completes 04H1 …
    done = spine.scalars(select(DutyInstance.period_key).where(DutyInstance.completed_at.is_not(None))).all()
    assert done == ["2018-04H1"]  # … and not 03H2, whose minutes are still missing


def test_a_township_run_touches_only_its_rows(spine: Session) -> None:
    ctx = ctx_at(spine, shanghai(2018, 4, 2, 9), township=WAFANG)
    materialise(spine, ctx)
    flag_overdue(spine, ctx)
    assert set(spine.scalars(select(DutyInstance.township_code).distinct())) == {WAFANG}
    assert set(spine.scalars(select(Flag.township_code).distinct())) == {WAFANG}


def test_an_approved_extension_resolves_the_overdue_flag(spine: Session) -> None:
    ctx = ctx_at(spine, shanghai(2018, 4, 2, 9), township=WAFANG)
    materialise(spine, ctx)
    flag_overdue(spine, ctx)
    inst = spine.scalars(select(DutyInstance).where(DutyInstance.period_key == "2018-03H2")).one()
    inst.extended_to = shanghai(2018, 4, 4, 17, 30)  # 延期 to 4/4 (what `campaign extend` records)
    spine.flush()
    later = ctx_at(spine, shanghai(2018, 4, 3, 9), township=WAFANG)
    flag_overdue(spine, later)
    assert overdue_instances(spine, later) == []
    assert spine.scalar(select(Flag.resolved_at)) == shanghai(2018, 4, 3, 9)
    # The extension runs out on 4/4 17:30 with nothing sent: the flag re-opens.
    after = ctx_at(spine, shanghai(2018, 4, 8, 9), township=WAFANG)
    flag_overdue(spine, after)
    assert [f["period"] for f in overdue_instances(spine, after)] == ["2018-03H2"]
    assert spine.scalar(select(Flag.resolved_at).where(Flag.duty_instance_id == inst.id)) is None
