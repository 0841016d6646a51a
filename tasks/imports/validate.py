"""Raw sheets → typed records, every row checked against its report type's columns.

Everything is driven by the catalog's ``report_types``: headers, types, required, unit, min/max,
closed value lists, which column names the unit and which dates the row. Nothing here knows a
particular report, except the built-in ``duty_completion`` whose rows name their duty.
All problems of a file are collected (never stop at the first).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from plan.schema import Column, Plan, ReportType
from tasks.imports import builtin
from tasks.imports.divisions import DivisionIndex
from tasks.imports.errors import CellError, Issue, show
from tasks.imports.read import HEADER_SEARCH_ROWS, Cell, RawFile, Sheet
from tasks.imports.text import (
    clean_text,
    header_key,
    is_blank,
    name_key,
    parse_bool,
    parse_date,
    parse_int,
    parse_number,
    parse_period,
    period_kind,
)

INSTRUCTION_SHEETS = {"说明", "填表说明", "填报说明", "instructions"}
IGNORED_HEADERS = {"序号", "no", "no.", "#"}  # a running number column is harmless and very common
TOTAL_ROWS = {"合计", "总计", "小计", "total"}  # a totals row is derived, not a fact: skipped
RATE_TOLERANCE = 1.0  # percentage points between a stated rate and its parts (rounding)
_RATIO = re.compile(r"^(.+?)÷(.+?)×100$")


@dataclass(frozen=True)
class ImportContext:
    plan: Plan
    campaign_id: int
    index: DivisionIndex
    now: dt.datetime
    types: dict[str, ReportType]

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(ZoneInfo(self.plan.campaign.timezone)).date()

    @property
    def year(self) -> int:
        return self.plan.campaign.year

    @property
    def anchor(self) -> dt.date:
        return self.plan.campaign_window()[0]


def report_types(plan: Plan) -> dict[str, ReportType]:
    """The catalog's report types and the built-in ones, by key."""
    types = {r.key: r for r in plan.report_types}
    types.setdefault(builtin.DUTY_COMPLETION, builtin.duty_completion_type(plan))
    return types


@dataclass
class Record:
    sheet: str | None
    row: int
    values: dict[str, Any]  # field → JSON value: official names, ISO dates, period keys
    unit_code: str
    township_code: str | None
    occurred_on: dt.date
    period_key: str | None
    duty: str | None = None  # the duty a duty_completion row completes

    @property
    def scope(self) -> tuple[str, str, str]:
        """The unit-period this row is about (what a corrected file replaces); completion rows add their duty."""
        return self.unit_code, self.period_key or self.occurred_on.isoformat(), self.duty or ""


@dataclass
class Parsed:
    report: ReportType | None
    records: list[Record] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def ratio_columns(rt: ReportType) -> dict[str, tuple[str, str]]:
    """% columns whose help says how they are computed (抽查份数 ÷ 日志份数 × 100) → (numerator, denominator)."""
    by_header = {header_key(c.header): c.field for c in rt.columns}

    def field_of(words: str) -> str | None:
        # The help may shorten a header (应参保人数 for 养老保险应参保人数): a unique suffix is enough.
        key = header_key(words)
        if key in by_header:
            return by_header[key]
        hits = [f for h, f in by_header.items() if h.endswith(key)]
        return hits[0] if len(hits) == 1 else None

    out = {}
    for c in rt.columns:
        if c.unit == "%" and c.help:
            m = _RATIO.match(name_key(c.help))
            num, den = (field_of(m.group(1)), field_of(m.group(2))) if m else (None, None)
            if num and den:
                out[c.field] = (num, den)
    return out


def col_letter(idx: int) -> str:
    letters = ""
    n = idx + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


# --- finding the header and the report type -------------------------------------------------------


def _matches(key: str, col: Column) -> bool:
    return key == header_key(col.header) or key.lower() == col.field


def _score(keys: list[str], rt: ReportType) -> tuple[float, int]:
    present = {k for k in keys if k and k.lower() not in IGNORED_HEADERS}
    matched = [c for c in rt.columns if any(_matches(k, c) for k in present)]
    extras = [k for k in present if not any(_matches(k, c) for c in rt.columns)]
    return len(matched) / (len(rt.columns) + len(extras)), len(matched)


