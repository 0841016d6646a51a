"""Good township files, one per report type: each imports exactly its rows and completes exactly
the duty instances it is evidence for. Plus idempotency, correction (supersede) and atomicity."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plan.load import load_plan_file
from storage.models import Evidence, IndicatorReading, Submission
from tasks.imports import store as store_module
from tasks.imports.importer import import_bytes, import_file
from tasks.imports.template import write_template
from tasks.imports.validate import report_types
from tests.conftest import CATALOG, shanghai
from tests.data.imports.make_corpus import DAYS_HEADER, DAYS_ROWS
from tests.data.imports.support import CAMPAIGN, GOOD, NOW, VILLAGES, WAFANG, counts, done


def imp(s: Session, name: str, **kw: object):  # type: ignore[no-untyped-def]
    result = import_file(s, GOOD / name, campaign=CAMPAIGN, now=kw.pop("now", NOW), **kw)  # type: ignore[arg-type]
    assert result.accepted, "\n".join(i.line() for i in result.issues)
    return result


def days_csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([DAYS_HEADER, *rows])
    return buf.getvalue().encode(encoding)


def evidence(s: Session, submission_id: int | None) -> list[Evidence]:
    return list(s.scalars(select(Evidence).where(Evidence.submission_id == submission_id).order_by(Evidence.id)))


# --- one test per report type ---------------------------------------------------------------------


def test_party_meeting_minutes_complete_the_half_months_they_were_held_in(session: Session) -> None:
    r = imp(session, "瓦房镇扶贫工作专题党委会会议纪要.xlsx")
    assert (r.report_type, r.rows) == ("party_meeting_minutes", 2)  # the 16 numbered empty rows are skipped
    rows = evidence(session, r.submission_id)
    assert [(e.row_number, e.unit_code, str(e.occurred_on)) for e in rows] == [
        (3, WAFANG, "2018-03-28"),
        (4, WAFANG, "2018-04-13"),
    ]  # spreadsheet rows below the merged title
    assert rows[0].received_at == NOW and rows[0].data["township"] == "瓦房镇"
    assert done(session, "i03-party-meeting", NOW) == {(WAFANG, "2018-03H2"), (WAFANG, "2018-04H1")}


def test_village_days_complete_each_role_s_own_duty(session: Session) -> None:
    r = imp(session, "瓦房镇驻村工作天数-第16周.csv")  # GBK, full-width digits, 2天, short names
    assert (r.report_type, r.rows) == ("village_days", 4)
    rows = evidence(session, r.submission_id)
    assert [e.data["days"] for e in rows] == [5, 5, 2, 1]
    assert {e.unit_code for e in rows} == set(VILLAGES.values())
    assert {e.township_code for e in rows} == {WAFANG}
    w, rh = VILLAGES["瓦房"], VILLAGES["荣华"]
    assert done(session, "i01-first-secretary-days", NOW) == {(w, "2018-W16"), (rh, "2018-W16")}
    assert done(session, "i01-work-team-days", NOW) == {(rh, "2018-W16")}
    # 市级领导 drive townships: a 市级包保领导 row in one of 瓦房镇's villages completes 瓦房镇's fortnight.
    assert done(session, "i01-city-leader-days", NOW) == {(WAFANG, "2018-W16+2")}


def test_household_visits_complete_village_and_township_duties_by_role(session: Session) -> None:
    r = imp(session, "瓦房镇入户走访记录-4月.xlsx")  # an Excel serial date, 是/否 and TRUE/FALSE
    assert (r.report_type, r.rows) == ("household_visits", 4)
    rows = evidence(session, r.submission_id)
    assert [str(e.occurred_on) for e in rows] == ["2018-04-12", "2018-04-12", "2018-04-03", "2018-04-10"]
    assert [e.data["is_poor_household"] for e in rows] == [True, True, True, False]
    assert [e.data["resolved"] for e in rows] == [False, None, None, True]
    w, rh = VILLAGES["瓦房"], VILLAGES["荣华"]
    assert done(session, "i01-first-secretary-visits", NOW) == {(w, "2018-Q2")}
    assert done(session, "i01-township-cadre-visits", NOW) == {(WAFANG, "2018-Q2")}
    assert done(session, "i06-revisit", NOW) == {(rh, "2018-04H1")}  # 巩固回访小组 ≈ 扶贫工作巩固回访小组
    assert done(session, "i01-work-team-visits", NOW) == set()  # no 驻村工作队 visit in the file
    assert done(session, "i01-city-leader-visits", NOW) == set()


def test_monthly_statistics_complete_the_month_and_record_the_rates(session: Session) -> None:
    r = imp(session, "瓦房镇扶贫月度统计表-2018年3月.csv")  # UTF-8 BOM, 2018年3月, rates left empty
    assert (r.report_type, r.rows, r.readings) == ("monthly_statistics", 1, 3)
    (row,) = evidence(session, r.submission_id)
    assert (row.period_key, str(row.occurred_on), row.data["month"]) == ("2018-03", "2018-03-01", "2018-03")
    readings = {
        x.indicator_key: (x.unit_code, x.period_key, x.value)
        for x in session.scalars(select(IndicatorReading).where(IndicatorReading.evidence_id == row.id))
    }
    assert readings == {
        "i14-pension-rate": (WAFANG, "2018-03", 98.65),  # 801 ÷ 812 × 100, computed on import
        "i16-medical-rate": (WAFANG, "2018-03", 99.41),
        "i15-dibao-coverage": (WAFANG, "2018-03", 100.0),
    }
    for duty in ("i04-conflict-statistics", "i06-change-statistics", "i14-pension-enrolment", "i15-dibao-check"):
        assert done(session, duty, NOW) == {(WAFANG, "2018-03")}, duty


def test_log_spot_checks_complete_the_organisation_department_s_year(session: Session) -> None:
    r = imp(session, "组织部扶贫日志抽查审核记录.xlsx")
    assert (r.report_type, r.rows, r.readings) == ("log_spot_checks", 2, 2)
    assert [e.data["check_rate"] for e in evidence(session, r.submission_id)] == [30.0, 30.0]
    assert done(session, "i02-log-spot-check", NOW, township=None) == {("组织部", "2018")}


def test_duty_completion_rows_complete_duties_without_a_report_of_their_own(session: Session) -> None:
    r = imp(session, "扶贫办职责完成登记.xlsx")
    assert (r.report_type, r.rows) == ("duty_completion", 4)
    rows = evidence(session, r.submission_id)
    assert [(e.data["duty"], e.unit_code, e.period_key) for e in rows] == [
        ("i08-archive-check", "扶贫办", "2018-03"),
        ("i08-archive-check", "扶贫办", "2018-04"),  # named by 职责名称, dated by 完成日期
        ("i07-display-check", WAFANG, "2018-04"),  # 周期 turned into a date cell by Excel
        ("i02-city-leader-log-review", "city", "2018-03"),
    ]
    assert done(session, "i08-archive-check", NOW, township=None) == {("扶贫办", "2018-03"), ("扶贫办", "2018-04")}
    assert done(session, "i07-display-check", NOW) == {(WAFANG, "2018-04")}
    assert done(session, "i02-city-leader-log-review", NOW, township=None) == {("city", "2018-03")}
    assert done(session, "i05-exit-plan-dispatch", NOW) == set()  # a row names its duty: no other is done


@pytest.mark.parametrize("key", sorted(report_types(load_plan_file(CATALOG)[0])))
def test_every_report_type_s_template_reads_back_and_only_its_example_row_is_refused(
    session: Session, tmp_path: Path, key: str
) -> None:
    plan = load_plan_file(CATALOG)[0]
    path = write_template(plan, key, tmp_path / f"{key}.xlsx")
    result = import_file(session, path, campaign=CAMPAIGN, now=shanghai(2018, 12, 31, 9))
    assert result.report_type == key  # detected from the headers alone
    assert [(i.row, i.zh) for i in result.issues] == [(2, "这是模板里的示例行；请删除或改成实际内容")]


# --- idempotency, corrections, atomicity ----------------------------------------------------------


def test_reimporting_identical_content_changes_nothing(session: Session) -> None:
    first = imp(session, "瓦房镇驻村工作天数-第16周.csv")
    before = counts(session)
    again = imp(session, "瓦房镇驻村工作天数-第16周.csv", now=shanghai(2018, 4, 24, 9))
    assert (again.status, again.submission_id) == ("unchanged", first.submission_id)
    assert counts(session) == before


def test_the_same_rows_in_another_format_and_order_are_the_same_submission(session: Session) -> None:
    first = imp(session, "瓦房镇驻村工作天数-第16周.csv")
    # Re-typed as UTF-8 with official names and plain digits, rows reversed: the same facts.
    same = [
        ["2018-04-18", "瓦房镇", "长山村委会", "刘伟", "市级包保领导", "1", "调研产业项目"],
        ["2018-04-17", "瓦房镇", "荣华村委会", "王海", "驻村工作队", "2", ""],
        ["2018-04-16", "瓦房镇", "荣华村委会", "李明", "第一书记", "5", "入户走访"],
        ["2018-04-16", "瓦房镇", "瓦房村委会", "张志刚", "第一书记", "5", "入户走访、项目调度"],
    ]
    again = import_bytes(session, "retyped.csv", days_csv(same), campaign=CAMPAIGN, now=NOW)
    assert (again.status, again.submission_id) == ("unchanged", first.submission_id)


def test_a_corrected_file_for_the_same_unit_periods_supersedes_the_earlier_one(session: Session) -> None:
    first = imp(session, "瓦房镇驻村工作天数-第16周.csv")
    corrected = [list(r) for r in DAYS_ROWS]
    corrected[1][5] = "4"  # 李明 was there 4 days, not 5
    later = shanghai(2018, 4, 24, 9)
    second = import_bytes(session, "更正.csv", days_csv(corrected), campaign=CAMPAIGN, now=later)
    assert (second.status, second.superseded) == ("accepted", [first.submission_id])
    old = session.get(Submission, first.submission_id)
    assert old is not None and old.superseded_by == second.submission_id
    assert {e.active for e in evidence(session, first.submission_id)} == {False}  # history kept, inactive
    assert [e.data["days"] for e in evidence(session, second.submission_id) if e.active] == [5, 4, 2, 1]
    # Sending the first file again makes it current again (and the correction history).
    back = imp(session, "瓦房镇驻村工作天数-第16周.csv", now=shanghai(2018, 4, 25, 9))
    assert (back.status, back.submission_id, back.superseded) == (
        "reinstated",
        first.submission_id,
        [second.submission_id],
    )
    assert {e.active for e in evidence(session, first.submission_id)} == {True}
    assert {e.active for e in evidence(session, second.submission_id)} == {False}


def test_a_file_covering_only_part_of_an_earlier_one_is_kept_beside_it_with_a_warning(session: Session) -> None:
    first = imp(session, "瓦房镇驻村工作天数-第16周.csv")
    part = import_bytes(
        session,
        "part.csv",
        days_csv([["2018-04-16", "瓦房镇", "瓦房村", "张志刚", "第一书记", "6", ""]]),
        campaign=CAMPAIGN,
        now=NOW,
    )
    assert part.status == "accepted" and part.superseded == []
    assert len(part.warnings) == 1 and f"#{first.submission_id}" in part.warnings[0]
    assert {e.active for e in evidence(session, first.submission_id)} == {True}


def test_a_database_failure_mid_file_leaves_nothing_behind(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    before = counts(session)

    def boom(*args: object, **kw: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_module, "_insert_readings", boom)  # after the submission and evidence rows
    with pytest.raises(RuntimeError):
        import_file(session, GOOD / "瓦房镇扶贫月度统计表-2018年3月.csv", campaign=CAMPAIGN, now=NOW)
    assert counts(session) == before


def test_the_caller_may_name_the_report_type_and_a_wrong_one_is_refused(session: Session) -> None:
    ok = import_file(
        session, GOOD / "瓦房镇驻村工作天数-第16周.csv", campaign=CAMPAIGN, now=NOW, report_type="village_days"
    )
    assert ok.accepted
    wrong = import_file(
        session,
        GOOD / "组织部扶贫日志抽查审核记录.xlsx",
        campaign=CAMPAIGN,
        now=NOW,
        report_type="party_meeting_minutes",
    )
    assert not wrong.accepted
    assert ("会议日期", "缺少必填列") in [(i.column, i.zh) for i in wrong.issues]
    assert ("抽查日期", None) in [(i.column, i.value) for i in wrong.issues]  # an extra column, named
