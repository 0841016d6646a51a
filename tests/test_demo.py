"""The demo seed: invented data, clearly so, reproducible and loaded once."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Division, Evidence
from tasks.demo import seed_demo


def test_the_demo_seed_is_reproducible_and_loads_once(session: Session) -> None:
    first = seed_demo(session, "taonan-2018", seed=2018)
    poor = session.scalars(select(Division.code).where(Division.is_poor_village.is_(True))).all()
    assert len(poor) == 63  # 30% of the 212 villages, picked by the fixed seed
    rows = session.scalar(select(func.count()).select_from(Evidence)) or 0
    assert rows > 5000 and f"{rows - 108}" in first  # minutes + the other duties' reports
    again = seed_demo(session, "taonan-2018", seed=2018)
    assert session.scalar(select(func.count()).select_from(Evidence)) == rows
    assert "会议纪要(演示) 0 条" in again and "其他职责上报(演示) 0 条" in again
    assert sorted(poor) == sorted(session.scalars(select(Division.code).where(Division.is_poor_village.is_(True))))
