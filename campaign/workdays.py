"""Working days on the Chinese statutory calendar, make-up workdays (调休) included.

chinese-calendar knows 2004–2026. For any other year an operator supplies the year's calendar
(from the 国务院办公厅 notice) as a YAML file; a year nobody knows is an error, never a silent
weekends-only guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class UnknownCalendarYear(LookupError):
    pass


def _builtin_years() -> set[int]:
    import chinese_calendar

    years = {d.year for d in chinese_calendar.holidays}
    return years


@dataclass
class WorkCalendar:
    """is_workday for any date of a known year; extra years come from operator files."""

    extra_holidays: set[dt.date] = field(default_factory=set)
    extra_workdays: set[dt.date] = field(default_factory=set)
    extra_years: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._builtin = _builtin_years()
        self._memo: dict[dt.date, bool] = {}

    @classmethod
    def with_files(cls, paths: Iterable[Path]) -> WorkCalendar:
        cal = cls()
        for p in paths:
            cal.add_file(p)
        return cal

    def add_file(self, path: Path) -> None:
        """Load ``{year: 2027, holidays: [dates], workdays: [make-up dates]}``."""
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        try:
            year = int(doc["year"])
            hols = [dt.date.fromisoformat(str(d)) for d in doc.get("holidays", [])]
            works = [dt.date.fromisoformat(str(d)) for d in doc.get("workdays", [])]
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: calendar file needs year, holidays, workdays as ISO dates ({exc})") from exc
        for d in (*hols, *works):
            if d.year != year:
                raise ValueError(f"{path}: date {d} is not in year {year}")
        self.extra_years.add(year)
        self._memo.clear()
        self.extra_holidays.update(hols)
        self.extra_workdays.update(works)

    def knows(self, year: int) -> bool:
        return year in self.extra_years or year in self._builtin

    def is_workday(self, day: dt.date) -> bool:
        # Memoised: chinese-calendar costs ~40 µs a lookup and reminder steps ask thousands of times.
        hit = self._memo.get(day)
        if hit is None:
            hit = self._memo[day] = self._is_workday(day)
        return hit

    def _is_workday(self, day: dt.date) -> bool:
        if day.year in self.extra_years:
            if day in self.extra_workdays:
                return True
            if day in self.extra_holidays:
                return False
            return day.weekday() < 5
        if day.year not in self._builtin:
            raise UnknownCalendarYear(
                f"没有 {day.year} 年的法定节假日安排: supply a calendar file for {day.year} "
                "(holidays and make-up workdays from the 国务院办公厅 notice)"
            )
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))

    def roll(self, day: dt.date, direction: str) -> dt.date:
        """Move a non-working day to the next ('following') or previous ('preceding') working day."""
        step = dt.timedelta(days=1 if direction == "following" else -1)
        while not self.is_workday(day):
            day += step
        return day

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after (n>0) or before (n<0) ``day``; n=0 rolls forward to a workday."""
        if n == 0:
            return self.roll(day, "following")
        step = dt.timedelta(days=1 if n > 0 else -1)
        left = abs(n)
        while left:
            day += step
            if self.is_workday(day):
                left -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in the closed range [start, end]."""
        n, day = 0, start
        while day <= end:
            n += self.is_workday(day)
            day += dt.timedelta(days=1)
        return n


_default: WorkCalendar | None = None


def default_calendar() -> WorkCalendar:
    global _default
    if _default is None:
        from campaign.settings import get_settings

        cal_dir = get_settings().VAR_DIR / "calendars"
        files = sorted(cal_dir.glob("*.yaml")) if cal_dir.is_dir() else []
        _default = WorkCalendar.with_files(files)
    return _default
