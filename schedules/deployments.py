"""The deployments of a plan: one per phase flow, one per duty, and the inbox.

* Each phase flow runs daily at the run time (09:00) inside its window and runs, as subflows,
  exactly the duties with work that day (``schedules.workdates``).
* Each duty has its own deployment of the generic duty flow (parameter ``duty``) so an admin can
  run one duty by hand. Its schedule shows the duty's due dates in the UI but is INACTIVE: every
  occurrence is already fired by its phase flow, so it runs once.
* The inbox flow imports reported files every 10 minutes.

``deployment_specs`` is the single description; ``runner_deployments`` turns it into objects for
``prefect.serve`` (the embedded default) and ``render_prefect_yaml`` into prefect.yaml for
``prefect deploy`` with a process work pool (the scale-out path). Both carry the same names,
schedules (active flag included) and parameters.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import yaml

from campaign.periods import Frequency
from campaign.workdays import WorkCalendar, default_calendar
from plan.schema import Duty, Phase, Plan
from schedules.rrules import (
    EVENT_CHECK_MINUTES,
    duty_dates,
    duty_rrule,
    event_rrule,
    phase_rrule,
    run_time,
    unreached_due_dates,
)

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

log = logging.getLogger(__name__)

WORK_POOL = "campaign-pool"
PHASE_ENTRYPOINT = "flows/phases.py:phase_{number}"
DUTY_ENTRYPOINT = "flows/duty.py:duty_flow"
INBOX_ENTRYPOINT = "flows/inbox.py:inbox_flow"
DUTY_FLOW_NAME = "重点工作职责"  # flows/duty.py: @flow(name=...)
INBOX_FLOW_NAME = "收取上报材料"  # flows/inbox.py: @flow(name=...)
INBOX_MINUTES = 10
# The project directory a process worker runs the flows from: prefect deploy is run from the
# project root, whose path ($PWD) becomes the pull step; set PWD to override.
PULL_DIRECTORY = "{{ $PWD }}"

FREQ_TAGS = {
    Frequency.DAILY: "daily",
    Frequency.WEEKLY: "weekly",
    Frequency.BIWEEKLY: "biweekly",
    Frequency.HALF_MONTHLY: "half-monthly",
    Frequency.MONTHLY: "monthly",
    Frequency.QUARTERLY: "quarterly",
    Frequency.HALF_YEARLY: "half-yearly",
    Frequency.YEARLY: "yearly",
    Frequency.EVENT: "event",
}


def phase_flow_name(number: int, name: str) -> str:
    """The flow name of a phase flow: 第1阶段·百日会战 (flows/phases.py uses this)."""
    return f"第{number}阶段·{name}"


@dataclass(frozen=True)
class ScheduleSpec:
    rrule: str | None
    timezone: str
    active: bool
    slug: str
    interval_seconds: int | None = None  # instead of rrule: every n seconds from anchor_date
    anchor_date: dt.datetime | None = None

    def as_yaml(self) -> dict[str, Any]:
        base: dict[str, Any] = (
            {"rrule": _Literal(self.rrule)}
            if self.rrule is not None
            else {
                "interval": self.interval_seconds,
                "anchor_date": self.anchor_date.isoformat() if self.anchor_date else None,
            }
        )
        return {**base, "timezone": self.timezone, "active": self.active, "slug": self.slug}

    def as_prefect(self) -> Any:
        from prefect.schedules import Schedule

        if self.rrule is not None:
            return Schedule(rrule=self.rrule, timezone=self.timezone, active=self.active, slug=self.slug)
        assert self.interval_seconds and self.anchor_date
        return Schedule(
            interval=dt.timedelta(seconds=self.interval_seconds),
            anchor_date=self.anchor_date,
            timezone=self.timezone,
            active=self.active,
            slug=self.slug,
        )


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    flow_name: str | None  # as in the flow's @flow(name=…); the entrypoint is what deploys use
    entrypoint: str
    description: str
    parameters: dict[str, Any]
    schedules: tuple[ScheduleSpec, ...]
    tags: tuple[str, ...]
    concurrency_limit: int
    collision_strategy: str  # ENQUEUE | CANCEL_NEW
    kind: str = field(default="duty")  # phase | duty | inbox

    @property
    def full_name(self) -> str:
        """What ``prefect deployment run`` takes: '<flow name>/<deployment name>'."""
        return f"{self.flow_name}/{self.name}" if self.flow_name else self.name


def _date_cn(d: Any) -> str:
    return f"{d.month}月{d.day}日"


def _phase_spec(plan: Plan, phase: Phase) -> DeploymentSpec:
    code, tz = plan.campaign.code, plan.campaign.timezone
    start, end = plan.phase_dates(phase)
    at = run_time(plan)
    desc = (
        f"{plan.campaign.name}·第{phase.number}阶段「{phase.name}」（{start.year}年{_date_cn(start)}至{_date_cn(end)}）。"
        f"每日 {at:%H:%M} 运行当日有工作的各项职责（子流程），然后发送提醒、发布挂图作战看板。"
        f"补跑某乡镇：prefect deployment run '{phase_flow_name(phase.number, phase.name)}/{code}' "
        f"--param township=乡镇名 --param as_of=YYYY-MM-DD。\n\n{phase.summary}"
    )
    return DeploymentSpec(
        name=code,
        flow_name=phase_flow_name(phase.number, phase.name),
        entrypoint=PHASE_ENTRYPOINT.format(number=phase.number),
        description=desc,
        parameters={"campaign": code},
        schedules=(ScheduleSpec(phase_rrule(plan, phase), tz, True, f"{phase.key}-daily"),),
        tags=(f"campaign:{code}", "kind:phase", f"phase:{phase.key}"),
        # The daily run and a township re-run may overlap; run_locks keep their rows apart.
        concurrency_limit=2,
        collision_strategy="ENQUEUE",
        kind="phase",
    )


def _duty_spec(plan: Plan, duty: Duty, cal: WorkCalendar, unreached: list[Any]) -> DeploymentSpec:
    code, tz = plan.campaign.code, plan.campaign.timezone
    item = plan.item_of(duty.key)
    phases = "、".join(plan.phase(k).name for k in duty.phases) if duty.phases else "全年各阶段"
    rule = duty_rrule(plan, duty, cal)
    if duty.frequency is Frequency.EVENT:
        when = f"事件触发，{duty.response_minutes} 分钟内须完成，本部署每 {EVENT_CHECK_MINUTES} 分钟检查一次"
    else:
        n = len(duty_dates(plan, duty, cal))
        when = f"{duty.wording or duty.frequency.value}，活动期内到期 {n} 次" if rule else f"{duty.frequency.value}"
    desc = (
        f"{duty.name}（第{item.number}项「{item.title}」；{duty.performer}；{when}；{phases}）。"
        f"{duty.text}\n\n"
        + (
            "本部署的日程已启用：事件职责不由阶段流程运行，只由本日程检查，不会重复运行。"
            if duty.frequency is Frequency.EVENT
            else "日程显示本职责的到期日，但未启用：到期当日由所在阶段的流程作为子流程运行，不会重复运行。"
        )
        + "需要时可手动运行本部署（参数 as_of、township）。"
    )
    if unreached:
        desc += "到期日 " + "、".join(d.isoformat() for d in unreached) + " 在活动期之外，阶段流程不会运行。"
    if duty.frequency is Frequency.EVENT:
        # The one kind of duty its own deployment fires (the phase flows leave it out), so active.
        schedules: tuple[ScheduleSpec, ...] = (
            ScheduleSpec(event_rrule(plan, duty), tz, True, f"{duty.key}-every-{EVENT_CHECK_MINUTES}-minutes"),
        )
    else:
        schedules = (ScheduleSpec(rule, tz, False, f"{duty.key}-due"),) if rule else ()
    return DeploymentSpec(
        name=duty.key,
        flow_name=DUTY_FLOW_NAME,
        entrypoint=DUTY_ENTRYPOINT,
        description=desc,
        parameters={"duty": duty.key, "campaign": code},
        schedules=schedules,
        tags=(f"campaign:{code}", "kind:duty", f"item:{item.number}", f"freq:{FREQ_TAGS[duty.frequency]}"),
        concurrency_limit=1,
        collision_strategy="ENQUEUE",
        kind="duty",
    )


def _inbox_spec(plan: Plan) -> DeploymentSpec:
    code, tz = plan.campaign.code, plan.campaign.timezone
    return DeploymentSpec(
        name=code,
        flow_name=INBOX_FLOW_NAME,
        entrypoint=INBOX_ENTRYPOINT,
        description=(
            f"{plan.campaign.name}：每 {INBOX_MINUTES} 分钟检查收件箱，导入各乡镇、各部门上报的材料"
            "（会议纪要、统计表等），作为完成职责的依据。"
        ),
        parameters={"campaign": code},
        # An interval, not bounded to the campaign: late reports are still imported after 12-31.
        schedules=(
            ScheduleSpec(
                None,
                tz,
                True,
                "inbox-every-10-minutes",
                interval_seconds=INBOX_MINUTES * 60,
                anchor_date=dt.datetime.combine(plan.campaign_window()[0], dt.time(0, 0), tzinfo=ZoneInfo(tz)),
            ),
        ),
        tags=(f"campaign:{code}", "kind:inbox"),
        concurrency_limit=1,
        collision_strategy="CANCEL_NEW",  # a scan still running makes the next one redundant
        kind="inbox",
    )


def deployment_specs(plan: Plan, cal: WorkCalendar | None = None) -> list[DeploymentSpec]:
    """Every deployment of the plan: the phase flows, then each duty in catalog order, then the inbox.

    Raises ``campaign.workdays.UnknownCalendarYear`` for a campaign year no calendar knows."""
    cal = cal or default_calendar()
    unreached = unreached_due_dates(plan, cal)
    specs = [_phase_spec(plan, p) for p in sorted(plan.phases, key=lambda p: p.number)]
    specs += [_duty_spec(plan, d, cal, unreached.get(d.key, [])) for d in plan.duties()]
    specs.append(_inbox_spec(plan))
    return specs


# --- prefect serve ---------------------------------------------------------------------------


def _flow_for(spec: DeploymentSpec) -> Any:
    import importlib

    module, _, attr = spec.entrypoint.partition(":")
    return getattr(importlib.import_module(module.removesuffix(".py").replace("/", ".")), attr)


def runner_deployments(plan: Plan, cal: WorkCalendar | None = None) -> list[RunnerDeployment]:
    """The deployments as objects for ``prefect.serve(*deployments)``, inactive schedules included."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    out = []
    for spec in deployment_specs(plan, cal):
        try:
            flow = _flow_for(spec)
        except ModuleNotFoundError as exc:
            if spec.kind != "inbox" or exc.name != "flows.inbox":
                raise
            log.warning("flows/inbox.py is missing: the inbox deployment is not served")
            continue
        out.append(
            flow.to_deployment(
                name=spec.name,
                description=spec.description,
                parameters=dict(spec.parameters),
                schedules=[s.as_prefect() for s in spec.schedules],
                tags=list(spec.tags),
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=spec.concurrency_limit,
                    collision_strategy=ConcurrencyLimitStrategy(spec.collision_strategy),
                ),
            )
        )
    return out


