"""Loading the plan catalog and the official divisions into the database, and reading them back.

Loading is idempotent: the same catalog twice changes nothing; a changed catalog becomes a new
plan version (the old documents are kept) and the campaign's rows are brought in line with it.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plan.load import load_plan_file, resolve
from plan.schema import Plan, Scope
from storage.models import (
    Campaign,
    Department,
    Division,
    Duty,
    Indicator,
    Person,
    Phase,
    PlanVersion,
    WorkItem,
)

LEVEL_SUFFIXES = ("蒙古族乡", "街道办事处", "村委会", "居委会", "社区", "镇", "乡", "街道")


def short_name(name: str) -> str:
    for suf in LEVEL_SUFFIXES:
        if name.endswith(suf) and len(name) > len(suf):
            return name[: -len(suf)]
    return name


class DivisionsError(ValueError):
    pass


def load_divisions(session: Session, csv_path: Path) -> int:
    """Upsert the official divisions (name,code,level,parent_code,parent_name); returns rows read."""
    rows: list[dict[str, str]] = []
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"name", "code", "level", "parent_code"}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise DivisionsError(f"{csv_path}: header must include {sorted(need)}, got {reader.fieldnames}")
        for lineno, r in enumerate(reader, start=2):
            code = (r.get("code") or "").strip()
            if not (code.isdigit() and len(code) == 12):
                raise DivisionsError(f"{csv_path}: row {lineno}, column code: '{code}' is not a 12-digit division code")
            rows.append({k: (v or "").strip() for k, v in r.items()})
    by_code = {r["code"]: r for r in rows}
    existing = {d.code: d for d in session.scalars(select(Division))}
    for r in rows:
        parent = r["parent_code"] or None
        township = None
        if parent and parent in by_code and by_code[parent]["level"] not in ("县级市", "市辖区", "县"):
            township = parent
        elif parent and parent in by_code:
            township = r["code"]
        d = existing.get(r["code"])
        if d is None:
            d = Division(code=r["code"])
            session.add(d)
        d.name, d.short_name, d.level, d.parent_code = r["name"], short_name(r["name"]), r["level"], parent
        d.township_code = township
    session.flush()
    return len(rows)


@dataclass
class LoadResult:
    campaign: str
    version: int
    changed: bool


def load_catalog(session: Session, path: Path | str, now: dt.datetime) -> LoadResult:
    """Validate and load a catalog file (and the divisions it names). Idempotent."""
    path = Path(path)
    plan, digest = load_plan_file(path)
    load_divisions(session, resolve(path, plan.organisation.divisions_file))
    c = session.scalar(select(Campaign).where(Campaign.code == plan.campaign.code))
    if c is None:
        c = Campaign(code=plan.campaign.code, current_version=0)
        session.add(c)
    c.name, c.city, c.year, c.timezone = (
        plan.campaign.name,
        plan.campaign.city,
        plan.campaign.year,
        plan.campaign.timezone,
    )
    session.flush()
    known = session.scalar(
        select(PlanVersion).where(PlanVersion.campaign_id == c.id, PlanVersion.content_hash == digest)
    )
    if known is not None and known.version == c.current_version:
        return LoadResult(c.code, c.current_version, changed=False)
    if known is None:
        version = c.current_version + 1
        session.add(
            PlanVersion(
                campaign_id=c.id,
                version=version,
                content_hash=digest,
                source=str(path),
                loaded_at=now,
                document=plan.model_dump(mode="json"),
            )
        )
    else:  # going back to an earlier version: reuse its number
        version = known.version
    c.current_version = version
    _sync_rows(session, c, plan)
    _sync_role_holders(session, c, plan)
    if plan.organisation.directory_file:
        from storage.directory import load_directory_people

        load_directory_people(session, c, plan, resolve(path, plan.organisation.directory_file))
    session.flush()
    return LoadResult(c.code, version, changed=True)


def _sync_rows(session: Session, c: Campaign, plan: Plan) -> None:
    """Bring phases, departments, items, duties and indicators in line with the plan."""
    phases = {p.key: p for p in session.scalars(select(Phase).where(Phase.campaign_id == c.id))}
    for p in plan.phases:
        row = phases.pop(p.key, None) or Phase(campaign_id=c.id, key=p.key)
        start, end = plan.phase_dates(p)
        row.number, row.name, row.starts_on, row.ends_on = p.number, p.name, start, end
        session.add(row)
    for stale in phases.values():
        session.delete(stale)

    depts = {d.name for d in session.scalars(select(Department).where(Department.campaign_id == c.id))}
    for name in plan.organisation.departments:
        if name not in depts:
            session.add(Department(campaign_id=c.id, name=name))

    items = {i.number: i for i in session.scalars(select(WorkItem).where(WorkItem.campaign_id == c.id))}
    duties = {d.key: d for d in session.scalars(select(Duty).where(Duty.campaign_id == c.id))}
    inds = {i.key: i for i in session.scalars(select(Indicator).where(Indicator.campaign_id == c.id))}
    seen_items, seen_duties, seen_inds = set(), set(), set()
    for aspect in plan.aspects:
        for ind in aspect.indicators:
            seen_inds.add(ind.key)
            _indicator_row(session, inds, c.id, None, ind)
        for item in aspect.items:
            seen_items.add(item.number)
            wi = items.get(item.number) or WorkItem(campaign_id=c.id, number=item.number)
            wi.aspect_number, wi.aspect_title, wi.title = aspect.number, aspect.title, item.title
            wi.deadlines = [d.model_dump(mode="json") for d in item.deadlines]
            wi.leaders, wi.departments, wi.persons = list(item.leaders), list(item.departments), list(item.persons)
            session.add(wi)
            session.flush()
            items[item.number] = wi
            for ind in item.indicators:
                seen_inds.add(ind.key)
                _indicator_row(session, inds, c.id, wi.id, ind)
            for d in item.duties:
                seen_duties.add(d.key)
                drow = duties.get(d.key) or Duty(campaign_id=c.id, key=d.key)
                drow.work_item_id, drow.name, drow.performer = wi.id, d.name, d.performer
                drow.scope, drow.frequency, drow.report_type = d.scope.value, d.frequency.value, d.report_type
                drow.spec = d.model_dump(mode="json")
                session.add(drow)
    # Rows of duties dropped from the plan go (their instances with them); history stays in plan_versions.
    for key, duty_row in duties.items():
        if key not in seen_duties:
            session.delete(duty_row)
    for key, ind_row in inds.items():
        if key not in seen_inds:
            session.delete(ind_row)
    for num, item_row in items.items():
        if num not in seen_items:
            session.delete(item_row)
    session.flush()


def _indicator_row(session: Session, inds: dict[str, Indicator], cid: int, item_id: int | None, ind: object) -> None:
    from plan.schema import Indicator as PlanIndicator

    assert isinstance(ind, PlanIndicator)
    row = inds.get(ind.key) or Indicator(campaign_id=cid, key=ind.key)
    row.work_item_id, row.metric, row.comparison = item_id, ind.metric, ind.comparison.value
    row.threshold, row.unit, row.scope = ind.threshold, ind.unit, ind.scope.value
    session.add(row)
    inds[ind.key] = row


def township_codes(session: Session, plan: Plan) -> list[str]:
    """The 各乡镇 of the plan: township-level units (with villages, when the plan says so)."""
    org = plan.organisation
    rows = session.execute(select(Division.code, Division.level).where(Division.parent_code == org.city_code)).all()
    codes = [code for code, level in rows if level in org.township_levels]
    if org.township_requires_villages:
        with_villages = set(session.scalars(select(Division.parent_code).where(Division.level.in_(org.village_levels))))
        codes = [c for c in codes if c in with_villages]
    return sorted(codes)


def village_codes(session: Session, plan: Plan, townships: list[str] | None = None) -> list[str]:
    q = select(Division.code).where(Division.level.in_(plan.organisation.village_levels))
    if townships is not None:
        q = q.where(Division.parent_code.in_(townships))
    return sorted(session.scalars(q))


def _sync_role_holders(session: Session, c: Campaign, plan: Plan) -> None:
    """One person row per role per unit of its scope (瓦房镇党委书记 …); names come from the directory."""
    existing = set(session.scalars(select(Person.key).where(Person.campaign_id == c.id)))
    towns = township_codes(session, plan)
    villages = village_codes(session, plan, towns)
    names = dict(session.execute(select(Division.code, Division.name)).tuples().all())
    for role in plan.organisation.roles:
        units: list[str | None]
        if role.scope is Scope.TOWNSHIP:
            units = list(towns)
        elif role.scope is Scope.VILLAGE:
            units = list(villages)
        else:
            units = [None]
        for unit in units:
            key = f"{role.name}@{unit}" if unit else role.name
            if key in existing:
                continue
            title = f"{names.get(unit, '')}{role.name}" if unit else role.name
            session.add(
                Person(
                    campaign_id=c.id, key=key, name=None, title=title, role=role.name, unit_code=unit, department=None
                )
            )
            existing.add(key)
    session.flush()


def current_plan(session: Session, campaign: str) -> tuple[Campaign, Plan]:
    """The campaign row and the plan of its current version."""
    c = session.scalar(select(Campaign).where(Campaign.code == campaign))
    if c is None:
        raise LookupError(f"campaign '{campaign}' is not loaded: run `campaign plan load FILE` first")
    doc = session.scalar(
        select(PlanVersion.document).where(PlanVersion.campaign_id == c.id, PlanVersion.version == c.current_version)
    )
    if doc is None:
        raise LookupError(f"campaign '{campaign}' has no plan version {c.current_version}")
    return c, Plan.model_validate(doc)


def delete_campaign(session: Session, code: str) -> None:
    session.execute(delete(Campaign).where(Campaign.code == code))
