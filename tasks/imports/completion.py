"""Which evidence rows complete which duty instances.

Used by ``tasks.instances.complete_from_evidence`` inside one correlated UPDATE over all units;
the conditions here refer to ``DutyInstance`` columns and are correlated there.

- A duty with a report type is completed by an active row of that report in the instance's
  period, about the instance's unit: the village itself for a village duty; the township or any
  of its villages for a township duty (驻村记录 are kept per village; 市级领导 drive townships);
  any row for a department's or the city's own duty (组织部 files the spot checks it made).
- When the report has a closed list naming who did the work (身份: 第一书记, 驻村工作队 …) and
  the duty's performer (or, failing that, one of its responsible roles) is on that list, only
  that person's rows count: a 驻村工作队 visit does not complete the 第一书记's duty.
- A duty without a report type is completed by a ``duty_completion`` row naming it and its unit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement

from plan.schema import Duty, Plan, Scope
from storage.models import DutyInstance, Evidence
from tasks.imports.builtin import DUTY_COMPLETION

if TYPE_CHECKING:
    from tasks.instances import DutyContext


def role_filter(plan: Plan, duty: Duty) -> tuple[str, list[str]] | None:
    """(column field, roles) when the duty's report says who did the work and the duty names who."""
    if not duty.report_type:
        return None
    for col in plan.report_type(duty.report_type).columns:
        if not col.values:
            continue
        # 扶贫工作巩固回访小组 is the list's 巩固回访小组: a value contained in the performer counts.
        roles = [v for v in col.values if v == duty.performer or v in duty.performer or duty.performer in v]
        if not roles:
            roles = [v for v in col.values if v in duty.responsible]
        if roles:
            return col.field, roles
    return None


def evidence_conditions(ctx: DutyContext) -> list[ColumnElement[bool]]:
    """WHERE conditions on Evidence, correlated to DutyInstance, for rows completing ctx's duty."""
    cond: list[ColumnElement[bool]] = [
        Evidence.campaign_id == ctx.campaign_id,
        Evidence.active.is_(True),
        Evidence.occurred_on >= DutyInstance.period_start,
        Evidence.occurred_on <= DutyInstance.period_end,
        Evidence.received_at <= ctx.as_of,
    ]
    duty = ctx.duty
    if not duty.report_type:
        data: Any = Evidence.data
        return [
            *cond,
            Evidence.report_type == DUTY_COMPLETION,
            Evidence.unit_code == DutyInstance.unit_code,
            data["duty"].as_string() == duty.key,
        ]
    cond.append(Evidence.report_type == duty.report_type)
    # Both unit conditions name the township too: whichever index the planner picks (it may have
    # no statistics right after a big import) is then bounded by one township's rows.
    if duty.scope in (Scope.VILLAGE, Scope.HOUSEHOLD):
        cond += [Evidence.unit_code == DutyInstance.unit_code, Evidence.township_code == DutyInstance.township_code]
    elif duty.scope is Scope.TOWNSHIP:
        # Township rows carry their own code as township_code, village rows their township's.
        cond.append(Evidence.township_code == DutyInstance.unit_code)
    roles = role_filter(ctx.plan, duty)
    if roles is not None:
        data = Evidence.data
        cond.append(data[roles[0]].as_string().in_(roles[1]))
    return cond
