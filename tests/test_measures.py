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
from tasks.imports.importer import import_bytes
from tasks.measures import evaluate_targets, measure_for, measured_values
from tests.conftest import shanghai
from tests.data.imports.make_corpus import DAYS_HEADER
from tests.data.imports.support import CAMPAIGN, VILLAGES, WAFANG, ctx_for

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
    why = measure_for(plan, plan.duty("i01-first-secretary-visits"))
    assert isinstance(why, str) and "入户率" in why
    assert evaluate_targets(session, ctx_for(session, "i01-first-secretary-visits", shanghai(2018, 7, 2, 9))) == 0
    assert measure_for(plan, plan.duty("i03-party-meeting")) == "i03-party-meeting 没有量化指标"


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