# --- prefect.yaml ----------------------------------------------------------------------------

HEADER = """\
# Generated from the plan catalog by `campaign schedules write` — do not edit by hand.
# `campaign schedules check` fails when this file and the catalog disagree.
#
# Scale-out path: a Prefect server, a process work pool and workers started from this directory:
#   prefect work-pool create campaign-pool --type process
#   prefect deploy --all                  # run from the project root ($PWD becomes the pull step)
#   prefect deploy --name phase_1/taonan-2018      # one: <entrypoint function>/<deployment name>
#   prefect worker start --pool campaign-pool
# Runs are started by flow name: prefect deployment run '第1阶段·百日会战/taonan-2018' --param township=瓦房镇
# Duty deployments carry their due dates as INACTIVE schedules: their phase flow runs them.
"""


class _Literal(str):
    pass


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal)


def prefect_yaml_document(plan: Plan, cal: WorkCalendar | None = None) -> dict[str, Any]:
    import prefect

    deployments = []
    for spec in deployment_specs(plan, cal):
        deployments.append(
            {
                "name": spec.name,
                "entrypoint": spec.entrypoint,
                "description": _Literal(spec.description),
                "tags": list(spec.tags),
                "parameters": dict(spec.parameters),
                "schedules": [s.as_yaml() for s in spec.schedules],
                "concurrency_limit": {"limit": spec.concurrency_limit, "collision_strategy": spec.collision_strategy},
                "work_pool": {"name": WORK_POOL, "work_queue_name": None, "job_variables": {}},
            }
        )
    return {
        "name": "campaign-orchestrator",
        "prefect-version": prefect.__version__,
        "build": None,
        "push": None,
        "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": PULL_DIRECTORY}}],
        "deployments": deployments,
    }


def render_prefect_yaml(plan: Plan, cal: WorkCalendar | None = None) -> str:
    body = yaml.dump(
        prefect_yaml_document(plan, cal),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
        default_flow_style=False,
    )
    return HEADER + body
