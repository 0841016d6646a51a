"""The bad-file corpus: each file is rejected whole, with every problem named precisely (file,
sheet, row as the spreadsheet shows it, column, value, reason in Chinese and English), and the
database is exactly as it was. Files: tests/data/imports/bad/ (built by make_corpus.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tasks.imports import read as read_module
from tasks.imports.importer import ImportResult, import_bytes, import_file
from tests.data.imports.make_corpus import DAYS_HEADER, huge_csv, write_xlsx
from tests.data.imports.support import BAD, CAMPAIGN, NOW, counts

# file → [(row, column, words the reason must contain)], in report order
CORPUS: dict[str, list[tuple[int | None, str | None, str]]] = {
    "encoding_mixed_utf8_gbk.csv": [(3, None, "这一行不是 UTF-8 编码")],
    "encoding_utf16_without_bom.csv": [(None, None, "文件含有空字节")],
    "encoding_big5.csv": [(1, None, "如果表头显示为乱码")],
    "missing_column.csv": [(1, "驻村天数", "缺少必填列")],
    "extra_column.csv": [(1, "备注", "多出的列")],
    "merged_cells.xlsx": [(2, "村", "合并单元格")],
    "formulas.xlsx": [(2, "驻村天数", "单元格 F2 含有公式")],
    "text_in_number_cells.xlsx": [(2, "驻村天数", "不是数字"), (3, "驻村天数", "单位应为“天”，不是“小时”")],
    "negative_value.csv": [(2, "驻村天数", "不能为负数")],
    "future_date.csv": [(2, "日期", "日期晚于导入日期 2018-04-23")],
    "unknown_places.xlsx": [
        (2, "村", "瓦房镇没有名为“瓦房屯”的村；最接近的是：瓦房村委会"),
        (3, "村", "永红村委会属于万宝镇，不属于瓦房镇"),
        (4, "乡镇", "“万宝”同时对应 万宝乡、万宝镇"),
    ],
    "duplicate_rows.csv": [(4, None, "与第 2 行完全相同（重复行）")],
    "same_township_month_twice.csv": [(3, "乡镇", "同一单位同一周期（2018-03）已在第 2 行填写")],
    "empty_sheet.xlsx": [(None, None, "文件没有内容")],
    "header_only.xlsx": [(None, None, "只有表头，没有数据行")],
    "unknown_headers.csv": [(1, None, "表头与任何一种报表都不相符")],
    "old_format.xls": [(None, None, "旧版 Excel（.xls）")],
    "瓦房镇驻村工作天数-第17周-有错.xlsx": [
        (4, "村", "最接近的是：瓦房村委会"),
        (5, "日期", "日期晚于导入日期"),
        (5, "驻村天数", "不是数字"),
        (6, "日期", "日期晚于导入日期"),
        (6, "身份", "是不是“第一书记”？"),
    ],
}


def rejected(result: ImportResult) -> list[tuple[int | None, str | None, str]]:
    assert result.status == "rejected" and result.submission_id is None
    for i in result.issues:
        assert i.file == result.file and i.zh and i.en  # both languages, always the file's name
    return [(i.row, i.column, i.zh) for i in result.issues]


def test_the_corpus_is_complete() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_it_rejects_a_bad_file_with_every_problem_and_writes_nothing(session: Session, name: str) -> None:
    before = counts(session)
    result = import_file(session, BAD / name, campaign=CAMPAIGN, now=NOW)
    got = rejected(result)
    assert len(got) == len(CORPUS[name]), "\n".join(i.line() for i in result.issues)
    for (row, column, reason), (want_row, want_column, words) in zip(got, CORPUS[name], strict=True):
        assert (row, column) == (want_row, want_column)
        assert words in reason
    assert counts(session) == before


def test_it_rejects_an_unknown_village_with_the_closest_matches(session: Session) -> None:
    result = import_file(session, BAD / "unknown_places.xlsx", campaign=CAMPAIGN, now=NOW)
    first = result.issues[0]
    assert (first.sheet, first.row, first.column, first.value) == ("驻村", 2, "村", "瓦房屯")
    assert "closest: 瓦房村委会" in first.en
    assert first.line().startswith("unknown_places.xlsx｜工作表“驻村”｜第 2 行｜列“村”｜值“瓦房屯”｜")


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return huge_csv(tmp_path_factory.mktemp("huge") / "全市驻村天数导出.csv", 200_000)


def test_it_refuses_a_200k_row_file_quickly_with_the_limit_in_the_message(session: Session, huge: Path) -> None:
    before = counts(session)
    started = time.perf_counter()
    result = import_file(session, huge, campaign=CAMPAIGN, now=NOW)
    assert time.perf_counter() - started < 2.0
    (issue,) = result.issues
    assert "超过单个文件 50000 行数据的上限" in issue.zh and "split it" in issue.en
    assert counts(session) == before


def test_the_row_limit_holds_for_excel_files_too(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_module, "MAX_DATA_ROWS", 5)
    rows = [DAYS_HEADER, *[["2018-04-16", "瓦房镇", "瓦房村", f"人{n}", "第一书记", 5] for n in range(20)]]
    path = write_xlsx(tmp_path / "big.xlsx", {"驻村": rows})
    (issue,) = import_file(session, path, campaign=CAMPAIGN, now=NOW).issues
    assert "超过单个文件 5 行数据的上限" in issue.zh


def test_it_refuses_a_file_over_the_size_limit(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read_module, "MAX_FILE_BYTES", 1024 * 1024)
    result = import_bytes(session, "大文件.csv", b"x" * (2 * 1024 * 1024), campaign=CAMPAIGN, now=NOW)
    assert "文件大小 2.0 MB，超过单个文件 1 MB 的上限" in result.issues[0].zh


COMPLETION_HEADER = "职责编号,职责名称,单位,乡镇,周期,完成日期,完成值,说明\n"


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("i03-party-meeting,,瓦房镇,,2018-04H1,,,", "职责编号", "这项职责须上报“扶贫工作专题党委会会议纪要”"),
        ("i08-archive-chek,,扶贫办,,2018-04,,,", "职责编号", "最接近的是：i08-archive-check"),
        (",检查各乡镇档案,扶贫办,,2018-04,,,", "职责名称", "最接近的是：检查各乡镇扶贫档案管理"),
        ("i08-archive-check,,财政局,,2018-04,,,", "单位", "这项职责由“扶贫办”负责"),
        ("i08-archive-check,,扶贫办,,2018-Q1,,,", "周期", "跨越了这项职责的多个周期"),
        ("i08-archive-check,,扶贫办,,,,,", "周期", "“周期”和“完成日期”至少填一项"),
        ("i08-archive-check,,扶贫办,,2018-06,,,", "周期", "周期 2018-06 还没有开始"),
        ("i23-fault-repair,,农电公司,,2018-04,,,", "职责编号", "事件类职责"),
        ("i07-display-check,检查各乡镇扶贫档案管理,瓦房镇,,2018-04,,,", "职责编号", "与职责名称"),
    ],
)
def test_it_rejects_completion_rows_that_do_not_name_a_real_duty_unit_and_period(
    session: Session, row: str, column: str, words: str
) -> None:
    before = counts(session)
    result = import_bytes(session, "登记.csv", (COMPLETION_HEADER + row + "\n").encode(), campaign=CAMPAIGN, now=NOW)
    (issue,) = result.issues
    assert (issue.row, issue.column) == (2, column) and words in issue.zh, issue.line()
    assert counts(session) == before


def test_a_stated_rate_that_contradicts_its_parts_is_refused(session: Session) -> None:
    text = (
        "抽查日期,乡镇,村,被抽查人,身份,日志份数,抽查份数,抽查率\n"
        "2018-04-10,瓦房镇,瓦房村,张志刚,第一书记,40,12,80\n"
        "2018-04-10,瓦房镇,荣华村,李明,第一书记,10,12,\n"
    )
    issues = import_bytes(session, "抽查.csv", text.encode(), campaign=CAMPAIGN, now=NOW).issues
    assert [(i.row, i.column, i.zh) for i in issues] == [
        (2, "抽查率", "与抽查份数÷日志份数×100＝30.0 不符"),
        (3, "抽查份数", "抽查份数（12）大于日志份数（10），比率超过 100%"),
    ]


def test_data_right_of_the_last_header_is_not_silently_dropped(session: Session) -> None:
    text = "日期,乡镇,村,姓名,身份,驻村天数\n2018-04-16,瓦房镇,瓦房村,张志刚,第一书记,5,入户走访\n"
    (issue,) = import_bytes(session, "多一列.csv", text.encode(), campaign=CAMPAIGN, now=NOW).issues
    assert (issue.row, issue.column, issue.value) == (2, "G 列", "入户走访")
    assert "有数据但没有表头" in issue.zh
