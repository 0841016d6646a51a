"""The spine, end to end through Prefect: a phase flow for a 2018 date runs the half-monthly
专题党委会 duty, finds whose minutes are missing after the due time, and the outbox receives
exactly the reminders the plan calls for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.catalog import load_catalog
from storage.db import session_scope
from storage.models import OutboxMessage
from tests.conftest import TZ, shanghai
from tests.spine_support import minutes_file, phase_flow

SPINE = Path(__file__).parent / "data" / "plans" / "spine-2018.yaml"
MISSING = {"瓦房镇", "那金镇"}  # the two townships that sent no minutes for 3/16–3/31

pytestmark = pytest.mark.prefect


def _load_with_minutes(received: dt.datetime) -> None:
    with session_scope() as s:
        load_catalog(s, SPINE, now=shanghai(2018, 3, 1, 9))
    minutes_file(None, received, "h1", exclude=frozenset(MISSING))


def _outbox() -> list[tuple[str, str, str]]:
    with session_scope() as s:
        return [(m.recipient, m.title, m.body) for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_the_phase_flow_reminds_the_townships_whose_minutes_are_missing(prefect_server: None, app_db: str) -> None:
    phase_1 = phase_flow(1)

    _load_with_minutes(received=shanghai(2018, 3, 29, 16))
    # Due 3/31 is a Saturday: the rule rolls it back to Friday 3/30 17:30. At 18:00 it is overdue.
    result = phase_1(as_of=shanghai(2018, 3, 30, 18), campaign="spine-2018")
    assert result["duties"] == ["i03-party-meeting"]
    assert _outbox() == [
        (
            f"{town}乡镇党委书记",
            "洮南市脱贫攻坚逾期提醒（3月30日）",
            f"您有1项事项：\n1. 扶贫工作专题党委会（2018-03H2，{town}）：应于3月30日17:30前提交会议纪要，已逾期，请尽快完成。",
        )
        for town in ("瓦房镇", "那金镇")
    ]
    assert result["board_rows"] == 2

    # Re-running the same moment sends nothing twice.
    phase_1(as_of=shanghai(2018, 3, 30, 18), campaign="spine-2018")
    assert len(_outbox()) == 2

    # Five working days later (4/5–4/7 holidays, Sunday 4/8 a make-up workday) the 市级包保领导 hears of it.
    result = phase_1(as_of=shanghai(2018, 4, 9, 9), campaign="spine-2018")
    new = _outbox()[2:]
    assert [(r, t) for r, t, _ in new] == [
        ("瓦房镇市级包保领导", "洮南市脱贫攻坚逾期督办（4月9日）"),
        ("那金镇市级包保领导", "洮南市脱贫攻坚逾期督办（4月9日）"),
    ]
    assert "已逾期5个工作日" in new[0][2]


def test_a_township_rerun_touches_only_that_township(prefect_server: None, app_db: str) -> None:
    phase_1 = phase_flow(1)

    _load_with_minutes(received=shanghai(2018, 3, 29, 16))
    result = phase_1(as_of=shanghai(2018, 3, 30, 18), township="瓦房", campaign="spine-2018")
    assert result["board_rows"] == 1
    assert [r for r, _, _ in _outbox()] == ["瓦房镇乡镇党委书记"]
    from storage.models import DutyInstance

    with session_scope() as s:
        towns = set(s.scalars(select(DutyInstance.township_code).distinct()))
    assert towns == {"220881100000"}
    assert dt.datetime(2018, 3, 30, 18, tzinfo=TZ)  # as_of is Asia/Shanghai throughout
