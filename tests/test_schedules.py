"""Schedules and deployments generated from the catalog, and the work dates the phase flows use.

No Prefect server is needed: rule sets are expanded with Prefect's own ``RRuleSchedule.to_rrule``
(what the server's scheduler does), and runner deployments are built without registering them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from campaign.periods import Frequency
from campaign.workdays import UnknownCalendarYear, WorkCalendar
from plan.load import load_plan_file
from plan.schema import DueRule, Duty, Plan
from schedules.deployments import (
    DUTY_FLOW_NAME,
    WORK_POOL,
    deployment_specs,
    phase_flow_name,
    render_prefect_yaml,
)
from schedules.rrules import duty_dates, duty_rrule, occurrences, phase_rrule, unreached_due_dates
from schedules.workdates import duties_with_work, work_dates
from tests.conftest import CATALOG, ROOT, TZ

CAL = WorkCalendar()


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan_file(CATALOG)[0]


def rebased(plan: Plan, year: int) -> Plan:
    return plan.model_copy(update={"campaign": plan.campaign.model_copy(update={"year": year})})


def days(plan: Plan, key: str, cal: WorkCalendar = CAL) -> list[str]:
    """The duty's schedule occurrences as the Prefect server expands them, MM-DD."""
    rule = duty_rrule(plan, plan.duty(key), cal)
    assert rule is not None
    occ = occurrences(rule, plan.campaign.timezone)
    assert all((o.hour, o.minute, o.utcoffset()) == (9, 0, dt.timedelta(hours=8)) for o in occ)
    assert {o.year for o in occ} == {plan.campaign.year}
    return [f"{o:%m-%d}" for o in occ]


def expect_duty(plan: Plan, key: str, freq: Frequency, **due: Any) -> None:
    d = plan.duty(key)
    assert d.frequency is freq, f"catalog changed: {key} is {d.frequency}, this snapshot is for {freq}"
    for k, v in due.items():
        assert getattr(d.due, k) == v, f"catalog changed: {key}.due.{k} is {getattr(d.due, k)!r}, not {v!r}"


# --- prefect.yaml ----------------------------------------------------------------------------


def test_prefect_yaml_is_what_the_catalog_generates(plan: Plan) -> None:
    text = render_prefect_yaml(plan, CAL)
    on_disk = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    assert on_disk == text, "prefect.yaml is stale: run `campaign schedules write`"

    doc = yaml.safe_load(on_disk)
    specs = deployment_specs(plan, CAL)
    assert len(doc["deployments"]) == len(specs) == len(plan.phases) + len(plan.duties()) + 1
    for d, spec in zip(doc["deployments"], specs, strict=True):
        assert (d["name"], d["entrypoint"], d["parameters"]) == (spec.name, spec.entrypoint, spec.parameters)
        assert d["work_pool"]["name"] == WORK_POOL
        assert [s.get("rrule") for s in d["schedules"]] == [s.rrule for s in spec.schedules]
        assert [(s["timezone"], s["active"]) for s in d["schedules"]] == [
            (s.timezone, s.active) for s in spec.schedules
        ]
    assert doc["pull"] == [{"prefect.deployments.steps.set_working_directory": {"directory": "{{ $PWD }}"}}]


def test_every_deployment_of_the_plan(plan: Plan) -> None:
    specs = deployment_specs(plan, CAL)
    phases = [s for s in specs if s.kind == "phase"]
    duties = [s for s in specs if s.kind == "duty"]
    (inbox,) = [s for s in specs if s.kind == "inbox"]
    assert [s.entrypoint for s in phases] == [f"flows/phases.py:phase_{p.number}" for p in plan.phases]
    assert phases[0].full_name == "第1阶段·百日会战/taonan-2018"
    assert [s.name for s in duties] == [d.key for d in plan.duties()]
    assert all(s.entrypoint == "flows/duty.py:duty_flow" and s.flow_name == DUTY_FLOW_NAME for s in duties)
    assert all(s.parameters == {"duty": s.name, "campaign": "taonan-2018"} for s in duties)
    # Phase flows fire the calendar duties, whose own schedules are shown but inactive; the one
    # event duty (the 90-minute repair) is fired only by its own schedule, every 10 minutes.
    assert all(sch.active for s in phases for sch in s.schedules)
    active = [s.name for s in duties for sch in s.schedules if sch.active]
    assert active == ["i23-fault-repair"]
    assert inbox.entrypoint == "flows/inbox.py:inbox_flow" and inbox.parameters == {"campaign": "taonan-2018"}
    assert [(sch.interval_seconds, sch.active) for sch in inbox.schedules] == [(600, True)]
    assert all("乡镇" in s.description or "职责" in s.description for s in phases)


