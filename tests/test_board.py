"""The 挂图作战 board: overdue items per township, and the summary table operators read."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from campaign.workdays import WorkCalendar
from storage.catalog import current_plan, load_catalog
from tasks.board import board, board_table
from tasks.instances import DutyContext, duty_row_id, flag_overdue, materialise
from tests.conftest import shanghai

SPINE = Path(__file__).parent / "data" / "plans" / "spine-2018.yaml"


def test_the_board_lists_every_overdue_township_and_sums_them_per_item(session: Session) -> None:
    load_catalog(session, SPINE, now=shanghai(2018, 3, 1))
    c, plan = current_plan(session, "spine-2018")
    duty = plan.duty("i03-party-meeting")
    as_of = shanghai(2018, 4, 16, 9)
    ctx = DutyContext(plan, duty, duty_row_id(session, c.id, duty.key), c.id, as_of, None, WorkCalendar())
    materialise(session, ctx)
    flag_overdue(session, ctx)
    df = board(session, c.id, as_of)
    # No minutes at all: 18 townships × (03H2 due 3/30, 04H1 due 4/13) are overdue.
    assert len(df) == 36
    assert set(df["类别"]) == {"逾期"}
    wafang = df[df["乡镇"] == "瓦房镇"]
    assert list(wafang["周期"]) == ["2018-03H2", "2018-04H1"]
    assert list(wafang["逾期天数"]) == [16, 2]
    table = board_table(df)
    assert len(table) == 18
    row = table[table["乡镇"] == "瓦房镇"].iloc[0]
    assert (row["单位数"], row["项数"], row["最早应完成"], row["最长逾期天数"]) == (1, 2, "2018-03-30 17:30", 16)
    only = board(session, c.id, as_of, township="220881100000")
    assert set(only["乡镇"]) == {"瓦房镇"}
