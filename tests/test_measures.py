"""Quotas measured from the imported facts: below-target flags raised, refreshed and resolved."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from storage.catalog import current_plan
from storage.models import Flag
from tasks.imports.importer import import_bytes, import_file
from tasks.measures import evaluate_targets, measure_for, measured_values
from tests.conftest import shanghai
from tests.data.imports.make_corpus import DAYS_HEADER
from tests.data.imports.support import CAMPAIGN, GOOD, NOW, VILLAGES, WAFANG, ctx_for

DUTY = "i01-first-secretary-days"
AFTER_W16 = shanghai(2018, 4, 23, 9)  # week 16 (4/16–4/22) is over


def send(s: Session, header: list[str], rows: list[list[Any]], now: Any = AFTER_W16, name: str = "f.csv") -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    result = import_bytes(s, name, buf.getvalue().encode(), campaign=CAMPAIGN, now=now)
    assert result.accepted, [i.line() for i in result.issues]


def days(village: str, n: int, person: str = "张志刚", role: str = "第一书记", day: str = "2018-04-16") -> list[Any]:
    return [day, "瓦房镇", village, person, role, n, ""]


def below(s: Session) -> dict[str, Flag]:
    return {f.subject: f for f in s.scalars(select(Flag).where(Flag.kind == "below_target"))}


def test_a_first_secretary_under_five_days_a_week_is_flagged_and_a_correction_resolves_it(session: Session) -> None:
    send(session, DAYS_HEADER, [days("瓦房村", 5), days("荣华村", 4, "李明")])
    ctx = ctx_for(session, DUTY, AFTER_W16)
    assert evaluate_targets(session, ctx) == 1
    assert evaluate_targets(session, ctx) == 0  # idempotent
    subject = f"quota:{DUTY}:{VILLAGES['荣华']}:2018-W16"
    flag = below(session)[subject]
    assert list(below(session)) == [subject]  # villages that sent nothing are the overdue flag's business
    assert (flag.unit_code, flag.township_code, flag.resolved_at) == (VILLAGES["荣华"], WAFANG, None)
    assert flag.duty_instance_id is None  # no instance materialised in this test
    assert {k: flag.details[k] for k in ("name", "period", "value", "threshold", "unit")} == {
        "name": "第一书记驻村工作",
        "period": "2018-W16",
        "value": 4.0,
        "threshold": 5.0,
        "unit": "天",
    }

    fixed = shanghai(2018, 4, 24, 9)
    send(session, DAYS_HEADER, [days("瓦房村", 5), days("荣华村", 5, "李明")], now=fixed, name="更正.csv")
    assert evaluate_targets(session, ctx_for(session, DUTY, fixed)) == 0
    session.refresh(flag)
    assert flag.resolved_at == fixed

    worse = shanghai(2018, 4, 25, 9)
    send(session, DAYS_HEADER, [days("瓦房村", 5), days("荣华村", 3, "李明")], now=worse, name="再更正.csv")
    assert evaluate_targets(session, ctx_for(session, DUTY, worse)) == 1  # re-opened, value refreshed
    session.refresh(flag)
    assert (flag.resolved_at, flag.details["value"]) == (None, 3.0)


def test_two_people_s_days_never_add_up_to_one_person_s_quota(session: Session) -> None:
    send(
        session,
        DAYS_HEADER,
        [
            days("瓦房村", 3),
            days("瓦房村", 3, "李明"),
            days("荣华村", 2, day="2018-04-16"),
            days("荣华村", 3, day="2018-04-19"),
        ],
    )
    values = measured_values(session, ctx_for(session, DUTY, AFTER_W16))
    got = dict(zip(values["unit"], values["value"], strict=True))
    assert got == {VILLAGES["瓦房"]: 3.0, VILLAGES["荣华"]: 5.0}  # the lowest person; one person's rows add up


def test_other_roles_rows_do_not_count_for_the_first_secretary(session: Session) -> None:
    send(session, DAYS_HEADER, [days("瓦房村", 2), days("瓦房村", 5, "王海", "驻村工作队")])
    assert measured_values(session, ctx_for(session, DUTY, AFTER_W16))["value"].tolist() == [2.0]
    assert evaluate_targets(session, ctx_for(session, "i01-work-team-days", AFTER_W16)) == 0  # 5 ≥ 1


def test_a_week_still_running_is_not_judged(session: Session) -> None:
    send(session, DAYS_HEADER, [days("荣华村", 1, day="2018-04-16")], now=shanghai(2018, 4, 20, 9))
    assert evaluate_targets(session, ctx_for(session, DUTY, shanghai(2018, 4, 20, 9))) == 0
    assert evaluate_targets(session, ctx_for(session, DUTY, AFTER_W16)) == 1


CHECKS = ["抽查日期", "乡镇", "村", "被抽查人", "身份", "日志份数", "抽查份数"]


def test_the_spot_check_rate_is_the_year_s_checked_over_the_year_s_logs(session: Session) -> None:
    send(
        session,
        CHECKS,
        [
            ["2018-04-10", "瓦房镇", "瓦房村", "张志刚", "第一书记", 40, 6],
            ["2018-04-11", "瓦房镇", "荣华村", "王海", "驻村工作队", 30, 9],
        ],
    )
    year_end = shanghai(2019, 1, 2, 9)
    ctx = ctx_for(session, "i02-log-spot-check", year_end, township=None)
    assert evaluate_targets(session, ctx) == 1
    (flag,) = below(session).values()
    assert (flag.subject, flag.unit_code, flag.details["value"]) == (
        "quota:i02-log-spot-check:组织部:2018",
        "组织部",
        21.43,
    )  # 15 ÷ 70, not the mean of 15% and 30%
    send(
        session, CHECKS, [["2018-09-10", "瓦房镇", "长山村", "刘伟", "第一书记", 40, 20]], now=shanghai(2018, 9, 11, 9)
    )
    assert evaluate_targets(session, ctx) == 0
    session.refresh(flag)
    assert flag.resolved_at == year_end  # 35 ÷ 110 = 31.8%


COMPLETION = ["职责编号", "单位", "周期", "完成值"]


def test_a_duty_without_a_report_is_measured_by_its_latest_completion_value(session: Session) -> None:
    send(
        session,
        COMPLETION,
        [["i08-archive-check", "扶贫办", "2018-03", 60], ["i08-archive-check", "扶贫办", "2018-05", 80]],
        now=shanghai(2018, 6, 1, 9),
    )
    ctx = ctx_for(session, "i08-archive-check", shanghai(2018, 7, 2, 9), township=None)
    assert evaluate_targets(session, ctx) == 1
    (flag,) = below(session).values()
    assert (flag.subject, flag.details["value"], flag.details["threshold"]) == (
        "quota:i08-archive-check:扶贫办:2018-H1",
        80.0,
        100.0,
    )


def test_a_quota_the_reports_cannot_measure_is_skipped_and_says_why(session: Session) -> None:
    _, plan = current_plan(session, CAMPAIGN)
    without_register = plan.model_copy(
        update={"report_types": [r for r in plan.report_types if r.key != "village_households"]}
    )
    why = measure_for(without_register, plan.duty("i01-first-secretary-visits"))
    assert isinstance(why, str) and "入户率" in why and "台账" in why
    assert measure_for(plan, plan.duty("i03-party-meeting")) == "i03-party-meeting 没有量化指标"


# --- 入户率: distinct poor households visited ÷ the village's 建档立卡贫困户数 ---------------------------

VISITS = ["乡镇", "村", "走访日期", "走访人", "身份", "户主姓名", "是否贫困户"]
REGISTER = ["统计日期", "乡镇", "村", "建档立卡贫困户数", "备注"]
VISITS_DUTY = "i01-first-secretary-visits"
AFTER_Q2 = shanghai(2018, 7, 2, 9)  # 2018-Q2 (4/1–6/30) is over


def visit(village: str, household: str, role: str = "第一书记", day: str = "2018-05-10", poor: str = "是") -> list[Any]:
    return ["瓦房镇", village, day, "张志刚" if role == "第一书记" else "王海", role, household, poor]


def registered(village: str, households: int, day: str = "2018-04-01") -> list[Any]:
    return [day, "瓦房镇", village, households, ""]


def test_a_first_secretary_who_visited_three_of_four_poor_households_is_flagged_until_the_fourth(
    session: Session,
) -> None:
    send(session, REGISTER, [registered("瓦房村", 4)], now=shanghai(2018, 4, 2, 9), name="台账.csv")
    send(
        session,
        VISITS,
        [
            visit("瓦房村", "赵大山"),
            visit("瓦房村", "钱二"),
            visit("瓦房村", "孙三", day="2018-06-01"),
            visit("瓦房村", "孙三", day="2018-06-20"),  # visited twice, counted once
            visit("瓦房村", "李五", poor="否"),  # not a 建档立卡贫困户
        ],
        now=shanghai(2018, 6, 25, 9),
    )
    ctx = ctx_for(session, VISITS_DUTY, AFTER_Q2)
    assert evaluate_targets(session, ctx) == 1
    subject = f"quota:{VISITS_DUTY}:{VILLAGES['瓦房']}:2018-Q2"
    (flag,) = below(session).values()
    assert flag.subject == subject and flag.resolved_at is None
    assert {k: flag.details[k] for k in ("metric", "period", "value", "threshold", "unit")} == {
        "metric": "入户率",
        "period": "2018-Q2",
        "value": 75.0,
        "threshold": 100.0,
        "unit": "%",
    }

    later = shanghai(2018, 7, 3, 9)
    send(session, VISITS, [visit("瓦房村", "周四", day="2018-06-28")], now=later, name="补报.csv")
    assert evaluate_targets(session, ctx_for(session, VISITS_DUTY, later)) == 0
    session.refresh(flag)
    assert flag.resolved_at == later


def test_the_register_row_dated_by_the_period_s_end_and_received_by_as_of_is_the_denominator(
    session: Session,
) -> None:
    send(session, REGISTER, [registered("瓦房村", 2)], now=shanghai(2018, 4, 2, 9), name="台账.csv")
    send(session, VISITS, [visit("瓦房村", "赵大山"), visit("瓦房村", "钱二")], now=shanghai(2018, 6, 25, 9))
    send(session, REGISTER, [registered("瓦房村", 8, day="2018-07-01")], now=AFTER_Q2, name="7月台账.csv")
    send(session, REGISTER, [registered("瓦房村", 4, day="2018-06-30")], now=shanghai(2018, 7, 5, 9), name="迟报.csv")
    values = lambda when: measured_values(session, ctx_for(session, VISITS_DUTY, when))["value"].tolist()  # noqa: E731
    assert values(AFTER_Q2) == [100.0]  # July's count is not Q2's; the 6/30 row had not arrived yet
    assert values(shanghai(2018, 7, 6, 9)) == [50.0]


def test_a_village_without_a_register_row_is_not_flagged(session: Session) -> None:
    send(session, VISITS, [visit("瓦房村", "赵大山"), visit("荣华村", "吴六")], now=shanghai(2018, 6, 25, 9))
    ctx = ctx_for(session, VISITS_DUTY, AFTER_Q2)
    assert measured_values(session, ctx).empty and evaluate_targets(session, ctx) == 0  # no register at all yet
    send(session, REGISTER, [registered("瓦房村", 4)], now=shanghai(2018, 6, 26, 9), name="台账.csv")
    assert measured_values(session, ctx)[["unit", "value"]].values.tolist() == [[VILLAGES["瓦房"], 25.0]]
    assert evaluate_targets(session, ctx) == 1
    assert list(below(session)) == [f"quota:{VISITS_DUTY}:{VILLAGES['瓦房']}:2018-Q2"]


def test_other_roles_visits_do_not_count_toward_the_first_secretary_s_rate(session: Session) -> None:
    send(session, REGISTER, [registered("瓦房村", 2)], now=shanghai(2018, 4, 2, 9), name="台账.csv")
    send(
        session,
        VISITS,
        [visit("瓦房村", "赵大山"), visit("瓦房村", "钱二", role="驻村工作队")],
        now=shanghai(2018, 6, 25, 9),
    )
    assert measured_values(session, ctx_for(session, VISITS_DUTY, AFTER_Q2))["value"].tolist() == [50.0]
    assert evaluate_targets(session, ctx_for(session, VISITS_DUTY, AFTER_Q2)) == 1
    # The 驻村工作队's own half-year quota counts only its own visit: 1 of 2.
    team = measured_values(session, ctx_for(session, "i01-work-team-visits", AFTER_Q2))
    assert team["value"].tolist() == [50.0]


def test_the_good_register_file_is_the_denominator_of_village_and_township_visit_quotas(session: Session) -> None:
    for name in ("瓦房镇建档立卡贫困户台账.csv", "瓦房镇入户走访记录-4月.xlsx"):
        result = import_file(session, GOOD / name, campaign=CAMPAIGN, now=NOW)
        assert result.accepted, [i.line() for i in result.issues]
    ctx = ctx_for(session, VISITS_DUTY, AFTER_Q2)
    assert measured_values(session, ctx)[["unit", "value"]].values.tolist() == [[VILLAGES["瓦房"], 100.0]]
    # 乡镇包保干部: one of 荣华村's 3 poor households; the township sums its visited villages.
    cadre = measured_values(session, ctx_for(session, "i01-township-cadre-visits", AFTER_Q2))
    assert cadre[["unit", "value"]].values.tolist() == [[WAFANG, pytest.approx(100 / 3)]]


@pytest.mark.parametrize("villages", [2, 17])
def test_it_measures_every_village_with_the_same_few_statements(session: Session, villages: int) -> None:
    from storage.models import Division

    names = session.scalars(select(Division.name).where(Division.parent_code == WAFANG).order_by(Division.code)).all()
    send(session, DAYS_HEADER, [days(n, 2, person=f"书记{i}") for i, n in enumerate(names[:villages])])
    ctx = ctx_for(session, DUTY, AFTER_W16)
    statements: list[str] = []
    conn = session.connection()
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(conn, "before_cursor_execute", listener)
    try:
        assert evaluate_targets(session, ctx) == villages
    finally:
        event.remove(conn, "before_cursor_execute", listener)
    assert len(statements) <= 8, statements  # whatever the number of villages


@pytest.mark.parametrize("villages", [2, 17])
def test_it_measures_every_village_s_visit_rate_with_the_same_few_statements(session: Session, villages: int) -> None:
    from storage.models import Division

    names = session.scalars(select(Division.name).where(Division.parent_code == WAFANG).order_by(Division.code)).all()
    send(session, REGISTER, [registered(n, 2) for n in names[:villages]], now=shanghai(2018, 4, 2, 9), name="台账.csv")
    send(session, VISITS, [visit(n, "赵大山") for n in names[:villages]], now=shanghai(2018, 6, 25, 9))
    ctx = ctx_for(session, VISITS_DUTY, AFTER_Q2)
    statements: list[str] = []
    conn = session.connection()
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(conn, "before_cursor_execute", listener)
    try:
        assert evaluate_targets(session, ctx) == villages
    finally:
        event.remove(conn, "before_cursor_execute", listener)
    assert len(statements) <= 9, statements  # whatever the number of villages