def test_phase_schedules_run_daily_at_nine_inside_their_windows(plan: Plan) -> None:
    assert phase_rrule(plan, plan.phase(1)) == (
        "DTSTART:20180320T090000+08:00\nRRULE:FREQ=DAILY;UNTIL=20180630T155959Z"
    )
    for p in plan.phases:
        occ = occurrences(phase_rrule(plan, p), "Asia/Shanghai")
        start, end = plan.phase_dates(p)
        assert (occ[0], occ[-1]) == (
            dt.datetime.combine(start, dt.time(9), TZ),
            dt.datetime.combine(end, dt.time(9), TZ),
        )
        assert len(occ) == (end - start).days + 1


def test_every_duty_schedule_expands_to_its_due_dates(plan: Plan) -> None:
    for d in plan.duties():
        rule = duty_rrule(plan, d, CAL)
        want = duty_dates(plan, d, CAL)
        if rule is None:
            assert want == [] and d.key in unreached_due_dates(plan, CAL)
            continue
        got = [o.date() for o in occurrences(rule, plan.campaign.timezone)]
        assert got == want, d.key
        assert rule.startswith("DTSTART:") and "+08:00" in rule.splitlines()[0]


# --- snapshots: 2018 ---------------------------------------------------------------------------


def test_half_monthly_rolls_back_to_the_make_up_saturday(plan: Plan) -> None:
    # 4/29–5/1 are the 劳动节 holiday and 4/28 (a Saturday) a make-up workday: the meeting of
    # 4/16–4/30 is due 4/28. 9/30 is a make-up Sunday; 12/30–12/31 holidays, 12/29 a make-up Saturday.
    expect_duty(
        plan, "i03-party-meeting", Frequency.HALF_MONTHLY, anchor="period_end", roll="preceding", offset_workdays=0
    )
    assert days(plan, "i03-party-meeting") == [
        "03-30",
        "04-13",
        "04-28",
        "05-15",
        "05-31",
        "06-15",
        "06-29",
        "07-13",
        "07-31",
        "08-15",
        "08-31",
        "09-14",
        "09-30",
        "10-15",
        "10-31",
        "11-15",
        "11-30",
        "12-14",
        "12-29",
    ]
    rule = duty_rrule(plan, plan.duty("i03-party-meeting"), CAL)
    assert rule is not None
    assert "RRULE:FREQ=MONTHLY;BYMONTHDAY=15,-1;UNTIL=20181229T155959Z" in rule
    assert "20180428T090000+08:00" in rule.split("RDATE:")[1].split("\n")[0]
    assert "20180430T090000+08:00" in rule.split("EXDATE:")[1]


def test_weekly_due_on_monday_moves_around_the_holidays(plan: Plan) -> None:
    expect_duty(plan, "i01-work-team-days", Frequency.WEEKLY, anchor="period_end", roll="following", offset_workdays=0)
    got = days(plan, "i01-work-team-days")
    assert got == [
        "03-26",
        "04-02",
        "04-08",
        "04-16",
        "04-23",
        "05-02",
        "05-07",
        "05-14",
        "05-21",
        "05-28",
        "06-04",
        "06-11",
        "06-19",
        "06-25",
        "07-02",
        "07-09",
        "07-16",
        "07-23",
        "07-30",
        "08-06",
        "08-13",
        "08-20",
        "08-27",
        "09-03",
        "09-10",
        "09-17",
        "09-25",
        "09-30",
        "10-08",
        "10-15",
        "10-22",
        "10-29",
        "11-05",
        "11-12",
        "11-19",
        "11-26",
        "12-03",
        "12-10",
        "12-17",
        "12-24",
        "12-29",
    ]  # the last week's Monday 2019-01-07 is past the campaign: brought back to its last working day
    rule = duty_rrule(plan, plan.duty("i01-work-team-days"), CAL)
    assert rule is not None and "RRULE:FREQ=WEEKLY;BYDAY=MO;" in rule


def test_quarterly(plan: Plan) -> None:
    # 3/31 and 6/30 are Saturdays (→ Monday); 9/30 is a make-up Sunday; 12/31 would roll into 2019,
    # past the campaign's end, so it comes back to the last working day, the make-up Saturday 12/29.
    expect_duty(plan, "i01-township-cadre-visits", Frequency.QUARTERLY, anchor="period_end", roll="following")
    assert days(plan, "i01-township-cadre-visits") == ["04-02", "07-02", "09-30", "12-29"]
    assert unreached_due_dates(plan, CAL) == {}