def locate_header(sheet: Sheet, candidates: list[ReportType]) -> tuple[int, ReportType, float] | None:
    """(position in sheet.rows, report type, score) of the best header among the first rows."""
    best: tuple[int, ReportType, float, int] | None = None
    for pos, (_, cells) in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        keys = [header_key(c) if not is_blank(c) else "" for c in cells]
        for rt in candidates:
            score, matched = _score(keys, rt)
            if matched and (best is None or (score, matched) > (best[2], best[3])):
                best = (pos, rt, score, matched)
    if best is None:
        return None
    pos, rt, score, matched = best
    needed = 1 if len(candidates) == 1 else max(2, len([c for c in rt.columns if c.required]) // 2)
    if matched < needed or (len(candidates) > 1 and score < 0.3):
        return None
    return pos, rt, score


def _instruction(sheet: Sheet) -> bool:
    return (sheet.name or "").strip().lower() in INSTRUCTION_SHEETS


# --- the file ------------------------------------------------------------------------------------


def validate(raw: RawFile, ctx: ImportContext, type_key: str | None = None) -> Parsed:
    name = raw.name
    sheets = [s for s in raw.sheets if not _instruction(s)]
    if not any(s.rows for s in sheets):
        return Parsed(
            None,
            issues=[
                Issue(
                    name,
                    None,
                    None,
                    None,
                    None,
                    "文件没有内容（工作表都是空的）",
                    "the file has no content (every sheet is empty)",
                )
            ],
        )
    if type_key is not None and type_key not in ctx.types:
        known = "、".join(f"{k}（{r.name}）" for k, r in ctx.types.items())
        return Parsed(
            None,
            issues=[
                Issue(
                    name,
                    None,
                    None,
                    None,
                    type_key,
                    f"没有这种报表类型；可选：{known}",
                    f"unknown report type; known: {', '.join(ctx.types)}",
                )
            ],
        )
    candidates = [ctx.types[type_key]] if type_key else list(ctx.types.values())
    located: list[tuple[Sheet, int, ReportType]] = []
    issues: list[Issue] = []
    for sheet in sheets:
        if not sheet.rows:
            continue
        found = locate_header(sheet, candidates)
        if found is None:
            issues.append(_unrecognised(raw, sheet, candidates))
            continue
        located.append((sheet, found[0], found[1]))
    kinds = {rt.key for _, _, rt in located}
    if len(kinds) > 1:
        names = "；".join(f"工作表“{s.name}”是“{rt.name}”" for s, _, rt in located)
        issues.append(
            Issue(
                name,
                None,
                None,
                None,
                None,
                f"一个文件只能上报一种报表：{names}；请分成多个文件",
                "one file may hold one report type only; split the sheets into separate files",
            )
        )
    if not located or len(kinds) > 1:
        return Parsed(located[0][2] if located else None, issues=issues)
    rt = located[0][2]
    parsed = Parsed(rt, issues=issues)
    for sheet, pos, _ in located:
        _validate_sheet(raw, sheet, pos, rt, ctx, parsed)
    if not parsed.records and not parsed.issues:
        parsed.issues.append(
            Issue(name, None, None, None, None, "只有表头，没有数据行", "there is a header but no data rows")
        )
    _duplicates(raw.name, rt, parsed)
    return parsed


def _unrecognised(raw: RawFile, sheet: Sheet, candidates: list[ReportType]) -> Issue:
    first, cells = sheet.rows[0]
    seen = "、".join(show(c) for c in cells if not is_blank(c))[:80]
    if len(candidates) == 1:
        rt = candidates[0]
        zh = f"找不到“{rt.name}”的表头；应有的列：{'、'.join(c.header for c in rt.columns)}"
        en = f"no header of '{rt.key}' found; expected columns: {', '.join(c.header for c in rt.columns)}"
    else:
        kinds = "、".join(r.name for r in candidates)
        zh = f"表头与任何一种报表都不相符（可上报：{kinds}）；请用 campaign template 生成的模板填写"
        en = "the header matches no report type; fill in a template from `campaign template`"
    if raw.encoding == "gb18030":  # the fallback: garbage from another encoding decodes as GB18030 too
        zh += f"。文件按 {raw.encoding} 编码读取，如果表头显示为乱码，请在 Excel 中另存为“CSV UTF-8”"
        en += f". Read as {raw.encoding}; if the header looks garbled, save as 'CSV UTF-8'"
    return Issue(raw.name, sheet.name, first, None, seen, zh, en)


# --- one sheet -----------------------------------------------------------------------------------


def _validate_sheet(raw: RawFile, sheet: Sheet, pos: int, rt: ReportType, ctx: ImportContext, parsed: Parsed) -> None:
    header_row, header = sheet.rows[pos]
    issue = _issue_maker(raw.name, sheet.name)
    covered: set[tuple[int, int]] = set()  # cells hidden under a merge: their emptiness is not news
    for ref, first, last, c1, c2 in sheet.merged:
        if last >= header_row:
            column = _header_of(header, c1) if c1 == c2 else None
            parsed.issues.append(
                issue(
                    first,
                    column,
                    ref,
                    "合并单元格；请取消合并，并在每一行都填上内容",
                    "merged cells; unmerge them and fill in every row",
                )
            )
            covered.update((r, c) for r in range(first, last + 1) for c in range(c1, c2 + 1))
    columns: dict[int, Column] = {}
    named = {idx for idx, cell in enumerate(header) if not is_blank(cell)}  # ignored and extra ones too
    for idx, cell in enumerate(header):
        if (header_row, idx) in sheet.formulas:
            continue  # reported with the other formulas below
        if is_blank(cell):
            continue
        key = header_key(cell)
        if key.lower() in IGNORED_HEADERS:
            continue
        col = next((c for c in rt.columns if _matches(key, c)), None)
        if col is None:
            close = difflib.get_close_matches(key, [c.header for c in rt.columns], n=2, cutoff=0.5)
            hint = f"；是不是“{close[0]}”？" if close else "；"
            parsed.issues.append(
                issue(
                    header_row,
                    show(cell),
                    None,
                    f"多出的列，“{rt.name}”没有这一列{hint}本表的列为：{'、'.join(c.header for c in rt.columns)}",
                    f"extra column not in '{rt.key}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                )
            )
            continue
        if col in columns.values():
            parsed.issues.append(issue(header_row, show(cell), None, "这一列出现了两次", "this column appears twice"))
            continue
        columns[idx] = col
    for col in rt.columns:
        if col.required and col not in columns.values():
            parsed.issues.append(issue(header_row, col.header, None, "缺少必填列", "a required column is missing"))
    for (row, idx), formula in sorted(sheet.formulas.items()):
        if row >= header_row:
            parsed.issues.append(
                issue(
                    row,
                    _header_of(header, idx),
                    formula,
                    f"单元格 {col_letter(idx)}{row} 含有公式；请复制后“选择性粘贴→数值”，只上报数值",
                    f"cell {col_letter(idx)}{row} holds a formula; paste values only",
                )
            )
    for (row, idx), err in sorted(sheet.error_cells.items()):
        if row > header_row:
            parsed.issues.append(
                issue(
                    row, _header_of(header, idx), err, "单元格是错误值；请改正", "the cell holds an Excel error value"
                )
            )
    # Township columns first: a village is looked up within its row's township.
    order = sorted(columns.items(), key=lambda kv: kv[1].type != "township")
    ratios = ratio_columns(rt)
    # Only a sheet with every example column can hold the template's example row.
    may_hold_example = all(c.example is None or c in columns.values() for c in rt.columns)
    reported_unnamed: set[int] = set()
    for number, cells in sheet.rows[pos + 1 :]:
        if _is_total(cells):
            continue
        if all(is_blank(cells[i]) if i < len(cells) else True for i in columns):
            continue  # only a 序号 (or nothing we read): an unused template row
        for idx in range(len(cells)):  # data under a blank header cell, or right of the last header
            if idx not in named and not is_blank(cells[idx]) and idx not in reported_unnamed:
                reported_unnamed.add(idx)
                parsed.issues.append(
                    issue(
                        number,
                        f"{col_letter(idx)} 列",
                        show(cells[idx]),
                        "这一列有数据但没有表头；请补上表头或删除这一列",
                        "this column has data but no header",
                    )
                )
        record = _row(raw, sheet, number, cells, order, rt, ctx, parsed, covered, ratios)
        if record is not None and may_hold_example and _is_example(cells, columns):
            # Checked after parsing: an example row that does not even parse shows its real errors.
            parsed.issues.append(
                issue(
                    number,
                    None,
                    None,
                    "这是模板里的示例行；请删除或改成实际内容",
                    "this is the template's example row; delete it or overwrite it",
                )
            )
        elif record is not None:
            parsed.records.append(record)


def _is_example(cells: list[Cell], columns: dict[int, Column]) -> bool:
    """True when every column with an example holds exactly that example (the template's row 2)."""
    compared = 0
    for idx, col in columns.items():
        if col.example is None:
            continue
        cell = cells[idx] if idx < len(cells) else None
        if is_blank(cell):
            return False
        if isinstance(cell, dt.datetime | dt.date):
            cell = (cell.date() if isinstance(cell, dt.datetime) else cell).isoformat()
        example = col.example
        if isinstance(example, bool):
            example = "是" if example else "否"
            cell = "是" if cell is True else "否" if cell is False else cell
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            cell = _fmt(cell)
        if isinstance(example, int | float):
            example = _fmt(example)
        if name_key(cell) != name_key(example):
            return False
        compared += 1
    return compared >= 3


def _header_of(header: list[Cell], idx: int) -> str:
    return show(header[idx]) if idx < len(header) and not is_blank(header[idx]) else f"{col_letter(idx)} 列"


def _is_total(cells: list[Cell]) -> bool:
    first = next((c for c in cells if not is_blank(c)), None)
    return first is not None and name_key(first).lower() in TOTAL_ROWS


def _issue_maker(file: str, sheet: str | None) -> Callable[[int | None, str | None, str | None, str, str], Issue]:
    def make(row: int | None, column: str | None, value: str | None, zh: str, en: str) -> Issue:
        return Issue(file, sheet, row, column, value, zh, en)

    return make


# --- one row -------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _row(
    raw: RawFile,
    sheet: Sheet,
    number: int,
    cells: list[Cell],
    order: list[tuple[int, Column]],
    rt: ReportType,
    ctx: ImportContext,
    parsed: Parsed,
    covered: set[tuple[int, int]],
    ratios: dict[str, tuple[str, str]],
) -> Record | None:
    issue = _issue_maker(raw.name, sheet.name)
    values: dict[str, Any] = {c.field: None for c in rt.columns}
    codes: dict[str, str] = {}
    problems = 0
    town_code: str | None = None
    town_failed = False
    for idx, col in order:
        cell = cells[idx] if idx < len(cells) else None
        if (number, idx) in sheet.formulas or (number, idx) in sheet.error_cells:
            problems += 1  # already reported
            continue
        if is_blank(cell):
            if (number, idx) in covered:
                problems += 1  # the merge is reported once
            elif col.required:
                problems += 1
                parsed.issues.append(issue(number, col.header, "", "必填，不能为空", "required, may not be empty"))
            continue
        try:
            value = _cell(col, cell, rt, ctx, town_code, town_failed)
        except CellError as exc:
            problems += 1
            if col.type == "township":
                town_failed = True
            parsed.issues.append(issue(number, col.header, show(cell), exc.zh, exc.en))
            continue
        if col.type == "township":
            town_code = value
            codes[col.field] = value
            values[col.field] = ctx.index.name(value)
        elif col.type == "village":
            codes[col.field] = value
            values[col.field] = ctx.index.name(value)
        elif isinstance(value, dt.date):
            values[col.field] = value.isoformat()
        else:
            values[col.field] = value
    problems += _derive_rates(
        rt,
        ratios,
        values,
        lambda f: _header(rt, f),
        lambda zh, en, f: parsed.issues.append(issue(number, _header(rt, f), show(values.get(f)), zh, en)),
    )
    if problems:
        return None
    try:
        if rt.key == builtin.DUTY_COMPLETION:
            return _finish_completion(sheet.name, number, values, codes, rt, ctx)
        return _finish(sheet.name, number, values, codes, rt, ctx)
    except _RowError as exc:
        parsed.issues.append(issue(number, exc.column, exc.value, exc.zh, exc.en))
        return None


def _header(rt: ReportType, field_name: str) -> str:
    return next(c.header for c in rt.columns if c.field == field_name)


def _cell(col: Column, cell: Cell, rt: ReportType, ctx: ImportContext, town: str | None, town_failed: bool) -> Any:
    if col.field == rt.period_field and rt.key == builtin.DUTY_COMPLETION:
        # Parsed once the row's duty is known (its frequency says what a bare date means).
        return (
            cell.date().isoformat()
            if isinstance(cell, dt.datetime)
            else (cell.isoformat() if isinstance(cell, dt.date) else clean_text(cell))
        )
    if col.field == rt.period_field:
        period = parse_period(cell, period_kind(col.example), ctx.year, ctx.anchor)
        if period.start > ctx.today:
            raise CellError(
                f"周期 {period.key} 还没有开始（导入日期 {ctx.today}）",
                f"period {period.key} has not started yet (import date {ctx.today})",
            )
        return period.key
    if col.type in ("int", "number"):
        number: float = parse_int(cell, col.unit) if col.type == "int" else parse_number(cell, col.unit)
        if number < 0 and (col.min is None or col.min >= 0):
            raise CellError("不能为负数", "may not be negative")
        if col.min is not None and number < col.min:
            raise CellError(f"应不小于 {_fmt(col.min)}", f"must be at least {_fmt(col.min)}")
        if col.max is not None and number > col.max:
            raise CellError(f"应不大于 {_fmt(col.max)}{col.unit or ''}", f"must be at most {_fmt(col.max)}")
        return number
    if col.type == "date":
        day = parse_date(cell, ctx.year)
        if day > ctx.today:
            raise CellError(
                f"日期晚于导入日期 {ctx.today}：不能登记还没有发生的事",
                f"the date is after the import date {ctx.today}",
            )
        return day
    if col.type == "bool":
        return parse_bool(cell)
    if col.type == "township":
        return ctx.index.township(cell)
    if col.type == "village":
        # Within the row's township when it has one; if that township was wrong, look city-wide
        # so the clerk gets one error for the township, not a second one for the village.
        return ctx.index.village(cell, None if town_failed else town)
    if col.type == "department":
        return ctx.index.department(cell)
    text = clean_text(cell)
    if col.values:
        allowed = _allowed(tuple(col.values))
        if name_key(text) in allowed:
            return allowed[name_key(text)]
        close = difflib.get_close_matches(name_key(text), list(allowed), n=1, cutoff=0.4)
        hint = f"；是不是“{allowed[close[0]]}”？" if close else ""
        raise CellError(f"应为以下之一：{'、'.join(col.values)}{hint}", f"must be one of: {', '.join(col.values)}")
    return text


@lru_cache(maxsize=64)
def _allowed(values: tuple[str, ...]) -> dict[str, str]:
    return {name_key(v): v for v in values}


def _derive_rates(
    rt: ReportType,
    ratios: dict[str, tuple[str, str]],
    values: dict[str, Any],
    header: Callable[[str], str],
    report: Callable[[str, str, str], object],
) -> int:
    """Fill an empty rate from its parts; refuse a stated rate that contradicts them."""
    problems = 0
    for rate, (num, den) in ratios.items():
        n, d = values.get(num), values.get(den)
        if n is None or d is None or d == 0:
            continue
        computed = round(n / d * 100, 2)
        col = next(c for c in rt.columns if c.field == rate)
        if values.get(rate) is None:
            if col.max is not None and computed > col.max:
                problems += 1
                report(
                    f"{header(num)}（{_fmt(n)}）大于{header(den)}（{_fmt(d)}），比率超过 {_fmt(col.max)}%",
                    f"{num} ({_fmt(n)}) exceeds {den} ({_fmt(d)})",
                    num,
                )
                continue
            values[rate] = computed
        elif abs(values[rate] - computed) > RATE_TOLERANCE:
            problems += 1
            report(
                f"与{header(num)}÷{header(den)}×100＝{computed} 不符",
                f"does not match {num}/{den}×100 = {computed}",
                rate,
            )
    return problems


class _RowError(Exception):
    def __init__(self, column: str | None, value: str | None, zh: str, en: str) -> None:
        super().__init__(zh)
        self.column, self.value, self.zh, self.en = column, value, zh, en


def _finish(
    sheet: str | None, number: int, values: dict[str, Any], codes: dict[str, str], rt: ReportType, ctx: ImportContext
) -> Record:
    unit_col = next(c for c in rt.columns if c.field == rt.unit_field)
    unit = codes.get(rt.unit_field) or values.get(rt.unit_field)
    if unit is None:
        raise _RowError(unit_col.header, "", "必填，不能为空", "required, may not be empty")
    if unit_col.type == "village":
        township: str | None = ctx.index.villages[unit].township_code
    elif unit_col.type == "township":
        township = unit
    else:
        township = None
    period_key = values.get(rt.period_field) if rt.period_field else None
    occurred: dt.date | None = None
    if rt.date_field and values.get(rt.date_field):
        occurred = dt.date.fromisoformat(values[rt.date_field])
    elif period_key:
        occurred = parse_period(period_key, None, ctx.year, ctx.anchor).start
    elif not rt.date_field and not rt.period_field:
        occurred = ctx.today  # a report without dates is about the day it arrives
    if occurred is None:
        field_name = rt.date_field or rt.period_field
        raise _RowError(
            _header(rt, field_name) if field_name else None, "", "缺少日期或周期", "the row has no date or period"
        )
    return Record(sheet, number, values | _code_fields(codes), str(unit), township, occurred, period_key)


def _code_fields(codes: dict[str, str]) -> dict[str, Any]:
    return {"_codes": codes} if codes else {}


def _finish_completion(
    sheet: str | None, number: int, values: dict[str, Any], codes: dict[str, str], rt: ReportType, ctx: ImportContext
) -> Record:
    where = "duty" if values.get("duty") else "duty_name"
    try:
        duty = builtin.resolve_duty(ctx.plan, values.get("duty"), values.get("duty_name"))
    except CellError as exc:
        raise _RowError(_header(rt, where), show(values.get(where)), exc.zh, exc.en) from None
    try:
        unit, township = builtin.resolve_unit(ctx.plan, ctx.index, duty, values["unit"], codes.get("township"))
    except CellError as exc:
        raise _RowError(_header(rt, "unit"), show(values["unit"]), exc.zh, exc.en) from None
    done_on = dt.date.fromisoformat(values["done_on"]) if values.get("done_on") else None
    if values.get("period") is None and done_on is None:
        raise _RowError(_header(rt, "period"), "", "“周期”和“完成日期”至少填一项", "give the period or the date done")
    try:
        period = builtin.duty_period(duty, values.get("period"), done_on, ctx.year, ctx.anchor)
    except CellError as exc:
        raise _RowError(_header(rt, "period"), show(values.get("period")), exc.zh, exc.en) from None
    if period.start > ctx.today:
        raise _RowError(
            _header(rt, "period"),
            show(values.get("period")),
            f"周期 {period.key} 还没有开始（导入日期 {ctx.today}）",
            f"period {period.key} has not started yet (import date {ctx.today})",
        )
    codes = codes | {"unit": unit}
    values = values | {"duty": duty.key, "duty_name": duty.name, "unit": ctx.index.name(unit), "period": period.key}
    # Done late (or early) for the period named: the row is about that period, dated at its start.
    occurred = done_on if done_on is not None and period.start <= done_on <= period.end else period.start
    return Record(sheet, number, values | _code_fields(codes), unit, township, occurred, period.key, duty.key)


# --- across rows ---------------------------------------------------------------------------------


def _duplicates(file: str, rt: ReportType, parsed: Parsed) -> None:
    """Identical rows are an error; so is a second row for the same unit and period of a per-period report."""
    seen: dict[str, Record] = {}
    per_period = (bool(rt.period_field) and not rt.date_field) or rt.key == builtin.DUTY_COMPLETION
    slots: dict[tuple[str, ...], Record] = {}
    kept: list[Record] = []
    for r in parsed.records:
        sig = json.dumps(r.values, sort_keys=True, ensure_ascii=False, default=str)
        first = seen.get(sig)
        if first is not None:
            parsed.issues.append(
                Issue(
                    file,
                    r.sheet,
                    r.row,
                    None,
                    None,
                    f"与{_where(first, r)}第 {first.row} 行完全相同（重复行）；请删除其中一行",
                    f"identical to row {first.row}{_where_en(first, r)} (duplicate row)",
                )
            )
            continue
        seen[sig] = r
        if per_period:
            slot = r.scope
            other = slots.get(slot)
            if other is not None:
                unit_header = _header(rt, rt.unit_field)
                parsed.issues.append(
                    Issue(
                        file,
                        r.sheet,
                        r.row,
                        unit_header,
                        str(r.values.get(rt.unit_field)),
                        f"同一单位同一周期（{r.period_key}）已在{_where(other, r)}第 {other.row} 行填写；每个单位每个周期只填一行",
                        f"this unit already has a row for period {r.period_key} (row {other.row})",
                    )
                )
                continue
            slots[slot] = r
        kept.append(r)
    parsed.records = kept


def _where(first: Record, r: Record) -> str:
    return f"工作表“{first.sheet}”" if first.sheet != r.sheet else ""


def _where_en(first: Record, r: Record) -> str:
    return f" of sheet '{first.sheet}'" if first.sheet != r.sheet else ""
