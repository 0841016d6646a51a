"""Migrations, models and the catalog loader, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.catalog import current_plan, load_catalog, township_codes, village_codes
from storage.models import Campaign, Division, Person, PlanVersion
from tests.conftest import CATALOG, make_test_engine, shanghai


def test_migrations_reach_head_and_agree_with_the_models(tmp_path: Path, engine: sa.Engine) -> None:
    from storage.migrate import check, upgrade

    kind = engine.dialect.name
    eng, url, drop = make_test_engine("sqlite" if kind == "sqlite" else "postgresql", tmp_path)
    try:
        upgrade(url)
        check(url)  # raises if autogenerate would find a difference
        tables = set(sa.inspect(eng).get_table_names())
        assert {"duty_instances", "notifications", "evidence", "flags", "outbox"} <= tables
    finally:
        eng.dispose()
        if callable(drop):
            drop()


def test_it_loads_the_real_divisions(session: Session) -> None:
    counts = dict(session.execute(select(Division.level, func.count()).group_by(Division.level)).tuples().all())
    assert counts["村委会"] == 212
    assert counts["镇"] == 6 and counts["乡"] == 10 and counts["街道"] == 8
    wafang = session.get(Division, "220881100000")
    assert wafang is not None and wafang.name == "瓦房镇" and wafang.short_name == "瓦房"


def test_the_townships_of_the_plan_are_the_units_with_villages(session: Session) -> None:
    _, plan = current_plan(session, "taonan-2018")
    towns = township_codes(session, plan)
    assert len(towns) == 18  # 16 乡镇 + 洮府、向阳街道, which have 村委会
    assert "220881100000" in towns and "220881001000" not in towns
    assert len(village_codes(session, plan, towns)) == 212


def test_loading_the_same_catalog_twice_changes_nothing(session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(PlanVersion))
    result = load_catalog(session, CATALOG, now=shanghai(2018, 3, 2, 9))
    assert result.changed is False
    assert session.scalar(select(func.count()).select_from(PlanVersion)) == before


def test_a_changed_catalog_loads_as_a_new_version_and_keeps_history(session: Session, tmp_path: Path) -> None:
    text = CATALOG.read_text(encoding="utf-8").replace('send_at: "09:00"', 'send_at: "08:30"')
    changed = tmp_path / "taonan-2018.yaml"
    changed.write_text(text, encoding="utf-8")
    for name in ("taonan-2018.directory.yaml",):
        src = CATALOG.parent / name
        if src.exists():
            (tmp_path / name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "../data").resolve().mkdir(exist_ok=True)
    divisions = CATALOG.parent.parent / "data" / "divisions"
    target = (tmp_path / "../data/divisions").resolve()
    target.mkdir(parents=True, exist_ok=True)
    (target / "taonan_divisions_2018.csv").write_bytes((divisions / "taonan_divisions_2018.csv").read_bytes())
    c = session.scalar(select(Campaign).where(Campaign.code == "taonan-2018"))
    assert c is not None
    old = c.current_version
    result = load_catalog(session, changed, now=shanghai(2018, 3, 3, 9))
    assert result.changed and result.version == old + 1
    versions = session.scalars(select(PlanVersion.version).where(PlanVersion.campaign_id == c.id)).all()
    assert sorted(versions)[-2:] == [old, old + 1]
    _, plan = current_plan(session, "taonan-2018")
    assert plan.reminders.send_at == "08:30"


def test_every_township_has_a_party_secretary_slot(session: Session) -> None:
    n = session.scalar(select(func.count()).select_from(Person).where(Person.role == "乡镇党委书记"))
    assert n == 18


def test_a_role_holder_named_in_the_directory_gets_the_name(session: Session, tmp_path: Path) -> None:
    from storage.directory import load_directory_people

    text = (CATALOG.parent / "taonan-2018.directory.yaml").read_text(encoding="utf-8")
    marker = "  - role: 乡镇党委书记\n"
    assert marker in text
    start = text.index(marker)
    end = text.find("\n  - role:", start + len(marker))
    slot = text[start : end if end != -1 else len(text)]
    named = slot.replace("holders: []", "holders:\n      - {unit: 瓦房, name: 王某}")
    assert named != slot, slot
    directory = tmp_path / "dir.yaml"
    directory.write_text(text.replace(slot, named), encoding="utf-8")
    c, plan = current_plan(session, "taonan-2018")
    load_directory_people(session, c, plan, directory)
    row = session.scalar(select(Person).where(Person.key == "乡镇党委书记@220881100000"))
    assert row is not None and row.name == "王某" and row.title == "瓦房镇乡镇党委书记"


def test_a_directory_with_an_unknown_role_unit_is_refused_whole(session: Session, tmp_path: Path) -> None:
    from plan.directory import DirectoryError
    from storage.directory import load_directory_people

    text = (CATALOG.parent / "taonan-2018.directory.yaml").read_text(encoding="utf-8")
    bad = text.replace("holders: []", "holders:\n      - {unit: 不存在镇, name: 王某}", 1)
    directory = tmp_path / "dir.yaml"
    directory.write_text(bad, encoding="utf-8")
    c, plan = current_plan(session, "taonan-2018")
    with pytest.raises(DirectoryError, match="unknown unit '不存在镇'"):
        load_directory_people(session, c, plan, directory)