def test_monthly_around_national_day(plan: Plan) -> None:
    expect_duty(plan, "i02-city-leader-log-review", Frequency.MONTHLY, anchor="period_end", roll="following")
    assert days(plan, "i02-city-leader-log-review") == [
        "04-02",
        "05-02",
        "05-31",
        "07-02",
        "07-31",
        "08-31",
        "09-30",
        "10-31",
        "11-30",
        "12-29",
    ]
    # A month's report due on its first working day: 10/1–10/7 are holidays, so October's is due 10/8.
    first_day = plan.duty("i02-city-leader-log-review").model_copy(
        update={"key": "x-monthly-start", "due": DueRule(anchor="period_start", roll="following")}
    )
    got = duty_dates(plan, first_day, CAL)
    assert [f"{d:%m-%d}" for d in got] == [
        "04-02",
        "05-02",
        "06-01",
        "07-02",
        "08-01",
        "09-03",
        "10-08",
        "11-01",
        "12-03",
    ]
    # Two working days after the half month: 9/30 (make-up Sunday) + 2 working days = 10/9.
    expect_duty(plan, "i03-minutes-digest", Frequency.HALF_MONTHLY, offset_workdays=2)
    assert "10-09" in days(plan, "i03-minutes-digest")


# --- re-basing --------------------------------------------------------------------------------


def test_a_campaign_in_2019_gets_the_2019_dates(plan: Plan) -> None:
    p19 = rebased(plan, 2019)
    # 2019: 5/1–5/4 holiday, 9/13 中秋, 10/1–10/7 国庆; weekends roll back to Friday.
    assert days(p19, "i03-party-meeting") == [
        "03-29",
        "04-15",
        "04-30",
        "05-15",
        "05-31",
        "06-14",
        "06-28",
        "07-15",
        "07-31",
        "08-15",
        "08-30",
        "09-12",
        "09-30",
        "10-15",
        "10-31",
        "11-15",
        "11-29",
        "12-13",
        "12-31",
    ]
    assert phase_rrule(p19, p19.phase(1)).startswith("DTSTART:20190320T090000+08:00")
    specs = deployment_specs(p19, CAL)
    assert all(
        "2019" in sch.rrule.splitlines()[0] for s in specs if s.kind != "inbox" for sch in s.schedules if sch.rrule
    )


def test_an_unknown_year_is_an_error_not_a_weekend_guess(plan: Plan) -> None:
    p30 = rebased(plan, 2030)
    with pytest.raises(UnknownCalendarYear, match="2030"):
        deployment_specs(p30, CAL)
    with pytest.raises(UnknownCalendarYear):
        duty_rrule(p30, p30.duty("i03-party-meeting"), CAL)
    with pytest.raises(UnknownCalendarYear):
        duty_rrule(p30, p30.duty("i23-fault-repair"), CAL)  # even an event duty's daily rule


def test_an_operator_calendar_file_makes_a_year_known(plan: Plan, tmp_path: Any) -> None:
    f = tmp_path / "2030.yaml"
    f.write_text("year: 2030\nholidays: [2030-04-29, 2030-04-30]\nworkdays: [2030-04-27]\n", encoding="utf-8")
    cal = WorkCalendar.with_files([f])
    got = days(rebased(plan, 2030), "i03-party-meeting", cal)
    # 4/30 and 4/29 are holidays, 4/28 a Sunday, 4/27 the make-up Saturday.
    assert got[:3] == ["03-29", "04-15", "04-27"]


# --- work dates: what the phase flows run ------------------------------------------------------


def _phase_of(plan: Plan, day: dt.date) -> str | None:
    for p in plan.phases:
        start, end = plan.phase_dates(p)
        if start <= day <= end:
            return p.key
    return None


def test_the_phase_flow_runs_each_duty_exactly_on_its_work_dates(plan: Plan) -> None:
    first, last = plan.campaign_window()
    wd = {d.key: work_dates(plan, d, CAL) for d in plan.duties()}
    day = first
    while day <= last:
        phase = _phase_of(plan, day)
        assert phase is not None
        ran = {d.key for d in duties_with_work(plan, day, CAL, phase)}
        assert ran == {k for k, dates in wd.items() if day in dates}, day
        # …and no other phase's run would run it that day
        for other in plan.phases:
            if other.key != phase:
                start, end = plan.phase_dates(other)
                assert not start <= day <= end
        day += dt.timedelta(days=1)


