"""The inbox: files in, moved to processed/ or rejected/ (with a report a clerk can act on), and
the duties a good file completes stop being flagged."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Flag
from tasks.imports.inbox import process_inbox
from tasks.instances import complete_from_evidence, flag_overdue, materialise, overdue_instances
from tests.conftest import shanghai
from tests.data.imports.support import BAD, CAMPAIGN, GOOD, ctx_for

GOOD_FILE = "瓦房镇驻村工作天数-第16周.csv"
BAD_FILE = "瓦房镇驻村工作天数-第17周-有错.xlsx"


def opener(session: Session):  # type: ignore[no-untyped-def]
    """One savepoint per file inside the test's transaction (production: storage.db.session_scope)."""

    @contextmanager
    def open_session() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    return open_session


def inbox_with(tmp_path: Path, *files: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for f in files:
        shutil.copy(f, inbox / f.name)
    return inbox


def test_the_inbox_moves_accepted_files_to_processed_and_rejected_ones_beside_their_error_report(
    session: Session, tmp_path: Path
) -> None:
    inbox = inbox_with(tmp_path, GOOD / GOOD_FILE, BAD / BAD_FILE)
    (inbox / f"~${BAD_FILE}").write_bytes(b"lock")  # Excel's lock file while the clerk has it open
    report = process_inbox(inbox, opener(session), campaign=CAMPAIGN, now=shanghai(2018, 4, 24, 10))
    assert [r.file for r in report.accepted] == [GOOD_FILE]
    assert [r.file for r in report.rejected] == [BAD_FILE]
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [f"~${BAD_FILE}"]
    assert (inbox / "processed" / GOOD_FILE).is_file()
    assert (inbox / "rejected" / BAD_FILE).is_file()
    text = (inbox / "rejected" / f"{BAD_FILE}.errors.txt").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith(f"文件“{BAD_FILE}”未被接收，共 4 处问题")
    problems = lines[lines.index("") + 1 :]
    assert problems == [
        f"{BAD_FILE}｜工作表“第17周”｜第 4 行｜列“村”｜值“瓦房屯”｜瓦房镇没有名为“瓦房屯”的村；最接近的是：瓦房村委会  "
        "(sheet '第17周', row 4, column '村', value '瓦房屯': no village '瓦房屯' in 瓦房镇; closest: 瓦房村委会)",
        f"{BAD_FILE}｜工作表“第17周”｜第 5 行｜列“驻村天数”｜值“五”｜不是数字；请填阿拉伯数字，如 5  "
        "(sheet '第17周', row 5, column '驻村天数', value '五': not a number; write digits, e.g. 5)",
        f"{BAD_FILE}｜工作表“第17周”｜第 6 行｜列“日期”｜值“2018-05-02”｜日期晚于导入日期 2018-04-24：不能登记还没有发生的事  "
        "(sheet '第17周', row 6, column '日期', value '2018-05-02': the date is after the import date 2018-04-24)",
        f"{BAD_FILE}｜工作表“第17周”｜第 6 行｜列“身份”｜值“书记”｜应为以下之一：第一书记、驻村工作队、市级包保领导、乡镇包保干部；"
        "是不是“第一书记”？  (sheet '第17周', row 6, column '身份', value '书记': must be one of: 第一书记, 驻村工作队, "
        "市级包保领导, 乡镇包保干部)",
    ]


def test_a_file_sent_again_under_the_same_name_keeps_both_copies(session: Session, tmp_path: Path) -> None:
    inbox = inbox_with(tmp_path, GOOD / GOOD_FILE)
    process_inbox(inbox, opener(session), campaign=CAMPAIGN, now=shanghai(2018, 4, 24, 10))
    shutil.copy(GOOD / GOOD_FILE, inbox / GOOD_FILE)
    report = process_inbox(inbox, opener(session), campaign=CAMPAIGN, now=shanghai(2018, 4, 24, 11))
    assert report.results[0].status == "unchanged"
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == sorted(
        [GOOD_FILE, GOOD_FILE.replace(".csv", ".20180424-110000.csv")]
    )


def test_a_township_spreadsheet_through_the_inbox_clears_the_overdue_flags_it_answers(
    session: Session, tmp_path: Path
) -> None:
    duty = "i01-first-secretary-days"
    before = ctx_for(session, duty, shanghai(2018, 4, 24, 9))  # W16 was due Mon 4/23 17:30
    materialise(session, before)
    complete_from_evidence(session, before)
    flag_overdue(session, before)
    overdue = {(o["unit"], o["period"]) for o in overdue_instances(session, before)}
    assert {("瓦房村委会", "2018-W16"), ("荣华村委会", "2018-W16"), ("长山村委会", "2018-W16")} <= overdue

    inbox = inbox_with(tmp_path, GOOD / GOOD_FILE, BAD / BAD_FILE)
    report = process_inbox(inbox, opener(session), campaign=CAMPAIGN, now=shanghai(2018, 4, 24, 10))
    assert [r.file for r in report.accepted] == [GOOD_FILE]

    after = ctx_for(session, duty, shanghai(2018, 4, 24, 11))
    assert complete_from_evidence(session, after) == 2
    flag_overdue(session, after)
    still = {(o["unit"], o["period"]) for o in overdue_instances(session, after)}
    assert ("瓦房村委会", "2018-W16") not in still and ("荣华村委会", "2018-W16") not in still
    assert ("长山村委会", "2018-W16") in still  # its row was a 市级包保领导's, not the 第一书记's
    assert overdue - still == {("瓦房村委会", "2018-W16"), ("荣华村委会", "2018-W16")}
    resolved = session.scalars(select(Flag).where(Flag.kind == "overdue", Flag.resolved_at.is_not(None))).all()
    assert len(resolved) == 2 and {f.resolved_at for f in resolved} == {after.as_of}
