"""Event-driven duties (a power fault must be reached within 90 minutes).

Their deadline is anchored to the event, not to a calendar period: each reported event becomes
one duty instance due ``response_minutes`` after it occurred, completed when the arrival is
recorded. Like every other step these are set-based statements over all events of the duty.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaign.periods import Frequency
from storage.models import Division, DutyInstance, Event
from storage.models import Duty as DutyRow
from storage.upsert import insert_ignore
from tasks.instances import DutyContext, _scope


class EventError(ValueError):
    pass


def record_event(
    session: Session, campaign_id: int, duty_key: str, unit_code: str, occurred_at: dt.datetime, details: dict[str, Any]
) -> Event:
    """Report an event (e.g. a fault at a village) for an event duty of the plan."""
    duty = session.scalar(select(DutyRow).where(DutyRow.campaign_id == campaign_id, DutyRow.key == duty_key))
    if duty is None:
        raise EventError(f"没有职责 {duty_key} (no duty '{duty_key}' in this campaign)")
    if duty.frequency != Frequency.EVENT.value:
        raise EventError(f"{duty.name} 不是事件触发的职责 (duty '{duty_key}' is {duty.frequency}, not 事件)")
    if session.get(Division, unit_code) is None:
        raise EventError(f"未知的行政区划代码 {unit_code} (unknown division code)")
    ev = Event(
        campaign_id=campaign_id,
        duty_id=duty.id,
        unit_code=unit_code,
        occurred_at=occurred_at,
        resolved_at=None,
        details=details,
    )
    session.add(ev)
    session.flush()
    return ev


def record_arrival(session: Session, event_id: int, arrived_at: dt.datetime) -> Event:
    ev = session.get(Event, event_id)
    if ev is None:
        raise EventError(f"没有编号为 {event_id} 的事件 (no event {event_id})")
    if arrived_at < ev.occurred_at:
        raise EventError(f"到场时间早于故障发生时间 (arrival {arrived_at} is before the event {ev.occurred_at})")
    ev.resolved_at = arrived_at
    session.flush()
    return ev


def materialise_events(session: Session, ctx: DutyContext) -> int:
    """One instance per event of the duty that occurred by as_of: due occurred_at + response_minutes."""
    assert ctx.duty.response_minutes is not None
    window = dt.timedelta(minutes=ctx.duty.response_minutes)
    town = Division.__table__.alias("town")
    q = (
        select(Event.id, Event.unit_code, Event.occurred_at, Division.name, Division.township_code, town.c.name)
        .join(Division, Division.code == Event.unit_code)
        .outerjoin(town, town.c.code == Division.township_code)
        .where(Event.duty_id == ctx.duty_id, Event.occurred_at <= ctx.as_of)
    )
    if ctx.township:
        q = q.where(Division.township_code == ctx.township)
    rows = []
    for eid, unit, occurred, name, township, town_name in session.execute(q).all():
        local = occurred.astimezone(ctx.tz)
        where = name if not town_name or town_name == name else f"{town_name}{name}"
        rows.append(
            {
                "campaign_id": ctx.campaign_id,
                "duty_id": ctx.duty_id,
                "unit_code": unit,
                "unit_name": where,
                "township_code": township,
                "period_key": f"event-{eid}",
                "event_id": eid,
                "period_start": local.date(),
                "period_end": local.date(),
                "due_at": occurred + window,
                "alert_after": occurred + window,
                "status": "open",
            }
        )
    return insert_ignore(session, DutyInstance.__table__, rows, ["duty_id", "unit_code", "period_key"])


def complete_from_events(session: Session, ctx: DutyContext) -> int:
    """An event instance is done when the arrival was recorded (and known by as_of): one UPDATE."""
    arrived = (
        select(Event.resolved_at)
        .where(Event.id == DutyInstance.event_id, Event.resolved_at <= ctx.as_of)
        .correlate(DutyInstance)
        .scalar_subquery()
    )
    stmt = (
        update(DutyInstance)
        .where(
            _scope(ctx), DutyInstance.event_id.is_not(None), DutyInstance.completed_at.is_(None), arrived.is_not(None)
        )
        .values(status="done", completed_at=arrived)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount  # type: ignore[attr-defined, no-any-return]
