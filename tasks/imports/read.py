"""Bytes → sheets of raw cells, with the spreadsheet row numbers a clerk sees.

The file's content decides how it is read, not its name: an .xlsx renamed .csv is still read as
Excel, an old .xls is refused with what to do. CSV text may be UTF-8 (with or without BOM),
GB18030/GBK (what Chinese Excel saves by default) or UTF-16 with BOM (Excel's "Unicode text").
Limits are checked before any parsing so that a huge file is refused in well under a second.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from tasks.imports.errors import Issue

MAX_FILE_BYTES = 20 * 1024 * 1024
# A township's busiest report (a year of household visits) stays well under this; a bigger file
# is almost always a whole-city export that should be split per township or month.
MAX_DATA_ROWS = 50_000
# Rows above the header (a title like “瓦房镇2018年4月入户走访记录表”) are allowed, up to this many.
HEADER_SEARCH_ROWS = 10

Cell = Any  # str | int | float | bool | datetime | date | time | None


@dataclass
class Sheet:
    name: str | None  # None for CSV: a CSV has one unnamed sheet
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)  # (row number, cells); blank rows dropped
    # (A3:A5, first row, last row, first column index, last column index)
    merged: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column index) → =SUM(…)
    error_cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column index) → #DIV/0!


@dataclass
class RawFile:
    name: str
    kind: str  # csv | xlsx
    encoding: str | None
    sheets: list[Sheet]


def read_bytes(name: str, data: bytes) -> tuple[RawFile | None, list[Issue]]:
    """Parse a file's bytes; file-level problems come back as issues (never an exception)."""

    def whole(zh: str, en: str) -> list[Issue]:
        return [Issue(name, None, None, None, None, zh, en)]

    if len(data) > MAX_FILE_BYTES:
        mb, cap = len(data) / 1024 / 1024, MAX_FILE_BYTES // 1024 // 1024
        return None, whole(
            f"文件大小 {mb:.1f} MB，超过单个文件 {cap} MB 的上限；请按乡镇或月份拆分后分别上报",
            f"the file is {mb:.1f} MB, over the {cap} MB limit; split it per township or month",
        )
    if not data.strip():
        return None, whole("文件是空的", "the file is empty")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return None, whole(
            "这是旧版 Excel（.xls）或加了密码的文件；请在 Excel 中“另存为”不加密的 .xlsx 后再上报",
            "this is an old Excel .xls (or password-protected) file; save it as a plain .xlsx",
        )
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(name, data)
    if name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        return None, whole(
            "扩展名是 Excel，但内容不是 Excel 文件（文件可能已损坏）",
            "the name says Excel but the content is not an Excel file (damaged?)",
        )
    return _read_csv(name, data)


# --- CSV -----------------------------------------------------------------------------------------


