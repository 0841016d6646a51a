"""Duty instances: materialise them, complete them from evidence, flag the overdue.

Every function here is a set operation over all units of a duty at once (one SQL statement or
one DataFrame), never a loop of queries per village. Time is always the ``as_of`` argument.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, not_, select, text, update
from sqlalchemy.orm import Session

from campaign.periods import Period, periods_between
from campaign.workdays import WorkCalendar
from plan.schema import Duty, Plan
from storage.models import Duty as DutyRow
from storage.models import DutyInstance, Evidence, Flag
from storage.upsert import insert_ignore
from tasks.due import due_and_alert
from tasks.imports.completion import evidence_conditions
from tasks.units import units_for


@dataclass(frozen=True)
class DutyContext:
    """What every step of one duty run needs: the duty, its row, the plan, the clock and the scope."""

    plan: Plan
    duty: Duty
    duty_id: int
    campaign_id: int
    as_of: dt.datetime
    township: str | None
    calendar: WorkCalendar

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.plan.campaign.timezone)

    @property
    def today(self) -> dt.date:
        return self.as_of.astimezone(self.tz).date()


def duty_row_id(session: Session, campaign_id: int, key: str) -> int:
    rid = session.scalar(select(DutyRow.id).where(DutyRow.campaign_id == campaign_id, DutyRow.key == key))
    if rid is None:
        raise LookupError(f"duty '{key}' is not loaded for this campaign (reload the plan)")
    return rid


def periods_to_date(ctx: DutyContext) -> list[Period]:
    """Periods of the duty that have started by as_of, inside the windows the duty runs in."""
    out: list[Period] = []
    anchor = ctx.plan.campaign_window()[0]
    for start, end in ctx.plan.duty_windows(ctx.duty):
        if start > ctx.today:
            continue
        for p in periods_between(ctx.duty.frequency, start, min(end, ctx.today), anchor):
            if p not in out:
                out.append(p)
    return out


def materialise(session: Session, ctx: DutyContext) -> int:
    """Upsert one instance per unit × period started by as_of (idempotent); returns rows inserted.

    Periodic duties only: event duties get theirs from events (tasks.kinds dispatches)."""
    units = units_for(session, ctx.plan, ctx.duty, ctx.township)
    if units.empty:
        return 0
    rows = []
    for p in periods_to_date(ctx):
        due, alert = due_and_alert(ctx.duty.due, p, ctx.calendar, ctx.tz, ctx.plan.campaign_window()[1])
        for unit_code, unit_name, township_code in units.itertuples(index=False):
            rows.append(
                {
                    "campaign_id": ctx.campaign_id,
                    "duty_id": ctx.duty_id,
                    "unit_code": unit_code,
                    "unit_name": unit_name,
                    "township_code": township_code,
                    "period_key": p.key,
                    "period_start": p.start,
                    "period_end": p.end,
                    "due_at": due,
                    "alert_after": alert,
                    "status": "open",
                }
            )
    inserted = insert_ignore(session, DutyInstance.__table__, rows, ["duty_id", "unit_code", "period_key"])
    if inserted >= 1000 and session.get_bind().dialect.name == "postgresql":
        # Fresh statistics, or the planner scans every instance in the correlated updates that follow.
        session.execute(text("ANALYZE duty_instances"))
    return inserted


def _scope(ctx: DutyContext):  # type: ignore[no-untyped-def]
    cond = [DutyInstance.duty_id == ctx.duty_id]
    if ctx.township:
        cond.append(DutyInstance.township_code == ctx.township)
    return and_(*cond)


def complete_from_evidence(session: Session, ctx: DutyContext) -> int:
    """Mark instances done whose unit has a row of the duty's report in the period (received by as_of).

    One correlated UPDATE for all units. ``completed_at`` is when the evidence arrived, so a replay
    for an earlier date still sees the instance open then.
    """
    # Which rows count (report type, unit, role; duty_completion rows for duties without a report)
    # is decided in tasks.imports.completion, next to the importer that writes them.
    cond = evidence_conditions(ctx)
    ev = (
        select(Evidence.id)
        .where(*cond)
        .order_by(Evidence.received_at, Evidence.id)
        .limit(1)
        .correlate(DutyInstance)
        .scalar_subquery()
    )
    ev_time = select(func.min(Evidence.received_at)).where(*cond).correlate(DutyInstance).scalar_subquery()
    stmt = (
        update(DutyInstance)
        .where(_scope(ctx), DutyInstance.completed_at.is_(None), exists(ev))
        .values(status="done", evidence_id=ev, completed_at=ev_time)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount  # type: ignore[attr-defined, no-any-return]


def overdue_condition(as_of: dt.datetime):  # type: ignore[no-untyped-def]
    """Open at as_of and past its alert time (an approved extension moves the alert time)."""
    alert = func.coalesce(DutyInstance.extended_to, DutyInstance.alert_after)
    return and_(
        alert <= as_of,
        (DutyInstance.completed_at.is_(None)) | (DutyInstance.completed_at > as_of),
    )


def flag_overdue(session: Session, ctx: DutyContext) -> int:
    """Raise one flag per overdue instance (exactly once: conditional insert) and record when it
    first went overdue together with the escalation chain in force then. Returns flags raised."""
    chain = [s.model_dump(mode="json") for s in ctx.plan.reminders.escalation]
    session.execute(
        update(DutyInstance)
        .where(_scope(ctx), DutyInstance.overdue_since.is_(None), overdue_condition(ctx.as_of))
        .values(
            status="overdue",
            overdue_since=func.coalesce(DutyInstance.extended_to, DutyInstance.alert_after),
            escalation_chain=chain,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(
            DutyInstance.id,
            DutyInstance.unit_code,
            DutyInstance.township_code,
            DutyInstance.period_key,
            DutyInstance.due_at,
        ).where(_scope(ctx), overdue_condition(ctx.as_of))
    ).all()
    flags = [
        {
            "campaign_id": ctx.campaign_id,
            "kind": "overdue",
            "subject": f"instance:{iid}",
            "duty_instance_id": iid,
            "unit_code": unit,
            "township_code": town,
            "raised_at": ctx.as_of,
            "resolved_at": None,
            "details": {"duty": ctx.duty.key, "name": ctx.duty.name, "period": period, "due_at": due.isoformat()},
        }
        for iid, unit, town, period, due in rows
    ]
    raised = insert_ignore(session, Flag.__table__, flags, ["campaign_id", "kind", "subject"])
    # An extension that has run out makes the item overdue again: its flag re-opens.
    session.execute(
        update(Flag)
        .where(
            Flag.kind == "overdue",
            Flag.resolved_at.is_not(None),
            Flag.duty_instance_id.in_(select(DutyInstance.id).where(_scope(ctx), overdue_condition(ctx.as_of))),
        )
        .values(resolved_at=None)
        .execution_options(synchronize_session=False)
    )
    # Late evidence, or an approved extension (延期), resolves the flag (kept for the record).
    session.execute(
        update(Flag)
        .where(
            Flag.kind == "overdue",
            Flag.resolved_at.is_(None),
            Flag.duty_instance_id.in_(select(DutyInstance.id).where(_scope(ctx), not_(overdue_condition(ctx.as_of)))),
        )
        .values(resolved_at=ctx.as_of)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(DutyInstance)
        .where(_scope(ctx), DutyInstance.status == "overdue", DutyInstance.completed_at <= ctx.as_of)
        .values(status="done")
        .execution_options(synchronize_session=False)
    )
    return raised


def overdue_instances(session: Session, ctx: DutyContext) -> list[dict[str, object]]:
    rows = session.execute(
        select(
            DutyInstance.id,
            DutyInstance.unit_name,
            DutyInstance.township_code,
            DutyInstance.period_key,
            DutyInstance.due_at,
        )
        .where(_scope(ctx), overdue_condition(ctx.as_of))
        .order_by(DutyInstance.township_code, DutyInstance.unit_code, DutyInstance.period_key)
    ).all()
    return [
        {"instance": i, "unit": u, "township_code": t, "period": p, "due_at": d.isoformat()} for i, u, t, p, d in rows
    ]
