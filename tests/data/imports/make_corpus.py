"""Builds the import test corpus: real-looking township files (good/) and broken ones (bad/).

Run once from the project root; the outputs are kept in the repository:

    .venv/bin/python tests/data/imports/make_corpus.py

Every bad file has exactly the problems its name says (listed with their expected messages in
tests/test_import_corpus.py). The 200 000-row file is not kept: tests build it with ``huge_csv``.
Dates are around April 2018; the tests import "as of" 2018-04-23 09:00 (Asia/Shanghai).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GOOD, BAD = HERE / "good", HERE / "bad"

DAYS_HEADER = ["日期", "乡镇", "村", "姓名", "身份", "驻村天数", "工作内容"]
DAYS_ROWS = [
    ["2018-04-16", "瓦房镇", "瓦房村", "张志刚", "第一书记", "5", "入户走访、项目调度"],
    ["2018/4/16", "瓦房镇", "荣华村", "李明", "第一书记", "５", "入户走访"],  # full-width 5
    ["2018-04-17", "瓦房镇", "荣华村", "王海", "驻村工作队", "2天", ""],
    ["2018年4月18日", "瓦房", "长山村委会", "刘伟", "市级包保领导", "1", "调研产业项目"],
]


def serial(day: dt.date) -> int:
    """Excel's serial number of a date (what a date looks like when its cell format is lost)."""
    return (day - dt.date(1899, 12, 30)).days


