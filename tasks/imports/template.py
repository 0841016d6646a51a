"""An .xlsx template per report type: the headers, one example row, and a 说明 sheet.

The template is built so that what a clerk types survives Excel: period and code columns are
formatted as text (Excel would turn 2018-05 into a date), date columns as dates, closed lists and
是/否 get drop-downs. The importer skips the 说明 sheet and accepts the example row's formats.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plan.schema import Column, Plan, ReportType
from tasks.imports.read import MAX_DATA_ROWS
from tasks.imports.text import name_key
from tasks.imports.validate import ratio_columns, report_types

TYPE_NAMES = {
    "text": "文字",
    "int": "整数",
    "number": "数字",
    "date": "日期",
    "bool": "是/否",
    "township": "乡镇名称",
    "village": "村名称",
    "department": "部门名称",
    "person": "姓名",
}
TEMPLATE_ROWS = 500  # rows pre-formatted (text columns as text, drop-downs)


def find_report_type(plan: Plan, key_or_name: str) -> ReportType:
    types = report_types(plan)
    for rt in types.values():
        if key_or_name in (rt.key, rt.name) or name_key(key_or_name) == name_key(rt.name):
            return rt
    known = "、".join(f"{k}（{r.name}）" for k, r in types.items())
    raise KeyError(f"没有报表类型“{key_or_name}”；可选：{known}")


def _example(col: Column, rt: ReportType) -> object:
    value = col.example
    if value is None:
        return None
    if col.type == "date":
        return dt.date.fromisoformat(str(value))
    if col.type == "bool":
        return "是" if value in (True, "true", "是") else "否"
    return value


def _rules(col: Column, rt: ReportType) -> str:
    bits = []
    if col.field == rt.period_field:
        bits.append("周期，如 2018-05、2018-Q2")
    if col.min is not None:
        bits.append(f"≥ {col.min:g}")
    if col.max is not None:
        bits.append(f"≤ {col.max:g}")
    if col.type in ("int", "number") and (col.min is None or col.min >= 0):
        bits.append("不能为负数")
    if col.type == "date":
        bits.append("不能晚于上报日期")
    if col.field in ratio_columns(rt):
        bits.append("不填则按公式自动计算")
    return "；".join(bits)


def write_template(plan: Plan, key_or_name: str, out: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    rt = find_report_type(plan, key_or_name)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = rt.name[:31]
    bold, required_fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for i, col in enumerate(rt.columns, start=1):
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i, value=col.header)
        cell.font = bold
        if col.required:
            cell.fill = required_fill
        ws.column_dimensions[letter].width = max(10, min(30, len(col.header) * 2 + 4))
        example = ws.cell(row=2, column=i, value=_example(col, rt))
        example.font = Font(italic=True, color="808080")  # visibly the example, not data
        fmt = "yyyy-mm-dd" if col.type == "date" else "@" if col.type in ("text", "person") else None
        if fmt:
            for r in range(2, TEMPLATE_ROWS + 2):
                ws.cell(row=r, column=i).number_format = fmt
        if isinstance(example.value, str) and col.type in ("text", "person"):
            example.data_type = "s"
        choices = col.values or (["是", "否"] if col.type == "bool" else None)
        if choices and len(",".join(choices)) < 250:
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=not col.required)
            dv.error, dv.errorTitle = f"请从列表中选择：{'、'.join(choices)}", col.header
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
    ws.freeze_panes = "A2"

    notes = wb.create_sheet("说明")
    notes.append([f"{rt.name}（报表类型 {rt.key}）"])
    notes["A1"].font = Font(bold=True, size=13)
    notes.append([rt.description])
    notes.append(["第 2 行是示例，填写时请覆盖或删除（原样上报会被退回）。"])
    notes.append(
        [
            "填写要求：第一行是表头，不要改动；一行一条记录；不要合并单元格；不要使用公式（只填数值）；"
            "日期写成 2018-04-13；是/否 列填“是”或“否”；黄色表头为必填列。"
        ]
    )
    notes.append(
        [f"乡镇可写全称（瓦房镇）或简称（瓦房）；村写全称（瓦房村委会）或“瓦房村”。单个文件不超过 {MAX_DATA_ROWS} 行。"]
    )
    notes.append([])
    heads = ["列名", "必填", "类型", "单位", "取值要求", "可选值", "示例", "说明"]
    notes.append(heads)
    for c in notes[notes.max_row]:
        c.font = bold
    for col in rt.columns:
        notes.append(
            [
                col.header,
                "是" if col.required else "否",
                "周期" if col.field == rt.period_field else TYPE_NAMES[col.type],
                col.unit or "",
                _rules(col, rt),
                "、".join(col.values or []),
                "" if col.example is None else str(_example(col, rt)),
                col.help or "",
            ]
        )
    for letter, width in zip("ABCDEFGH", (16, 6, 10, 6, 28, 30, 22, 60), strict=True):
        notes.column_dimensions[letter].width = width
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
