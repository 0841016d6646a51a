"""People named in the directory file: names for role holders and the persons the plan names."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Campaign, Person


def load_directory_people(session: Session, c: Campaign, path: Path) -> int:
    from plan.directory import load_directory

    directory = load_directory(path)
    rows = {p.key: p for p in session.scalars(select(Person).where(Person.campaign_id == c.id))}
    n = 0
    for entry in directory.people:
        row = rows.get(entry.key) or Person(campaign_id=c.id, key=entry.key)
        row.name = entry.name
        row.role = entry.role
        row.department = entry.department
        row.unit_code = getattr(entry, "unit_code", None)
        row.title = f"{entry.department or ''}{entry.name}" if entry.name else (entry.department or "") + entry.role
        session.add(row)
        n += 1
    session.flush()
    return n
