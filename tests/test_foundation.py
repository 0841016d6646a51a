"""Settings, the working-day calendar and periods: plain logic, no database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from campaign.periods import Frequency, period_of, periods_between
from campaign.settings import SettingsError, load_settings
from campaign.workdays import UnknownCalendarYear, WorkCalendar

D = dt.date


def test_a_bad_setting_stops_start_up_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_CONCURRENCY", "lots")
    with pytest.raises(SettingsError, match="NOTIFY_CONCURRENCY"):
        load_settings()


def test_a_database_url_of_another_kind_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load_settings()


def test_a_secret_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "db-url"
    secret.write_text("postgresql://app@db.internal/campaign\n", encoding="utf-8")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL_FILE", str(secret))
    s = load_settings()
    assert s.database_url == "postgresql+psycopg://app@db.internal/campaign"
    assert "db.internal" not in repr(s)  # secrets never show in logs or reprs


def test_a_missing_secret_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "nope"))
    with pytest.raises(SettingsError, match="DATABASE_URL_FILE"):
        load_settings()


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (D(2018, 2, 11), True),  # Sunday, make-up workday for 春节
        (D(2018, 2, 16), False),  # 春节
        (D(2018, 4, 5), False),  # 清明
        (D(2018, 4, 8), True),  # Sunday, make-up workday
        (D(2018, 4, 28), True),  # Saturday, make-up workday for 劳动节
        (D(2018, 4, 30), False),
        (D(2018, 6, 18), False),  # 端午
        (D(2018, 9, 24), False),  # 中秋
        (D(2018, 9, 29), True),  # Saturday, make-up workday for 国庆
        (D(2018, 9, 30), True),
        (D(2018, 10, 5), False),
        (D(2018, 12, 29), True),  # Saturday, make-up workday for 元旦
        (D(2018, 12, 31), False),
        (D(2018, 5, 19), False),  # an ordinary Saturday
    ],
)
def test_the_2018_statutory_calendar(day: dt.date, workday: bool) -> None:
    assert WorkCalendar().is_workday(day) is workday


def test_the_working_days_of_each_phase_match_the_published_counts() -> None:
    cal = WorkCalendar()
    assert cal.workdays_between(D(2018, 3, 20), D(2018, 6, 30)) == 71
    assert cal.workdays_between(D(2018, 7, 1), D(2018, 7, 31)) == 22
    assert cal.workdays_between(D(2018, 8, 1), D(2018, 10, 31)) == 62
    assert cal.workdays_between(D(2018, 11, 1), D(2018, 12, 31)) == 43


def test_adding_working_days_skips_holidays_and_counts_make_up_days() -> None:
    cal = WorkCalendar()
    assert cal.add_workdays(D(2018, 4, 4), 1) == D(2018, 4, 8)
    assert cal.add_workdays(D(2018, 4, 27), 1) == D(2018, 4, 28)
    assert cal.add_workdays(D(2018, 5, 2), -1) == D(2018, 4, 28)
    assert cal.roll(D(2018, 9, 30), "preceding") == D(2018, 9, 30)
    assert cal.roll(D(2018, 10, 1), "following") == D(2018, 10, 8)


def test_an_unknown_year_is_an_error_not_a_weekend_guess() -> None:
    with pytest.raises(UnknownCalendarYear, match="2031"):
        WorkCalendar().is_workday(D(2031, 5, 6))


def test_an_operator_calendar_file_teaches_a_new_year(tmp_path: Path) -> None:
    f = tmp_path / "2031.yaml"
    f.write_text("year: 2031\nholidays: [2031-05-01, 2031-05-02]\nworkdays: [2031-04-27]\n", encoding="utf-8")
    cal = WorkCalendar.with_files([f])
    assert cal.is_workday(D(2031, 4, 27)) is True  # a Sunday made a workday
    assert cal.is_workday(D(2031, 5, 2)) is False
    assert cal.is_workday(D(2031, 5, 6)) is True


def test_a_calendar_file_with_a_date_of_another_year_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("year: 2031\nholidays: [2030-10-01]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not in year 2031"):
        WorkCalendar.with_files([f])


@pytest.mark.parametrize(
    ("freq", "day", "key", "start", "end"),
    [
        (Frequency.HALF_MONTHLY, D(2018, 4, 15), "2018-04H1", D(2018, 4, 1), D(2018, 4, 15)),
        (Frequency.HALF_MONTHLY, D(2018, 2, 16), "2018-02H2", D(2018, 2, 16), D(2018, 2, 28)),
        (Frequency.WEEKLY, D(2018, 3, 20), "2018-W12", D(2018, 3, 19), D(2018, 3, 25)),
        (Frequency.MONTHLY, D(2018, 6, 30), "2018-06", D(2018, 6, 1), D(2018, 6, 30)),
        (Frequency.QUARTERLY, D(2018, 8, 1), "2018-Q3", D(2018, 7, 1), D(2018, 9, 30)),
        (Frequency.HALF_YEARLY, D(2018, 7, 1), "2018-H2", D(2018, 7, 1), D(2018, 12, 31)),
        (Frequency.YEARLY, D(2018, 7, 1), "2018", D(2018, 1, 1), D(2018, 12, 31)),
        (Frequency.DAILY, D(2018, 7, 1), "2018-07-01", D(2018, 7, 1), D(2018, 7, 1)),
    ],
)
def test_the_period_of_a_date(freq: Frequency, day: dt.date, key: str, start: dt.date, end: dt.date) -> None:
    p = period_of(freq, day)
    assert (p.key, p.start, p.end) == (key, start, end)


def test_two_week_periods_start_on_the_monday_of_the_campaign_start() -> None:
    ps = periods_between(Frequency.BIWEEKLY, D(2018, 3, 20), D(2018, 4, 30), anchor=D(2018, 3, 20))
    assert [p.start for p in ps] == [D(2018, 3, 19), D(2018, 4, 2), D(2018, 4, 16), D(2018, 4, 30)]


def test_event_duties_have_no_calendar_period() -> None:
    with pytest.raises(ValueError, match="event"):
        period_of(Frequency.EVENT, D(2018, 5, 1))
