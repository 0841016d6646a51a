"""The inbox folder: import every file, move it to processed/ or rejected/ (with its error report).

Each file is its own transaction, committed before the file is moved: if the process dies between
the two, the file is still in the inbox and the next run imports it again, which changes nothing
(same content hash) and then moves it. Error reports are UTF-8 with BOM so that Notepad on a
township's Windows PC shows the Chinese.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from tasks.imports.importer import ImportResult, import_file

PROCESSED, REJECTED = "processed", "rejected"
SKIP_SUFFIXES = (".errors.txt", ".tmp", ".part", ".crdownload", ".partial")


def importable(path: Path) -> bool:
    """A finished report file (not an Excel lock file, a hidden file, a half-copied upload, or ours)."""
    name = path.name
    return path.is_file() and not name.startswith(("~$", ".")) and not name.lower().endswith(SKIP_SUFFIXES)


@dataclass
class InboxReport:
    results: list[ImportResult] = field(default_factory=list)
    moved: dict[str, Path] = field(default_factory=dict)  # file name → where it went

    @property
    def accepted(self) -> list[ImportResult]:
        return [r for r in self.results if r.accepted]

    @property
    def rejected(self) -> list[ImportResult]:
        return [r for r in self.results if not r.accepted]


def _free(target: Path, now: dt.datetime) -> Path:
    """A name in the target folder that does not overwrite an earlier file of the same name."""
    if not target.exists():
        return target
    stamp = now.strftime("%Y%m%d-%H%M%S")
    candidate = target.with_name(f"{target.stem}.{stamp}{target.suffix}")
    n = 2
    while candidate.exists():
        candidate = target.with_name(f"{target.stem}.{stamp}-{n}{target.suffix}")
        n += 1
    return candidate


def process_inbox(
    inbox: Path,
    open_session: Callable[[], AbstractContextManager[Session]],
    *,
    campaign: str,
    now: dt.datetime,
) -> InboxReport:
    """Import every file directly in ``inbox`` (oldest first); ``open_session`` gives one
    committing session per file (``storage.db.session_scope`` in production)."""
    report = InboxReport()
    inbox.mkdir(parents=True, exist_ok=True)
    files = sorted((p for p in inbox.iterdir() if importable(p)), key=lambda p: (p.stat().st_mtime, p.name))
    for path in files:
        with open_session() as session:
            result = import_file(session, path, campaign=campaign, now=now)
        report.results.append(result)
        folder = inbox / (PROCESSED if result.accepted else REJECTED)
        folder.mkdir(exist_ok=True)
        target = _free(folder / path.name, now)
        shutil.move(str(path), target)
        if not result.accepted:
            target.with_name(f"{target.name}.errors.txt").write_text(result.error_report(), encoding="utf-8-sig")
        report.moved[path.name] = target
    return report
