"""The duty flow: one run evaluates one recurring duty of the catalog for all its units.

materialise instances → gather evidence → flag the overdue → queue reminders → (send).
Each step is one set-based statement over every unit (no task per village).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.runtime import flow_run

from campaign.clock import AsOf, resolve_as_of
from flows.common import RunScope, run_scope
from notify.deliver import DeliveryReport, deliver, plan_notifications
from storage.db import session_scope
from tasks.instances import (
    DutyContext,
    duty_row_id,
    flag_overdue,
    overdue_instances,
)
from tasks.kinds import kind_of
from tasks.measures import evaluate_targets


def _ctx(scope: RunScope, duty_key: str, as_of: dt.datetime) -> DutyContext:
    with session_scope() as s:
        duty_id = duty_row_id(s, scope.campaign_id, duty_key)
    return DutyContext(
        scope.plan, scope.plan.duty(duty_key), duty_id, scope.campaign_id, as_of, scope.township, scope.calendar
    )


@task(name="生成职责实例", retries=2, retry_delay_seconds=[2, 10], cache_policy=NONE)
def materialise_instances(ctx: DutyContext) -> int:
    with session_scope() as s:
        return kind_of(ctx.duty).materialise(s, ctx)


@task(name="收集上报材料", retries=2, retry_delay_seconds=[2, 10], cache_policy=NONE)
def gather_evidence(ctx: DutyContext) -> int:
    with session_scope() as s:
        return kind_of(ctx.duty).complete(s, ctx)


@task(name="核对量化指标", retries=2, retry_delay_seconds=[2, 10], cache_policy=NONE)
def check_targets(ctx: DutyContext) -> int:
    with session_scope() as s:
        return evaluate_targets(s, ctx)


@task(name="标记逾期", retries=2, retry_delay_seconds=[2, 10], cache_policy=NONE)
def flag_overdue_instances(ctx: DutyContext) -> list[dict[str, Any]]:
    with session_scope() as s:
        flag_overdue(s, ctx)
        return overdue_instances(s, ctx)


@task(name="生成提醒", retries=2, retry_delay_seconds=[2, 10], cache_policy=NONE)
def queue_reminders(ctx: DutyContext) -> int:
    with session_scope() as s:
        return plan_notifications(s, ctx)


@task(name="发送提醒", cache_policy=NONE)
def send_reminders(scope: RunScope, as_of: dt.datetime) -> DeliveryReport:
    # No automatic retry here: a failed channel is retried by the ledger's back-off on later runs.
    with session_scope() as s:
        return deliver(s, scope.plan, scope.campaign_id, as_of, scope.township)


def _duty_run_name() -> str:
    params = flow_run.parameters or {}
    key = str(params.get("duty", "duty"))
    town = params.get("township")
    as_of = params.get("as_of")
    return f"{key}{'·' + str(town) if town else ''}{'@' + str(as_of)[:10] if as_of else ''}"


@flow(name="重点工作职责", flow_run_name=_duty_run_name, log_prints=False)
def duty_flow(
    duty: str,
    as_of: AsOf = None,
    township: str | None = None,
    campaign: str | None = None,
    send: bool = True,
) -> dict[str, Any]:
    """Run one duty of the plan: instances, evidence, overdue flags, reminders."""
    when = resolve_as_of(as_of)
    scope = run_scope(campaign, township)
    return run_duty(scope, duty, when, send)


def run_duty(scope: RunScope, duty: str, when: dt.datetime, send: bool) -> dict[str, Any]:
    log = get_run_logger()
    ctx = _ctx(scope, duty, when)
    created = materialise_instances(ctx)
    completed = gather_evidence(ctx)
    below = check_targets(ctx)
    flagged = flag_overdue_instances(ctx)
    queued = queue_reminders(ctx)
    result: dict[str, Any] = {
        "duty": duty,
        "name": ctx.duty.name,
        "as_of": when.isoformat(),
        "created": created,
        "completed": completed,
        "below_target": below,
        "overdue": len(flagged),
        "queued": queued,
        "flagged": flagged,
    }
    if send:
        result["delivery"] = send_reminders(scope, when).__dict__
    log.info("%s：新增实例 %s，完成 %s，逾期 %s，待发提醒 %s", ctx.duty.name, created, completed, len(flagged), queued)
    if flagged:
        create_table_artifact(
            key=f"duty-{duty}".replace("_", "-").replace(".", "-").lower(),
            table=[{"单位": f["unit"], "周期": f["period"], "应完成时间": f["due_at"][:16]} for f in flagged],
            description=f"{ctx.duty.name}：截至 {when:%Y-%m-%d %H:%M} 逾期未完成 {len(flagged)} 项",
        )
    return result
