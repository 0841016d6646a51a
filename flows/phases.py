"""Phase flows: one Prefect flow per phase of the plan (百日会战, 考核评估, 百日整改, 迎检验收).

Each run works out which duties have work on ``as_of`` (from the catalog's own schedules), runs
exactly those as subflows, sends one digest per person, and publishes the 挂图作战 board. The
flows are built from the catalog, so their names are the plan's names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import Flow, flow, get_run_logger

from campaign.clock import TZ, AsOf, resolve_as_of
from campaign.settings import get_settings
from flows.board import publish_board
from flows.common import run_lock, run_scope
from flows.duty import duty_flow, send_reminders
from plan.load import load_plan_file
from schedules.deployments import phase_flow_name
from schedules.workdates import duties_with_work


def run_phase(
    phase: int,
    as_of: dt.datetime | dt.date | str | None = None,
    township: str | None = None,
    campaign: str | None = None,
    lock_wait_seconds: float | None = None,
) -> dict[str, Any]:
    """Run one phase for ``as_of``: the duties with work that day, reminders, the board.

    Holds the run lock of its scope (the township, or the city and every township) throughout,
    so a re-run of the same township waits for the run in progress (or, after
    ``lock_wait_seconds``, fails with a message saying who holds it)."""
    log = get_run_logger()
    when = resolve_as_of(as_of)
    scope = run_scope(campaign, township)
    ph = scope.plan.phase(phase)
    start, end = scope.plan.phase_dates(ph)
    day = when.date()
    where = f"（仅 {scope.township_name or scope.township}）" if scope.township else ""
    if not (start <= day <= end):
        log.warning("%s 的时间窗口为 %s 至 %s，%s 不在其中：不运行任何职责", ph.name, start, end, day)
    duties = duties_with_work(scope.plan, day, scope.calendar, ph.key) if start <= day <= end else []
    with run_lock(scope, f"{ph.name}{where}@{day}", lock_wait_seconds, log) as lock:
        log.info("%s %s：今日有工作的职责 %d 项%s", ph.name, day, len(duties), where)
        results = []
        for d in duties:
            results.append(
                duty_flow(duty=d.key, as_of=when, township=scope.township, campaign=scope.campaign, send=False)
            )
            lock.renew()
        delivery = send_reminders(scope, when)
        board = publish_board(scope, when, ph.name)
    return {
        "phase": ph.name,
        "as_of": when.isoformat(),
        "township": scope.township,
        "duties": [r["duty"] for r in results],
        "delivery": delivery.__dict__,
        "board_rows": len(board),
    }


def _make_phase_flow(number: int, name: str) -> Flow[..., dict[str, Any]]:
    def phase_run(as_of: AsOf = None, township: str | None = None, campaign: str | None = None) -> dict[str, Any]:
        return run_phase(number, as_of, township, campaign)

    phase_run.__name__ = f"phase_{number}"
    phase_run.__qualname__ = f"phase_{number}"
    phase_run.__doc__ = f"第{number}阶段 {name}: 运行本阶段当日到期或仍未完成的各项职责。"

    def run_name() -> str:
        from prefect.runtime import flow_run

        params = flow_run.parameters or {}
        town = params.get("township")
        as_of = params.get("as_of")
        if not as_of and flow_run.scheduled_start_time:
            as_of = flow_run.scheduled_start_time.astimezone(TZ)
        return f"{name}{'·' + str(town) if town else ''}@{str(as_of)[:10]}"

    return flow(name=phase_flow_name(number, name), flow_run_name=run_name)(phase_run)


def _phases_of_default_catalog() -> list[tuple[int, str]]:
    plan, _ = load_plan_file(get_settings().CATALOG)
    return [(p.number, p.name) for p in sorted(plan.phases, key=lambda p: p.number)]


# The deployments' entrypoints are flows/phases.py:phase_1 … phase_N, named from the catalog.
for _number, _name in _phases_of_default_catalog():
    globals()[f"phase_{_number}"] = _make_phase_flow(_number, _name)
