"""Reading what clerks type: full-width digits, 是/否, dates in every local spelling, periods.

Every parser takes a raw cell (str from CSV; str, int, float, bool, datetime from XLSX) and
returns the typed value or raises ``CellError`` saying, in Chinese and English, what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from campaign.periods import Frequency, Period, period_of
from tasks.imports.errors import CellError

EXCEL_EPOCH = dt.date(1899, 12, 30)  # the 1900 date system, Lotus leap-year bug included
# Serial numbers this side of 2000-01-01 … 2099-12-31 are dates; anything else is a typo.
SERIAL_MIN, SERIAL_MAX = 36526, 73050
EARLIEST = dt.date(2000, 1, 1)

TRUE_WORDS = {"是", "是的", "有", "已", "对", "y", "yes", "true", "t", "1", "√", "✓", "✔"}
FALSE_WORDS = {"否", "不是", "无", "没有", "未", "n", "no", "false", "f", "0", "×", "✗", "✘", "x"}

CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def nfkc(value: object) -> str:
    """Full-width digits, letters, spaces and punctuation → their ASCII forms; trimmed."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.replace("\u3000", " ").strip())


def clean_text(value: object) -> str:
    """Free text keeps its Chinese punctuation; only the ideographic space and the edges go."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an ID typed into a number cell: 2018.0 → 2018
    text = str(value).replace("\u3000", " ").replace("\r\n", "\n").strip()
    return re.sub(r"[ \t]+", " ", text)


_SPACES = re.compile(r"\s+")
_UNIT_SUFFIX = re.compile(r"\([^()]*\)$")


def name_key(value: object) -> str:
    """How names compare: NFKC, no spaces at all (clerks pad names to align them: 张  三)."""
    return _SPACES.sub("", nfkc(value))


def header_key(value: object) -> str:
    """A header as matched against the catalog: no spaces, no required-marks, no trailing (unit)."""
    text = name_key(value).replace("*", "")
    text = _UNIT_SUFFIX.sub("", text)  # 驻村天数(天) — NFKC made （） into ()
    return text


_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(.*)$")


def parse_number(value: object, unit: str | None) -> float:
    """A number, optionally followed by the column's own unit (5天, 98.6%, 1,200元)."""
    if isinstance(value, bool):
        raise CellError("应为数字，不是是/否", "expected a number, not a yes/no value")
    if isinstance(value, int | float):
        if value != value:  # NaN from a broken cell
            raise CellError("不是数字", "not a number")
        return float(value)
    if isinstance(value, dt.date | dt.time):
        raise CellError("应为数字，单元格却是日期格式", "expected a number but the cell holds a date")
    text = nfkc(value).replace(",", "").replace(" ", "")
    m = _NUMBER.match(text)
    if not m:
        raise CellError("不是数字；请填阿拉伯数字，如 5", "not a number; write digits, e.g. 5")
    suffix = m.group(2)
    if suffix and suffix != (unit or "") and not (unit == "%" and suffix == "%"):
        if unit:
            raise CellError(f"单位应为“{unit}”，不是“{suffix}”", f"the unit must be '{unit}', not '{suffix}'")
        raise CellError(f"数字后面多了“{suffix}”；只填数字", f"unexpected text '{suffix}' after the number")
    return float(m.group(1))


