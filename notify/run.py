"""A city-wide reminder run in this process (``campaign notify``, the benchmark): every duty of
the plan brought up to ``as_of`` (instances, evidence, overdue flags), its reminders and
escalations recorded, then one delivery for everyone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from campaign.workdays import WorkCalendar
from notify.config import NotifyConfig
from notify.deliver import DeliveryReport, deliver, plan_notifications
from plan.schema import Plan
from tasks.instances import DutyContext, duty_row_id
from tasks.kinds import bring_up_to_date


@dataclass
class RunReport:
    duties: int
    queued: int
    delivery: DeliveryReport


def remind_all(
    session: Session,
    plan: Plan,
    campaign_id: int,
    as_of: dt.datetime,
    calendar: WorkCalendar,
    township: str | None = None,
    *,
    config: NotifyConfig | None = None,
    prepare: bool = True,
    send: bool = True,
) -> RunReport:
    cfg = config or NotifyConfig.from_settings()
    queued = 0
    duties = plan.duties()
    for duty in duties:
        ctx = DutyContext(
            plan, duty, duty_row_id(session, campaign_id, duty.key), campaign_id, as_of, township, calendar
        )
        if prepare:
            bring_up_to_date(session, ctx)
        queued += plan_notifications(session, ctx, drill=cfg.drill)
    session.commit()
    report = (
        deliver(session, plan, campaign_id, as_of, township, config=cfg, calendar=calendar)
        if send
        else DeliveryReport(drill=cfg.drill)
    )
    return RunReport(len(duties), queued, report)
