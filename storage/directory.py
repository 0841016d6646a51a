"""The directory file into the people table: the persons the plan names, and the holders an
operator has named for per-unit roles (瓦房镇乡镇党委书记 …). Checked against the plan first, so a
directory with an unknown role or department is refused whole, never half loaded."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from plan.schema import Plan
from storage.models import Campaign, Division, Person


def load_directory_people(session: Session, c: Campaign, plan: Plan, path: Path) -> int:
    from plan.directory import DirectoryError, check_against_plan, load_directory

    directory = load_directory(path)
    problems = check_against_plan(directory, plan)
    rows = {p.key: p for p in session.scalars(select(Person).where(Person.campaign_id == c.id))}
    n = 0
    for entry in directory.people:
        row = rows.get(entry.key) or Person(campaign_id=c.id, key=entry.key)
        row.name = entry.name
        row.role = entry.role
        row.department = entry.department
        row.unit_code = entry.unit_code
        row.title = f"{entry.department or ''}{entry.name}" if entry.name else (entry.department or "") + entry.role
        session.add(row)
        n += 1
    # Role holders: the slot rows exist already (storage.catalog); the directory gives them names.
    by_name: dict[str, str] = {}
    names: dict[str, str] = {}
    for code, name, short in session.execute(select(Division.code, Division.name, Division.short_name)).all():
        names[code] = name
        by_name.setdefault(name, code)
        by_name.setdefault(short, code)
    for i, slot in enumerate(directory.role_slots):
        for key, holder in slot.holder_keys():
            unit = holder.unit_code or by_name.get(holder.unit)
            if unit is None:
                problems.append(f"role_slots[{i}]({slot.role}): unknown unit '{holder.unit}'")
                continue
            key = key.replace(f"@{holder.unit}", f"@{unit}", 1)
            row = rows.get(key) or Person(campaign_id=c.id, key=key, role=slot.role, unit_code=unit)
            row.name = holder.name
            row.title = f"{names[unit]}{slot.role}"
            session.add(row)
            n += 1
    if problems:
        raise DirectoryError(path, [("(directory)", p) for p in problems])
    session.flush()
    return n