def parse_int(value: object, unit: str | None) -> int:
    number = parse_number(value, unit)
    if not number.is_integer():
        raise CellError("应为整数", "expected a whole number")
    return int(number)


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = nfkc(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError("应填“是”或“否”", "expected 是 (yes) or 否 (no)")


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_DAY = re.compile(r"^(\d{1,2})月(\d{1,2})[日号]?$")


def serial_to_date(serial: float) -> dt.date:
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_date(value: object, year: int) -> dt.date:
    """A date cell, an Excel serial number, or text like 2018-4-13, 2018/04/13, 2018年4月13日, 4月13日.

    ``year`` completes 4月13日 (the campaign's year: clerks leave it out within the year).
    """
    if isinstance(value, dt.datetime):
        return _plausible(value.date())
    if isinstance(value, dt.date):
        return _plausible(value)
    if isinstance(value, bool):
        raise CellError("应为日期，不是是/否", "expected a date, not a yes/no value")
    if isinstance(value, int | float):
        if SERIAL_MIN <= value <= SERIAL_MAX:
            return serial_to_date(value)
        raise CellError("应为日期（如 2018-04-13），不是数字", "expected a date like 2018-04-13, not a number")
    text = nfkc(value)
    for pat in _DATE_PATTERNS:
        m = pat.match(text)
        if m:
            return _plausible(_ymd(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    m = _MONTH_DAY.match(text.replace(" ", ""))
    if m:
        return _plausible(_ymd(year, int(m.group(1)), int(m.group(2))))
    if text.isdigit() and SERIAL_MIN <= int(text) <= SERIAL_MAX:
        return serial_to_date(int(text))  # a serial number that lost its date format in a CSV export
    raise CellError("不是日期；请写成 2018-04-13", "not a date; write it like 2018-04-13")


def _ymd(y: int, m: int, d: int) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise CellError(f"日期不存在（{y}年{m}月{d}日）", f"no such date ({y}-{m:02d}-{d:02d})") from None


def _plausible(day: dt.date) -> dt.date:
    if day < EARLIEST:
        raise CellError("日期不合理（早于 2000 年）", "implausible date (before 2000)")
    return day


# --- periods -------------------------------------------------------------------------------------

_PERIOD_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(\d{4})-?W(\d{1,2})\+2$", re.I), "biweek"),
    (re.compile(r"^(\d{4})-?W(\d{1,2})$", re.I), "week"),
    (re.compile(r"^(\d{4})年第(\d{1,2})周$"), "week"),
    (re.compile(r"^(\d{4})[-/.]?(\d{1,2})H([12])$", re.I), "half_month"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(上|下)半月$"), "half_month"),
    (re.compile(r"^(\d{4})[-/.]?Q([1-4])$", re.I), "quarter"),
    (re.compile(r"^(\d{4})年(?:第)?([一二三四1-4])季度$"), "quarter"),
    (re.compile(r"^(\d{4})[-/.]?H([12])$", re.I), "half_year"),
    (re.compile(r"^(\d{4})年(上|下)半年$"), "half_year"),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(?:份)?$"), "month"),
    (re.compile(r"^(\d{4})(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})年?度?$"), "year"),
)

GRANULARITY = {
    "week": Frequency.WEEKLY,
    "biweek": Frequency.BIWEEKLY,
    "half_month": Frequency.HALF_MONTHLY,
    "month": Frequency.MONTHLY,
    "quarter": Frequency.QUARTERLY,
    "half_year": Frequency.HALF_YEARLY,
    "year": Frequency.YEARLY,
}

PERIOD_HELP = "周期应写成 2018-05、2018年5月、2018-Q2、2018年上半年、2018-W16 或 2018 这样的形式"
PERIOD_HELP_EN = "write the period like 2018-05, 2018-Q2, 2018-H1, 2018-W16 or 2018"


def period_kind(example: object) -> Frequency | None:
    """Which granularity a period column holds, read off its catalog example (2018-05 → monthly)."""
    if example is None:
        return None
    text = nfkc(example)
    for pat, kind in _PERIOD_PATTERNS:
        if pat.match(text):
            return GRANULARITY[kind]
    return None


def parse_period(value: object, granularity: Frequency | None, year: int, anchor: dt.date) -> Period:
    """A period written any usual way → the stable Period of campaign.periods (key 2018-05, 2018-Q2 …).

    A date (Excel turns a typed 2018-05 into 2018-05-01) means the period of ``granularity``
    containing it; with no known granularity, that one day.
    """
    if isinstance(value, dt.date | int | float) and not isinstance(value, bool):
        day = parse_date(value, year)
        return period_of(granularity or Frequency.DAILY, day, anchor)
    text = name_key(value)
    for pat, kind in _PERIOD_PATTERNS:
        m = pat.match(text)
        if m:
            return _period(kind, m.groups(), anchor)
    try:
        day = parse_date(text, year)
    except CellError:
        raise CellError(PERIOD_HELP, PERIOD_HELP_EN) from None
    return period_of(granularity or Frequency.DAILY, day, anchor)


def _period(kind: str, g: tuple[str | None, ...], anchor: dt.date) -> Period:
    y = int(g[0] or 0)
    if y < EARLIEST.year:
        raise CellError("年份不合理", "implausible year")
    try:
        if kind in ("week", "biweek"):
            monday = dt.date.fromisocalendar(y, int(g[1] or 0), 1)
            p = period_of(GRANULARITY[kind], monday, anchor)
            if kind == "biweek" and p.start != monday:
                raise CellError(
                    f"两周周期从 {p.key} 开始，不是第 {g[1]} 周", f"two-week periods start at {p.key}, not week {g[1]}"
                )
            return p
        if kind == "half_month":
            half = 1 if g[2] in ("1", "上") else 16
            return period_of(Frequency.HALF_MONTHLY, dt.date(y, int(g[1] or 0), half), anchor)
        if kind == "quarter":
            q = CN_DIGITS[str(g[1])]
            return period_of(Frequency.QUARTERLY, dt.date(y, 3 * q - 2, 1), anchor)
        if kind == "half_year":
            return period_of(Frequency.HALF_YEARLY, dt.date(y, 1 if g[1] in ("1", "上") else 7, 1), anchor)
        if kind == "month":
            return period_of(Frequency.MONTHLY, dt.date(y, int(g[1] or 0), 1), anchor)
        return period_of(Frequency.YEARLY, dt.date(y, 1, 1), anchor)
    except CellError:
        raise
    except ValueError:  # month 13, week 60 …
        raise CellError(PERIOD_HELP, PERIOD_HELP_EN) from None
