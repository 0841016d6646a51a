"""Demo data for a fresh install: which villages are 贫困村, and minutes some townships submitted.

Nothing here is a fact about 洮南市: which villages were poor is not public, so a fixed random
seed picks them (see data/divisions/README.md); the minutes are what a township clerk would send.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaign.periods import Frequency, periods_between
from campaign.workdays import default_calendar
from storage.catalog import current_plan, township_codes, village_codes
from storage.models import Division, Evidence, Submission

DEMO_UNTIL = dt.date(2018, 5, 31)


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
    return f"贫困村(演示) {len(poor)} 个；会议纪要(演示) {n_rows} 条"