def _decode(name: str, data: bytes) -> tuple[str | None, str | None, list[Issue]]:
    """(text, encoding, issues). UTF-8 first: GB18030 would accept almost any bytes as garbage."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(name, data[3:], "utf-8", "UTF-8 (BOM)")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(name, data, "utf-16", "UTF-16")
    if b"\x00" in data:
        return (
            None,
            None,
            [
                _file_issue(
                    name,
                    "文件含有空字节：可能是没有 BOM 的 UTF-16 文件或二进制文件；请另存为 UTF-8 或 GBK 编码的 CSV",
                    "the file contains NUL bytes (UTF-16 without BOM, or binary); save it as UTF-8 or GBK CSV",
                )
            ],
        )
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    utf8_chinese = [i for i, ln in enumerate(lines, 1) if _is_utf8(ln) and not ln.isascii()]
    if utf8_chinese:
        # Some lines are UTF-8 Chinese, others are not: two encodings pasted into one file.
        bad = [i for i, ln in enumerate(lines, 1) if not _is_utf8(ln)]
        return (
            None,
            None,
            [
                _file_issue(
                    name,
                    "这一行不是 UTF-8 编码，而文件其余部分是 UTF-8（可能从 GBK 文件复制粘贴而来）；请整份文件用同一种编码保存",
                    "this line is not UTF-8 while the rest of the file is (pasted from a GBK file?); save the whole file in one encoding",
                    row=i,
                )
                for i in bad
            ],
        )
    try:
        return data.decode("gb18030"), "gb18030", []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return (
            None,
            None,
            [
                _file_issue(
                    name,
                    "文件编码无法识别：既不是 UTF-8，也不是 GBK/GB18030；请在 Excel 中另存为“CSV UTF-8”",
                    "unknown text encoding (neither UTF-8 nor GBK/GB18030); save as 'CSV UTF-8'",
                    row=line,
                )
            ],
        )


def _file_issue(name: str, zh: str, en: str, row: int | None = None) -> Issue:
    """A problem with the file as a whole (its encoding), at a line when one is known."""
    return Issue(name, None, row, None, None, zh, en)


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _strict(name: str, data: bytes, codec: str, label: str) -> tuple[str | None, str | None, list[Issue]]:
    try:
        return data.decode(codec), label, []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return (
            None,
            None,
            [
                _file_issue(
                    name,
                    f"文件标明是 {label} 编码，但这一行含有不是 {label} 的字节；请整份文件用同一种编码保存",
                    f"the file declares {label} but this line has bytes that are not {label}",
                    row=line,
                )
            ],
        )


def _read_csv(name: str, data: bytes) -> tuple[RawFile | None, list[Issue]]:
    # Counting newlines is cheap; it refuses a 200 000-line file before decoding or parsing it.
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines > MAX_DATA_ROWS + HEADER_SEARCH_ROWS:
        return None, [_too_many(name, None, lines)]
    text, encoding, issues = _decode(name, data)
    if text is None:
        return None, issues
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count) if any(d in first for d in ",\t;") else ","
    sheet = Sheet(None)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                sheet.rows.append((start, _trim(list(cells))))
            start = reader.line_num + 1
    except csv.Error as exc:
        return None, [
            Issue(
                name,
                None,
                reader.line_num,
                None,
                None,
                f"CSV 格式错误（{exc}），多半是引号没有配对",
                f"malformed CSV ({exc}), usually an unbalanced quote",
            )
        ]
    return RawFile(name, "csv", encoding, [sheet]), []


def _too_many(name: str, sheet: str | None, rows: int) -> Issue:
    return Issue(
        name,
        sheet,
        None,
        None,
        None,
        f"文件约有 {rows} 行，超过单个文件 {MAX_DATA_ROWS} 行数据的上限；请按乡镇或月份拆分后分别上报",
        f"the file has about {rows} rows, over the limit of {MAX_DATA_ROWS} data rows per file; split it",
    )


def _trim(cells: list[Cell]) -> list[Cell]:
    while cells and (cells[-1] is None or (isinstance(cells[-1], str) and not cells[-1].strip())):
        cells.pop()
    return cells


# --- XLSX ----------------------------------------------------------------------------------------

_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _read_xlsx(name: str, data: bytes) -> tuple[RawFile | None, list[Issue]]:
    import openpyxl

    try:
        # read_only streams rows; data_only=False keeps formulas visible so they can be refused.
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        return None, [
            Issue(
                name,
                None,
                None,
                None,
                None,
                f"无法打开 Excel 文件（文件损坏或不是 .xlsx）：{type(exc).__name__}",
                f"cannot open the Excel file (damaged or not .xlsx): {exc}",
            )
        ]
    try:
        sheets: list[Sheet] = []
        for ws in wb.worksheets:
            if getattr(ws, "sheet_state", "visible") != "visible":
                continue  # hidden helper sheets (drop-down sources) are not data
            declared = ws.max_row or 0
            if declared > MAX_DATA_ROWS + HEADER_SEARCH_ROWS:
                return None, [_too_many(name, ws.title, declared)]
            sheet = Sheet(ws.title)
            # Some writers store a wrong <dimension> (A1 only); read the rows that are really there.
            ws.reset_dimensions()
            for row in ws.iter_rows():
                cells: list[Cell] = []
                number = None
                for idx, cell in enumerate(row):
                    if getattr(cell, "row", None) is not None:
                        number = cell.row
                    value = cell.value
                    kind = getattr(cell, "data_type", None)
                    if kind == "f":
                        sheet.formulas[(cell.row, idx)] = str(value)
                    elif kind == "e":
                        sheet.error_cells[(cell.row, idx)] = str(value)
                    elif value is not None and not isinstance(value, str | int | float | bool | dt.date | dt.time):
                        value = str(value)  # ArrayFormula, DataTableFormula … are formulas too
                        sheet.formulas[(cell.row, idx)] = value
                    cells.append(value)
                cells = _trim(cells)
                if number is not None and any(
                    c is not None and not (isinstance(c, str) and not c.strip()) for c in cells
                ):
                    sheet.rows.append((number, cells))
                    if len(sheet.rows) > MAX_DATA_ROWS + HEADER_SEARCH_ROWS:
                        return None, [_too_many(name, ws.title, len(sheet.rows))]
            sheet.merged = _merged_ranges(ws)
            sheets.append(sheet)
    finally:
        wb.close()
    return RawFile(name, "xlsx", None, sheets), []


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.decode():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _merged_ranges(ws: Any) -> list[tuple[str, int, int, int, int]]:
    """Merged ranges of a read-only sheet (openpyxl only exposes them in the slow full mode)."""
    try:
        with ws._get_source() as src:  # the sheet's XML; <mergeCells> sits after the data
            xml = src.read()
    except (AttributeError, KeyError, OSError):
        return []
    out = []
    for c1, r1, c2, r2 in _MERGE.findall(xml):
        first, last = int(r1), int(r2 or r1)
        ref = f"{c1.decode()}{first}" + (f":{c2.decode()}{last}" if c2 else "")
        out.append((ref, first, last, _col_index(c1), _col_index(c2 or c1)))
    return out
