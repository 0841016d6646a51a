"""The only place that looks at the clock: turning a flow's ``as_of`` parameter into a time.

Logic below the flows takes ``as_of`` as an argument and never calls now(); a scheduled run uses
its scheduled start time, so a late or retried run computes exactly what it would have on time.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator

TZ = ZoneInfo("Asia/Shanghai")


def parse_as_of(value: str | dt.date | dt.datetime | None, tz: ZoneInfo = TZ) -> dt.datetime | None:
    """'2018-05-15' → 2018-05-15 09:00 local (the hour reminders go out); naive times are local."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if ("T" in value or " " in value) else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    return dt.datetime(value.year, value.month, value.day, 9, 0, tzinfo=tz)


def resolve_as_of(value: str | dt.date | dt.datetime | None, tz: ZoneInfo = TZ) -> dt.datetime:
    """The run's as_of: the parameter if given, else the flow run's scheduled start time."""
    parsed = parse_as_of(value, tz)
    if parsed is not None:
        return parsed.astimezone(tz)
    from prefect.runtime import flow_run

    scheduled = flow_run.scheduled_start_time
    if scheduled is None:
        raise ValueError("as_of is required outside a Prefect flow run")
    return (
        dt.datetime.fromisoformat(str(scheduled)).astimezone(tz)
        if not isinstance(scheduled, dt.datetime)
        else scheduled.astimezone(tz)
    )


# The type of every flow's as_of parameter: '2018-05-15' (a day: its 09:00, when reminders go
# out), an ISO time, or None (the scheduled start time). Parsed before Prefect's validation,
# which would read a bare date as midnight.
AsOf = Annotated[dt.datetime | dt.date | None, BeforeValidator(parse_as_of)]