def write_csv(path: Path, rows: Iterable[Sequence[Any]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)  # Excel writes CRLF
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(
    path: Path,
    sheets: dict[str, Sequence[Any]],
    merges: dict[str, list[str]] | None = None,
    formats: dict[str, dict[str, str]] | None = None,
) -> Path:
    """Sheets of rows (a row may be None for an empty line); merges/formats keyed by sheet name."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row or [], start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
        for ref in (merges or {}).get(name, []):
            ws.merge_cells(ref)
        for ref, fmt in (formats or {}).get(name, {}).items():
            ws[ref].number_format = fmt
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def huge_csv(path: Path, rows: int = 200_000) -> Path:
    """A whole-city export far over the row limit (built by the tests, not kept in the repo)."""
    lines = [",".join(DAYS_HEADER)]
    line = "2018-04-16,瓦房镇,瓦房村,张志刚,第一书记,5,入户走访"
    lines.extend(line for _ in range(rows))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


# --- good files ----------------------------------------------------------------------------------


def good_files() -> list[Path]:
    out = []
    # 党委会会议纪要: a title row merged above the header (allowed), a 序号 column, real date cells,
    # and pre-numbered empty rows below the data (skipped).
    minutes = [
        ["瓦房镇2018年扶贫工作专题党委会会议纪要登记表"],
        ["序号", "会议日期", "乡镇", "参会人员", "研究议题", "发现问题", "记录人"],
        [
            1,
            dt.date(2018, 3, 28),
            "瓦房镇",
            "乡镇党委成员、驻村工作队、村党支部书记、第一书记",
            "入户走访情况汇报；春耕备耕",
            "3户饮水设备待维修",
            "扶贫专干",
        ],
        [
            2,
            dt.date(2018, 4, 13),
            "瓦房镇",
            "乡镇党委成员、驻村工作队、第一书记",
            "研究解决饮水设备维修问题",
            None,
            "扶贫专干",
        ],
        *[[n] for n in range(3, 19)],
    ]
    out.append(
        write_xlsx(
            GOOD / "瓦房镇扶贫工作专题党委会会议纪要.xlsx",
            {"会议纪要": minutes},
            {"会议纪要": ["A1:G1"]},
            {"会议纪要": {"B3": "yyyy-mm-dd", "B4": 'yyyy"年"m"月"d"日"'}},
        )
    )
    # 驻村工作天数: GBK, as Chinese Excel saves “CSV (逗号分隔)”; full-width digit, “2天”, short township name.
    out.append(write_csv(GOOD / "瓦房镇驻村工作天数-第16周.csv", [DAYS_HEADER, *DAYS_ROWS], "gbk"))
    # 入户走访记录: a date that lost its format (serial number), 是/否 and Excel TRUE/FALSE.
    visits = [
        [
            "乡镇",
            "村",
            "走访日期",
            "走访人",
            "身份",
            "户主姓名",
            "是否贫困户",
            "走访内容",
            "群众反映问题",
            "是否当场化解",
        ],
        [
            "瓦房镇",
            "瓦房村委会",
            serial(dt.date(2018, 4, 12)),
            "张志刚",
            "第一书记",
            "赵大山",
            "是",
            "五问四讲三看一化解",
            "饮水设备冬季上冻",
            "否",
        ],
        [
            "瓦房镇",
            "瓦房村委会",
            dt.date(2018, 4, 12),
            "张志刚",
            "第一书记",
            "钱二",
            "是",
            "五问四讲三看一化解",
            None,
            None,
        ],
        ["瓦房镇", "荣华村", dt.date(2018, 4, 3), "孙丽", "乡镇包保干部", "周三", True, "政策宣传", None, None],
        ["瓦房镇", "荣华村", dt.date(2018, 4, 10), "吴军", "巩固回访小组", "郑四", False, "巩固回访", "无", "是"],
    ]
    out.append(write_xlsx(GOOD / "瓦房镇入户走访记录-4月.xlsx", {"入户走访": visits}))
    out.append(households_register())
    # 月度统计表: UTF-8 with BOM, the month written 2018年3月, the rates left for the system to compute.
    stats_header = [
        "统计月份",
        "乡镇",
        "新识别贫困人口",
        "返贫人口",
        "自然死亡贫困人口",
        "调整变动原因",
        "养老保险应参保人数",
        "已参保人数",
        "本月办理参保人数",
        "所需缴费金额",
        "养老保险参保率",
        "合作医疗应参合人数",
        "已参合人数",
        "合作医疗参合率",
        "符合低保条件人数",
        "已纳入低保人数",
        "低保纳入率",
        "矛盾问题化解数",
        "未化解数",
        "填报人",
    ]
    stats = [
        "2018年3月",
        "瓦房镇",
        3,
        0,
        2,
        "2人自然死亡；3人因病新纳入",
        812,
        801,
        6,
        600,
        "",
        1530,
        1521,
        "",
        214,
        214,
        "",
        11,
        2,
        "扶贫专干",
    ]
    out.append(write_csv(GOOD / "瓦房镇扶贫月度统计表-2018年3月.csv", [stats_header, stats], "utf-8-sig"))
    # 扶贫日志抽查: 组织部's own file; the rate column left empty (computed: 12/40, 9/30).
    checks = [
        [
            "抽查日期",
            "乡镇",
            "村",
            "被抽查人",
            "身份",
            "日志份数",
            "抽查份数",
            "抽查率",
            "是否已签字审核",
            "发现问题",
            "抽查人",
        ],
        [dt.date(2018, 4, 10), "瓦房镇", "瓦房村", "张志刚", "第一书记", 40, 12, None, "是", None, "组织部 王五"],
        [
            dt.date(2018, 4, 11),
            "瓦房镇",
            "荣华村",
            "王海",
            "驻村工作队",
            30,
            9,
            None,
            "是",
            "3月下旬记录不全",
            "组织部 王五",
        ],
    ]
    out.append(write_xlsx(GOOD / "组织部扶贫日志抽查审核记录.xlsx", {"抽查记录": checks}))
    # 职责完成登记: by key or by name, a period typed 2018-03 (text) or turned into a date by Excel.
    done = [
        ["职责编号", "职责名称", "单位", "乡镇", "周期", "完成日期", "完成值", "说明"],
        ["i08-archive-check", None, "扶贫办", None, "2018-03", None, 100, "会同档案局检查 18 个乡镇"],
        [None, "检查各乡镇扶贫档案管理", "扶贫办", None, None, dt.date(2018, 4, 20), 60, "4月检查 11 个乡镇"],
        ["i07-display-check", None, "瓦房镇", None, dt.date(2018, 4, 1), None, None, "公示栏已更新"],
        ["i02-city-leader-log-review", None, "全市", None, "2018年3月", None, None, "已签字审核"],
    ]
    out.append(
        write_xlsx(
            GOOD / "扶贫办职责完成登记.xlsx", {"职责完成登记": done}, formats={"职责完成登记": {"E4": "yyyy-mm"}}
        )
    )
    return out


REGISTER_HEADER = ["统计日期", "乡镇", "村", "建档立卡贫困户数", "备注"]


def households_register() -> Path:
    """建档立卡贫困户台账: GBK CSV, dates written three ways, short and full village names."""
    rows = [
        REGISTER_HEADER,
        ["2018-04-01", "瓦房镇", "瓦房村委会", "2", ""],
        ["2018/4/1", "瓦房", "荣华村", "3", "1户新识别纳入"],
        ["2018年4月1日", "瓦房镇", "长山村", "5", "2户自然死亡销户"],
    ]
    return write_csv(GOOD / "瓦房镇建档立卡贫困户台账.csv", rows, "gbk")


# --- bad files -----------------------------------------------------------------------------------


def bad_files() -> list[Path]:
    out = []
    rows = [DAYS_HEADER, *DAYS_ROWS]
    # Encodings: one GBK line pasted into a UTF-8 file; UTF-16 without BOM; Big5 (decodes as garbage).
    mixed = io.BytesIO()
    mixed.write(",".join(DAYS_HEADER).encode("utf-8") + b"\r\n")
    mixed.write(",".join(DAYS_ROWS[0]).encode("utf-8") + b"\r\n")
    mixed.write(",".join(DAYS_ROWS[1]).encode("gbk") + b"\r\n")
    (BAD / "encoding_mixed_utf8_gbk.csv").parent.mkdir(parents=True, exist_ok=True)
    (BAD / "encoding_mixed_utf8_gbk.csv").write_bytes(mixed.getvalue())
    out.append(BAD / "encoding_mixed_utf8_gbk.csv")
    out.append(write_csv(BAD / "encoding_utf16_without_bom.csv", rows[:2], "utf-16-le"))
    big5 = [
        ["日期", "鄉鎮", "村", "姓名", "身份", "駐村天數", "工作內容"],
        ["2018-04-16", "瓦房鎮", "瓦房村", "張志剛", "第一書記", "5", "入戶走訪"],
    ]
    out.append(write_csv(BAD / "encoding_big5.csv", big5, "big5"))
    # Columns: 驻村天数 missing; an extra 备注 column.
    out.append(write_csv(BAD / "missing_column.csv", [r[:5] + r[6:] for r in rows]))
    out.append(write_csv(BAD / "extra_column.csv", [[*rows[0], "备注"], *[[*r, "无"] for r in rows[1:]]]))
    # Merged cells: 村 merged over two rows (the second row's village is empty in the file).
    merged = [
        DAYS_HEADER,
        ["2018-04-16", "瓦房镇", "荣华村", "李明", "第一书记", 5, None],
        ["2018-04-17", "瓦房镇", None, "王海", "驻村工作队", 2, None],
    ]
    out.append(write_xlsx(BAD / "merged_cells.xlsx", {"驻村": merged}, {"驻村": ["C2:C3"]}))
    # Formulas: a total computed in the sheet.
    formulas = [DAYS_HEADER, ["2018-04-16", "瓦房镇", "瓦房村", "张志刚", "第一书记", "=2+3", None]]
    out.append(write_xlsx(BAD / "formulas.xlsx", {"驻村": formulas}))
    # Text in a number cell, a number with the wrong unit.
    text_num = [
        DAYS_HEADER,
        ["2018-04-16", "瓦房镇", "瓦房村", "张志刚", "第一书记", "五天", None],
        ["2018-04-16", "瓦房镇", "荣华村", "李明", "第一书记", "40小时", None],
    ]
    out.append(write_xlsx(BAD / "text_in_number_cells.xlsx", {"驻村": text_num}))
    # Negative, over the maximum, and future-dated values.
    out.append(
        write_csv(
            BAD / "negative_value.csv",
            [DAYS_HEADER, ["2018-04-16", "瓦房镇", "瓦房村", "张志刚", "第一书记", "-2", ""]],
        )
    )
    out.append(
        write_csv(
            BAD / "future_date.csv", [DAYS_HEADER, ["2018-05-21", "瓦房镇", "瓦房村", "张志刚", "第一书记", "5", ""]]
        )
    )
    # Unknown village (a typo), a village of another township, an ambiguous short township name.
    places = [
        DAYS_HEADER,
        ["2018-04-16", "瓦房镇", "瓦房屯", "张志刚", "第一书记", 5, None],
        ["2018-04-16", "瓦房镇", "永红村", "李明", "第一书记", 5, None],
        ["2018-04-16", "万宝", "新民村", "王海", "第一书记", 5, None],
    ]
    out.append(write_xlsx(BAD / "unknown_places.xlsx", {"驻村": places}))
    # The same row twice; two rows for one township and month in a per-month report.
    out.append(write_csv(BAD / "duplicate_rows.csv", [DAYS_HEADER, DAYS_ROWS[0], DAYS_ROWS[2], DAYS_ROWS[0]]))
    stats_header = [
        "统计月份",
        "乡镇",
        "新识别贫困人口",
        "返贫人口",
        "自然死亡贫困人口",
        "养老保险应参保人数",
        "已参保人数",
        "合作医疗应参合人数",
        "已参合人数",
        "符合低保条件人数",
        "已纳入低保人数",
        "矛盾问题化解数",
        "未化解数",
    ]
    stat = ["2018-03", "瓦房镇", 3, 0, 2, 812, 801, 1530, 1521, 214, 214, 11, 2]
    out.append(write_csv(BAD / "same_township_month_twice.csv", [stats_header, stat, [*stat[:2], 4, *stat[3:]]]))
    # Empty workbook; header but no data; a header nobody knows; an old .xls.
    out.append(write_xlsx(BAD / "empty_sheet.xlsx", {"Sheet1": []}))
    out.append(write_xlsx(BAD / "header_only.xlsx", {"驻村": [DAYS_HEADER]}))
    out.append(write_csv(BAD / "unknown_headers.csv", [["名称", "数量", "金额"], ["化肥", "3", "120"]]))
    (BAD / "old_format.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    out.append(BAD / "old_format.xls")
    return out


def township_mistakes(path: Path) -> Path:
    """What a township clerk really sends wrong: several problems at once, each on its own row."""
    rows = [
        ["瓦房镇驻村工作天数登记（第17周）"],
        ["序号", *DAYS_HEADER],
        [1, dt.date(2018, 4, 23), "瓦房镇", "瓦房村", "张志刚", "第一书记", 5, None],
        [2, dt.date(2018, 4, 23), "瓦房镇", "瓦房屯", "李明", "第一书记", 5, None],
        [3, dt.date(2018, 4, 24), "瓦房镇", "荣华村", "王海", "驻村工作队", "五", None],
        [4, dt.date(2018, 5, 2), "瓦房镇", "长山村", "刘伟", "书记", 1, None],
    ]
    return write_xlsx(path, {"第17周": rows}, {"第17周": ["A1:H1"]})


def main() -> None:
    files = [*good_files(), *bad_files(), township_mistakes(BAD / "瓦房镇驻村工作天数-第17周-有错.xlsx")]
    for f in files:
        assert zipfile.is_zipfile(f) == f.suffix.endswith("xlsx"), f
        print(f.relative_to(HERE))


if __name__ == "__main__":
    main()
