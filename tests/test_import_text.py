"""What clerks type, read the way they meant it (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from tasks.imports.errors import CellError
from tasks.imports.read import read_bytes
from tasks.imports.text import header_key, parse_bool, parse_date, parse_int, parse_number, parse_period
from tests.data.imports.make_corpus import DAYS_HEADER, DAYS_ROWS
from tests.data.imports.support import GOOD

ANCHOR = dt.date(2018, 3, 20)
APR13 = dt.date(2018, 4, 13)


@pytest.mark.parametrize(
    "cell",
    [
        "2018-04-13",
        "2018/4/13",
        "2018.4.13",
        "2018年4月13日",
        "20180413",
        "4月13日",
        "２０１８－０４－１３",
        "2018-04-13 00:00:00",
        43203,
        43203.0,
        "43203",
        dt.datetime(2018, 4, 13, 8, 30),
        APR13,
    ],
)
def test_it_reads_every_usual_way_of_writing_a_date(cell: object) -> None:
    assert parse_date(cell, 2018) == APR13


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("2018-02-30", "日期不存在"),
        ("下周一", "不是日期"),
        (5, "不是数字"),
        ("1899-12-31", "早于 2000 年"),
        (True, "不是是/否"),
    ],
)
def test_it_says_why_a_date_is_not_a_date(cell: object, words: str) -> None:
    with pytest.raises(CellError) as err:
        parse_date(cell, 2018)
    assert words in err.value.zh


@pytest.mark.parametrize(
    ("cell", "unit", "value"),
    [("５", "天", 5), ("5天", "天", 5), (" 5 ", None, 5), (5.0, "天", 5), ("1,200", "元", 1200)],
)
def test_it_reads_full_width_digits_and_the_column_s_own_unit(cell: object, unit: str | None, value: int) -> None:
    assert parse_int(cell, unit) == value


def test_a_percentage_may_carry_its_sign() -> None:
    assert parse_number("98.6%", "%") == 98.6


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("五", "不是数字"),
        ("5小时", "单位应为“天”"),
        ("5.5", "应为整数"),
        (True, "不是是/否"),
        (dt.date(2018, 1, 1), "日期格式"),
    ],
)
def test_it_says_why_a_number_is_not_one(cell: object, words: str) -> None:
    with pytest.raises(CellError) as err:
        parse_int(cell, "天")
    assert words in err.value.zh


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("是", True),
        ("否", False),
        ("√", True),
        ("×", False),
        (True, True),
        ("TRUE", True),
        ("false", False),
        (1, True),
        ("有", True),
        ("无", False),
    ],
)
def test_it_reads_yes_and_no(cell: object, value: bool) -> None:
    assert parse_bool(cell) is value


def test_it_refuses_a_maybe() -> None:
    with pytest.raises(CellError, match="是"):
        parse_bool("不确定")


@pytest.mark.parametrize(
    ("cell", "key"),
    [
        ("2018-05", "2018-05"),
        ("2018年5月", "2018-05"),
        ("201805", "2018-05"),
        ("2018/5", "2018-05"),
        ("2018-Q2", "2018-Q2"),
        ("2018年第二季度", "2018-Q2"),
        ("2018年2季度", "2018-Q2"),
        ("2018-H1", "2018-H1"),
        ("2018年上半年", "2018-H1"),
        ("2018年下半年", "2018-H2"),
        ("2018-05H2", "2018-05H2"),
        ("2018年5月上半月", "2018-05H1"),
        ("2018-W16", "2018-W16"),
        ("2018年第16周", "2018-W16"),
        ("2018-W16+2", "2018-W16+2"),
        ("2018", "2018"),
        ("2018年", "2018"),
    ],
)
def test_it_reads_every_usual_way_of_writing_a_period(cell: str, key: str) -> None:
    assert parse_period(cell, None, 2018, ANCHOR).key == key


def test_a_date_in_a_monthly_column_means_its_month() -> None:
    from campaign.periods import Frequency

    assert parse_period(dt.datetime(2018, 5, 1), Frequency.MONTHLY, 2018, ANCHOR).key == "2018-05"


def test_a_two_week_period_must_start_where_the_campaign_s_fortnights_do() -> None:
    with pytest.raises(CellError, match="两周周期"):
        parse_period("2018-W17+2", None, 2018, ANCHOR)


@pytest.mark.parametrize(
    ("cell", "key"),
    [("驻村天数（天）", "驻村天数"), (" 驻 村 天 数 ", "驻村天数"), ("*村", "村"), ("驻村天数\n(天)", "驻村天数")],
)
def test_headers_match_with_units_marks_and_spaces(cell: str, key: str) -> None:
    assert header_key(cell) == key


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_it_detects_the_csv_encoding(encoding: str) -> None:
    text = "\r\n".join(",".join(r) for r in [DAYS_HEADER, DAYS_ROWS[0]]) + "\r\n"
    raw, issues = read_bytes("x.csv", text.encode(encoding))
    assert issues == [] and raw is not None
    assert raw.sheets[0].rows[1] == (2, DAYS_ROWS[0])


def test_an_excel_file_is_read_as_excel_whatever_its_name() -> None:
    data = (GOOD / "瓦房镇入户走访记录-4月.xlsx").read_bytes()
    raw, issues = read_bytes("走访.csv", data)
    assert raw is not None and raw.kind == "xlsx" and issues == []


def test_tab_separated_text_is_read_too() -> None:
    text = "\t".join(DAYS_HEADER) + "\n" + "\t".join(DAYS_ROWS[0]) + "\n"
    raw, _ = read_bytes("x.txt", text.encode("utf-8"))
    assert raw is not None and raw.sheets[0].rows[0][1] == DAYS_HEADER
