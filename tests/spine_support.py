"""Helpers shared by the flow-level tests of the spine plan (tests/data/plans/spine-2018.yaml)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from storage.catalog import current_plan, township_codes
from storage.db import session_scope
from storage.models import Division, Evidence, Submission


def phase_flow(number: int) -> Any:
    """The phase flow ``phase_<number>`` built from the catalog (imported late: it reads settings)."""
    import flows.phases

    return vars(flows.phases)[f"phase_{number}"]


def minutes_file(
    towns: set[str] | None, received: dt.datetime, content: str, exclude: frozenset[str] = frozenset()
) -> None:
    """One file of minutes (meetings on 3/28) from ``towns`` (None: every township but ``exclude``)."""
    with session_scope() as s:
        c, plan = current_plan(s, "spine-2018")
        names = dict(s.execute(select(Division.code, Division.name)).tuples().all())
        sub = Submission(
            campaign_id=c.id,
            report_type="party_meeting_minutes",
            file_name=f"{content}.xlsx",
            content_hash=content,
            scope_key="2018-03H2",
            received_at=received,
            rows=0,
        )
        s.add(sub)
        s.flush()
        for n, code in enumerate(township_codes(s, plan), start=2):
            if (towns is not None and names[code] not in towns) or names[code] in exclude:
                continue
            s.add(
                Evidence(
                    campaign_id=c.id,
                    submission_id=sub.id,
                    report_type="party_meeting_minutes",
                    row_number=n,
                    unit_code=code,
                    township_code=code,
                    occurred_on=dt.date(2018, 3, 28),
                    received_at=received,
                    active=True,
                    data={"township": names[code]},
                )
            )
