"""What is wrong with a file, said so that a township clerk can find and fix it.

Every problem names the file, the sheet, the row as the spreadsheet shows it, the column header
and the value, and says why in Chinese and in English. A file's problems are all collected before
anything is reported: a clerk fixes the whole file in one go instead of one error per round trip.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class CellError(ValueError):
    """A cell (or a file) is wrong; raised by parsers, turned into an ``Issue`` with its place."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class Issue:
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    zh: str
    en: str

    def line(self) -> str:
        """One line of the error report: place first (what the clerk looks for), then why."""
        parts = [self.file]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        parts.append(f"第 {self.row} 行" if self.row else "整个文件")
        if self.column:
            parts.append(f"列“{self.column}”")
        if self.value is not None:
            parts.append(f"值“{self.value}”")
        parts.append(self.zh)
        return "｜".join(parts) + f"  ({self.en_place()}: {self.en})"

    def en_place(self) -> str:
        bits = []
        if self.sheet:
            bits.append(f"sheet '{self.sheet}'")
        bits.append(f"row {self.row}" if self.row else "whole file")
        if self.column:
            bits.append(f"column '{self.column}'")
        if self.value is not None:
            bits.append(f"value '{self.value}'")
        return ", ".join(bits)


def show(value: object) -> str:
    """A cell value as the clerk would recognise it (shortened: a report line stays one line)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()  # a date cell: show 2018-05-02, not 2018-05-02 00:00:00
    text = str(value).replace("\r", " ").replace("\n", " ")
    return text if len(text) <= 40 else text[:37] + "…"


def report_text(file: str, report: str | None, issues: list[Issue]) -> str:
    """The ``<name>.errors.txt`` beside a rejected file: a header, then one line per problem."""
    head = [
        f"文件“{file}”未被接收，共 {len(issues)} 处问题。请逐条改正后重新上报整份文件（未改动的行也要保留）。",
        f"File '{file}' was rejected with {len(issues)} problem(s). Fix them all and send the whole file again.",
    ]
    if report:
        head.append(f"报表类型 / report type: {report}")
    return "\n".join([*head, "", *(i.line() for i in issues)]) + "\n"
