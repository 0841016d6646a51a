"""Demo data for a fresh install: which villages are 贫困村, and what the units reported.

Nothing here is a fact about 洮南市: which villages were poor is not public, so a fixed random
seed picks them (see data/divisions/README.md). For 百日会战 (to 6/30) most units report most of
their duties — rows shaped like the catalog's report types, filled from the columns' examples —
and about one in seven does not, so a replay of a 2018 day shows a board with real laggards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from campaign.periods import Frequency, periods_between
from campaign.workdays import WorkCalendar, default_calendar
from plan.schema import Plan, Scope
from storage.catalog import current_plan, township_codes, village_codes
from storage.models import Division, Evidence, Submission

DEMO_UNTIL = dt.date(2018, 6, 30)
MISSED = 0.15  # share of (unit, period) pairs with nothing reported
SHORT = 0.08  # share of reported rows that fall short of their duty's quota


def seed_demo(session: Session, campaign: str, seed: int = 2018) -> str:
    c, plan = current_plan(session, campaign)
    rng = random.Random(seed)
    tz = ZoneInfo(plan.campaign.timezone)
    cal = default_calendar()
    towns = township_codes(session, plan)
    villages = village_codes(session, plan, towns)
    poor = sorted(rng.sample(villages, k=len(villages) * 3 // 10))
    session.execute(update(Division).where(Division.code.in_(villages)).values(is_poor_village=False))
    session.execute(update(Division).where(Division.code.in_(poor)).values(is_poor_village=True))
    names = dict(session.execute(select(Division.code, Division.name)).tuples().all())

    minutes = next((r for r in plan.report_types if r.key == "party_meeting_minutes"), None)
    n_rows = 0
    if minutes is not None:
        start = plan.campaign_window()[0]
        for town in towns:
            rows = []
            for p in periods_between(Frequency.HALF_MONTHLY, start, DEMO_UNTIL):
                if rng.random() < 0.2:
                    continue  # this township held no meeting (or sent no minutes) that half-month
                days = [
                    d
                    for d in (p.start + dt.timedelta(n) for n in range((p.end - p.start).days + 1))
                    if cal.is_workday(d) and d >= start
                ]
                if not days:
                    continue
                day = rng.choice(days)
                rows.append((day, dt.datetime(day.year, day.month, day.day, 18, 0, tzinfo=tz)))
            if not rows:
                continue
            digest = hashlib.sha256(f"demo:{town}:{rows}".encode()).hexdigest()
            if session.scalar(select(Submission.id).where(Submission.content_hash == digest)):
                continue
            sub = Submission(
                campaign_id=c.id,
                report_type=minutes.key,
                file_name=f"demo-{names[town]}-会议纪要.xlsx",
                content_hash=digest,
                scope_key=f"{town}:demo",
                received_at=rows[-1][1],
                rows=len(rows),
            )
            session.add(sub)
            session.flush()
            for i, (day, received) in enumerate(rows, start=2):
                session.add(
                    Evidence(
                        campaign_id=c.id,
                        submission_id=sub.id,
                        report_type=minutes.key,
                        row_number=i,
                        unit_code=town,
                        township_code=town,
                        occurred_on=day,
                        period_key=None,
                        received_at=received,
                        active=True,
                        data={
                            "meeting_date": day.isoformat(),
                            "township": names[town],
                            "attendees": "乡镇党委成员、驻村工作队、村党支部书记、第一书记",
                            "topics": "听取入户走访情况汇报，研究解决问题，安排下步工作",
                        },
                    )
                )
                n_rows += 1
    session.flush()
    reported = _report_duties(session, c.id, plan, rng, tz, cal, set(poor))
    return f"贫困村(演示) {len(poor)} 个；会议纪要(演示) {n_rows} 条；其他职责上报(演示) {reported} 条"


def _report_duties(
    session: Session, campaign_id: int, plan: Plan, rng: random.Random, tz: ZoneInfo, cal: WorkCalendar, poor: set[str]
) -> int:
    """Rows completing most instances of every periodic duty (the minutes are seeded above)."""
    from tasks.imports.builtin import CITY_UNIT, DUTY_COMPLETION
    from tasks.imports.completion import role_filter

    start = plan.campaign_window()[0]
    towns = township_codes(session, plan)
    parent = dict(
        session.execute(
            select(Division.code, Division.parent_code).where(
                Division.parent_code.in_(towns), Division.level.in_(plan.organisation.village_levels)
            )
        )
        .tuples()
        .all()
    )
    total = 0
    for duty in plan.duties():
        if duty.frequency is Frequency.EVENT or duty.report_type == "party_meeting_minutes":
            continue
        if duty.scope is Scope.TOWNSHIP:
            units: list[tuple[str, str | None]] = [(t, t) for t in towns]
        elif duty.scope in (Scope.VILLAGE, Scope.HOUSEHOLD):
            units = [(v, t) for v, t in parent.items() if duty.applies_to != "贫困村" or v in poor]
        else:
            units = [(CITY_UNIT if duty.scope is Scope.CITY else duty.performer, None)]
        rt = plan.report_type(duty.report_type) if duty.report_type else None
        roles = role_filter(plan, duty)
        # The column a quota counts (驻村天数 for "5 天 a week"): some rows fall one short of it.
        short = next(
            (
                col.field
                for col in (rt.columns if rt and duty.quota else [])
                if duty.quota and col.unit == duty.quota.unit and col.type in ("int", "number")
            ),
            None,
        )
        digest = hashlib.sha256(f"demo-duty:{duty.key}".encode()).hexdigest()
        if session.scalar(select(Submission.id).where(Submission.content_hash == digest)):
            continue
        sub = Submission(
            campaign_id=campaign_id,
            report_type=rt.key if rt else DUTY_COMPLETION,
            file_name=f"demo-{duty.key}.xlsx",
            content_hash=digest,
            scope_key=f"demo:{duty.key}",
            received_at=dt.datetime(2018, 7, 1, tzinfo=tz),
            rows=0,
        )
        session.add(sub)
        session.flush()
        rows: list[dict[str, object]] = []
        for p in periods_between(duty.frequency, start, DEMO_UNTIL, start):
            days = [d for d in _days(max(p.start, start), min(p.end, DEMO_UNTIL)) if cal.is_workday(d)]
            if not days:
                continue
            for unit, town in units:
                if rng.random() < MISSED:
                    continue
                day = rng.choice(days)
                data: dict[str, object] = {"duty": duty.key, "unit": unit, "done_on": day.isoformat()}
                if rt is not None:
                    data = {c.field: c.example for c in rt.columns if c.example is not None}
                    if rt.date_field:
                        data[rt.date_field] = day.isoformat()
                    if rt.period_field:
                        data[rt.period_field] = p.key
                    if roles is not None:
                        data[roles[0]] = roles[1][0]
                    if short is not None and rng.random() < SHORT:
                        data[short] = max(int(duty.quota.threshold) - 1, 0)  # type: ignore[union-attr]
                rows.append(
                    {
                        "campaign_id": campaign_id,
                        "submission_id": sub.id,
                        "report_type": sub.report_type,
                        "row_number": len(rows) + 2,
                        "unit_code": unit[:12],
                        "township_code": town,
                        "occurred_on": day,
                        "period_key": p.key,
                        "active": True,
                        "data": data,
                        "received_at": dt.datetime(day.year, day.month, day.day, 18, 0, tzinfo=tz),
                    }
                )
        sub.rows = len(rows)
        if rows:
            session.execute(insert(Evidence), rows)
        total += len(rows)
    return total


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(n) for n in range((last - first).days + 1)]
