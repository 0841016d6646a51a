"""Event-driven duties: a power fault must be reached within 90 minutes of being reported."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from campaign.workdays import WorkCalendar
from storage.catalog import current_plan
from tasks.events import EventError, record_arrival, record_event
from tasks.instances import DutyContext, duty_row_id, flag_overdue, overdue_instances
from tasks.kinds import EVENT, PERIODIC, kind_of
from tests.conftest import shanghai

DUTY = "i23-fault-repair"
VILLAGE = "220881100201"  # a 村委会 of 瓦房镇


def ctx_at(s: Session, as_of: dt.datetime) -> DutyContext:
    c, plan = current_plan(s, "taonan-2018")
    return DutyContext(plan, plan.duty(DUTY), duty_row_id(s, c.id, DUTY), c.id, as_of, None, WorkCalendar())


def test_the_power_repair_is_an_event_duty_and_the_meeting_is_periodic(session: Session) -> None:
    _, plan = current_plan(session, "taonan-2018")
    assert kind_of(plan.duty(DUTY)) is EVENT
    assert kind_of(plan.duty("i03-party-meeting")) is PERIODIC


def test_its_deadline_is_anchored_to_the_fault_not_to_a_period(session: Session) -> None:
    ctx = ctx_at(session, shanghai(2018, 5, 1, 23, 0))  # a holiday night: faults happen any time
    record_event(session, ctx.campaign_id, DUTY, VILLAGE, shanghai(2018, 5, 1, 22, 10), {"note": "线路跳闸"})
    assert EVENT.materialise(session, ctx) == 1
    assert EVENT.materialise(session, ctx) == 0
    assert flag_overdue(session, ctx) == 0  # 22:10 + 90 min = 23:40: not yet
    later = ctx_at(session, shanghai(2018, 5, 1, 23, 41))
    flag_overdue(session, later)
    [item] = overdue_instances(session, later)
    assert dt.datetime.fromisoformat(str(item["due_at"])) == shanghai(2018, 5, 1, 23, 40)
    assert item["unit"] == "瓦房镇荣华村委会"


def test_an_arrival_within_90_minutes_completes_it(session: Session) -> None:
    ctx = ctx_at(session, shanghai(2018, 6, 4, 11, 0))
    ev = record_event(session, ctx.campaign_id, DUTY, VILLAGE, shanghai(2018, 6, 4, 10, 0), {})
    EVENT.materialise(session, ctx)
    record_arrival(session, ev.id, shanghai(2018, 6, 4, 11, 5))
    assert EVENT.complete(session, ctx) == 0  # recorded arrival is after this as_of: not yet known
    at_noon = ctx_at(session, shanghai(2018, 6, 4, 12, 0))
    assert EVENT.complete(session, at_noon) == 1
    flag_overdue(session, at_noon)
    assert overdue_instances(session, at_noon) == []


def test_an_event_for_a_periodic_duty_or_an_unknown_place_is_refused(session: Session) -> None:
    ctx = ctx_at(session, shanghai(2018, 6, 4, 11, 0))
    with pytest.raises(EventError, match="不是事件触发"):
        record_event(session, ctx.campaign_id, "i03-party-meeting", VILLAGE, shanghai(2018, 6, 4, 10), {})
    with pytest.raises(EventError, match="未知的行政区划代码"):
        record_event(session, ctx.campaign_id, DUTY, "220881999999", shanghai(2018, 6, 4, 10), {})
    ev = record_event(session, ctx.campaign_id, DUTY, VILLAGE, shanghai(2018, 6, 4, 10), {})
    with pytest.raises(EventError, match="早于"):
        record_arrival(session, ev.id, shanghai(2018, 6, 4, 9))
