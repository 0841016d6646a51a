"""One file in: read, validate every row, then write all of it or nothing.

``now`` is the import time: it dates the evidence (``received_at``) and is the "today" that
future dates are checked against. Nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from storage.catalog import current_plan
from tasks.imports.divisions import DivisionIndex
from tasks.imports.errors import Issue, report_text
from tasks.imports.read import read_bytes
from tasks.imports.store import store
from tasks.imports.validate import ImportContext, report_types, validate


@dataclass
class ImportResult:
    file: str
    status: str  # accepted | unchanged | reinstated | rejected
    report_type: str | None = None
    report_name: str | None = None
    rows: int = 0
    readings: int = 0
    submission_id: int | None = None
    superseded: list[int] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.status != "rejected"

    def summary(self) -> str:
        """One line for the CLI and the flow log."""
        what = f"“{self.report_name}”" if self.report_name else ""
        if self.status == "rejected":
            return f"退回 {self.file}{what}：{len(self.issues)} 处问题 / rejected: {len(self.issues)} problem(s)"
        if self.status == "unchanged":
            return f"未变 {self.file}{what}：与已接收的内容相同（#{self.submission_id}）/ unchanged (identical content)"
        verb = "恢复" if self.status == "reinstated" else "接收"
        extra = f"，取代此前上报 {', '.join(f'#{i}' for i in self.superseded)}" if self.superseded else ""
        return (
            f"{verb} {self.file}{what}：{self.rows} 行{extra}（#{self.submission_id}）"
            f" / {self.status}: {self.rows} rows"
        )

    def error_report(self) -> str:
        return report_text(self.file, self.report_name, self.issues)


def import_file(
    session: Session, path: Path | str, *, campaign: str, now: dt.datetime, report_type: str | None = None
) -> ImportResult:
    path = Path(path)
    return import_bytes(session, path.name, path.read_bytes(), campaign=campaign, now=now, report_type=report_type)


def import_bytes(
    session: Session, name: str, data: bytes, *, campaign: str, now: dt.datetime, report_type: str | None = None
) -> ImportResult:
    """Import one file's content. File problems come back in the result; only bugs and database
    failures raise (and then nothing of the file is written: the writes run in one savepoint)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime (the import time)")
    started = time.perf_counter()
    c, plan = current_plan(session, campaign)
    raw, issues = read_bytes(name, data)
    if raw is None:
        return ImportResult(name, "rejected", issues=issues, seconds=time.perf_counter() - started)
    ctx = ImportContext(plan, c.id, DivisionIndex.load(session, plan), now, report_types(plan))
    parsed = validate(raw, ctx, report_type)
    rt = parsed.report
    result = ImportResult(name, "rejected", rt.key if rt else None, rt.name if rt else None)
    if parsed.issues or rt is None:
        result.issues = _ordered(parsed.issues)
    else:
        stored = store(session, ctx, rt, parsed.records, name)
        result.status, result.rows, result.readings = stored.status, stored.rows, stored.readings
        result.submission_id, result.superseded, result.warnings = (
            stored.submission_id,
            stored.superseded,
            stored.warnings,
        )
    result.seconds = time.perf_counter() - started
    return result


def _ordered(issues: list[Issue]) -> list[Issue]:
    """File-level problems first, then sheet by sheet (in file order), row by row."""
    sheets: list[str | None] = []
    for i in issues:
        if i.sheet not in sheets:
            sheets.append(i.sheet)
    return sorted(issues, key=lambda i: (i.row is not None, sheets.index(i.sheet), i.row or 0))
