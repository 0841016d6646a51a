"""Several campaigns side by side, and the plan commands of the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from campaign.workdays import WorkCalendar
from storage.catalog import current_plan, load_catalog
from storage.models import DutyInstance
from tasks.instances import DutyContext, duty_row_id, flag_overdue, materialise, overdue_instances
from tests.conftest import CATALOG, shanghai

OTHER = Path(__file__).parent / "data" / "plans" / "other-county.yaml"
# The other county is fictional (示范县, codes 229999…): its divisions file is test data.


def test_another_countys_plan_loads_and_runs_beside_the_first(session: Session) -> None:
    load_catalog(session, OTHER, now=shanghai(2019, 1, 1))
    first, plan_a = current_plan(session, "taonan-2018")
    other, plan_b = current_plan(session, "shifan-2019")
    assert first.id != other.id
    assert plan_a.campaign.city == "洮南市" and plan_b.campaign.city == "示范县"
    duty = plan_b.duty("i02-monthly-statistics")
    ctx = DutyContext(
        plan_b, duty, duty_row_id(session, other.id, duty.key), other.id, shanghai(2019, 2, 1, 9), None, WorkCalendar()
    )
    assert materialise(session, ctx) == 4  # January and February (started 2/1), for 东岭镇 and 西河乡
    flag_overdue(session, ctx)
    # January 2019 ends on a Thursday; due 1/31 17:30, overdue by 2/1 09:00 for both townships.
    assert sorted(str(f["unit"]) for f in overdue_instances(session, ctx)) == ["东岭镇", "西河乡"]
    units = set(session.scalars(select(DutyInstance.unit_code).where(DutyInstance.campaign_id == other.id)))
    assert units == {"229999100000", "229999200000"}
    # The first campaign is untouched.
    assert session.scalars(select(DutyInstance.id).where(DutyInstance.campaign_id == first.id)).first() is None


@pytest.fixture
def cli_db(app_db: str) -> str:
    from storage.catalog import load_catalog as load
    from storage.db import session_scope

    with session_scope() as s:
        load(s, CATALOG, now=shanghai(2018, 3, 1, 9))
    return app_db


def _run(*args: str) -> tuple[int, str]:
    from campaign.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_plan_validate_names_every_problem_with_its_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = CATALOG.read_text(encoding="utf-8").replace('start: "03-20"', 'start: "03-32"', 1)
    bad.write_text(text.replace("frequency: 每半月", "frequency: 每旬", 1), encoding="utf-8")
    code, out = _run("plan", "validate", str(bad))
    assert code == 2
    assert "phases[0](p1).window.start" in out and "03-32" in out
    assert "frequency" in out and "每旬" in out


def test_plan_validate_accepts_the_bundled_catalog() -> None:
    code, out = _run("plan", "validate", str(CATALOG))
    assert code == 0, out
    assert "29 work items" in out and "4 phases" in out


def test_plan_load_is_idempotent_and_export_gives_both_campaigns(cli_db: str) -> None:
    code, out = _run("plan", "load", str(CATALOG))
    assert code == 0 and "(unchanged)" in out
    code, out = _run("plan", "load", str(OTHER))
    assert code == 0 and "shifan-2019: version 1" in out
    code, out = _run("plan", "export", "--campaign", "shifan-2019")
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["plan"]["campaign"]["year"] == 2019
    code, out = _run("plan", "export")
    assert json.loads(out)["plan"]["campaign"]["code"] == "taonan-2018"


def test_status_shows_the_board_for_a_township(cli_db: str) -> None:
    code, out = _run("status", "--township", "瓦房", "--as-of", "2018-03-21")
    assert code == 0, out
    assert "没有逾期或未达标事项" in out
    code, out = _run("status", "--township", "瓦房乡")
    assert code == 2 and "瓦房镇" in out  # unknown name: the message lists the townships


def test_as_of_reads_a_bare_date_as_9_oclock_in_shanghai() -> None:
    from campaign.clock import parse_as_of

    assert parse_as_of("2018-05-15") == shanghai(2018, 5, 15, 9)
    assert parse_as_of("2018-05-15 17:45") == shanghai(2018, 5, 15, 17, 45)  # naive: local time
    assert parse_as_of("2018-05-15T09:00:00+00:00") == shanghai(2018, 5, 15, 17)
    assert parse_as_of(None) is None