def test_no_occurrence_is_both_a_phase_run_and_an_active_duty_schedule(plan: Plan) -> None:
    specs = deployment_specs(plan, CAL)
    phase_runs: dict[dt.datetime, str] = {}
    for s in specs:
        if s.kind == "phase":
            for sch in s.schedules:
                assert sch.rrule is not None
                for o in occurrences(sch.rrule, sch.timezone):
                    assert o not in phase_runs  # phases never overlap
                    phase_runs[o] = s.tags[-1].removeprefix("phase:")
    event_duties = {d.key for d in plan.duties() if d.frequency is Frequency.EVENT}
    for s in specs:
        if s.kind != "duty":
            continue
        for sch in s.schedules:
            if s.name in event_duties:
                # An event duty is fired only by its own (active) schedule: no phase run takes it.
                assert sch.active and "FREQ=MINUTELY;INTERVAL=10" in (sch.rrule or ""), s.name
                assert all(
                    s.name not in {d.key for d in duties_with_work(plan, o.date(), CAL, p)}
                    for o, p in phase_runs.items()
                ), s.name
                continue
            assert not sch.active, s.name
            assert sch.rrule is not None
            for o in occurrences(sch.rrule, sch.timezone):
                # every due date shown is a day the phase flow runs this duty, at the same time
                assert o in phase_runs, (s.name, o)
                ran = duties_with_work(plan, o.date(), CAL, phase_runs[o])
                assert s.name in {d.key for d in ran}, (s.name, o)


def test_going_overdue_at_17_30_is_taken_up_by_the_next_mornings_run(plan: Plan) -> None:
    d = plan.duty("i03-party-meeting")  # due 5/15 17:30; at 09:00 on 5/15 it is not overdue yet
    dates = work_dates(plan, d, CAL)
    assert {dt.date(2018, 5, 15), dt.date(2018, 5, 16)} <= dates
    # escalations at +2/+5/+10 working days: 5/17, 5/22, 5/29
    assert {dt.date(2018, 5, 17), dt.date(2018, 5, 22), dt.date(2018, 5, 29)} <= dates


def test_a_duty_of_one_phase_is_still_run_for_its_deadline_after_the_phase(plan: Plan) -> None:
    one_phase = Duty(
        key="x-p1-only",
        name="只在百日会战",
        text="t",
        performer="各乡镇",
        scope="township",
        frequency=Frequency.HALF_MONTHLY,
        evidence="会议纪要",
        phases=["p1"],
    )
    # 6/16–6/30: 6/30 is a Saturday, due Monday 7/2 — inside phase 2, which runs it.
    assert dt.date(2018, 7, 2) in work_dates(plan, one_phase, CAL)
    items = plan.aspects[0].items
    patched = plan.model_copy(
        update={
            "aspects": [
                plan.aspects[0].model_copy(update={"items": [items[0].model_copy(update={"duties": [one_phase]})]})
            ]
        }
    )
    assert [d.key for d in duties_with_work(patched, dt.date(2018, 7, 2), CAL, "p2")] == ["x-p1-only"]
    assert duties_with_work(patched, dt.date(2018, 7, 20), CAL, "p2") == []
    assert f"{duty_dates(patched, one_phase, CAL)[-1]:%m-%d}" == "07-02"


# --- prefect serve and the CLI -----------------------------------------------------------------


def test_runner_deployments_carry_the_same_schedules_and_inactive_flags(plan: Plan) -> None:
    from schedules.deployments import runner_deployments

    specs = deployment_specs(plan, CAL)
    by_name = {(r.flow_name, r.name): r for r in runner_deployments(plan, CAL)}
    assert set(by_name) == {(s.flow_name, s.name) for s in specs}  # the flows' names are the specs'
    for s in specs:
        r = by_name[(s.flow_name, s.name)]
        assert r.parameters == s.parameters
        assert [(x.active, getattr(x.schedule, "rrule", None)) for x in r.schedules or []] == [
            (x.active, x.rrule) for x in s.schedules
        ]
        assert r.description == s.description
        assert r.concurrency_limit == s.concurrency_limit
    assert (by_name[(phase_flow_name(1, "百日会战"), "taonan-2018")].schedules or [])[0].active


def test_cli_write_and_check(tmp_path: Any) -> None:
    import typer

    from campaign.cli_schedules import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None: ...

    register(app)
    out = tmp_path / "prefect.yaml"
    runner = CliRunner()
    r = runner.invoke(app, ["schedules", "check", "-o", str(out)])
    assert r.exit_code == 1 and "missing" in r.output
    r = runner.invoke(app, ["schedules", "write", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert runner.invoke(app, ["schedules", "check", "-o", str(out)]).exit_code == 0
    out.write_text(out.read_text(encoding="utf-8").replace("active: false", "active: true", 1), encoding="utf-8")
    r = runner.invoke(app, ["schedules", "check", "-o", str(out)])
    assert r.exit_code == 1 and "out of date" in r.output
    r = runner.invoke(app, ["schedules", "show", "i03-party-meeting"])
    assert r.exit_code == 0 and "19 occurrences" in r.output and "inactive" in r.output
