"""`campaign event`: report an event for an event-driven duty (a power fault) and its arrival."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.cli_common import when
from campaign.clock import TZ
from campaign.settings import get_settings
from plan.schema import Plan

event_app = typer.Typer(help="Event-driven duties: report a fault, record the arrival.", no_args_is_help=True)


def _unit_code(session: Session, plan: Plan, name: str) -> str:
    """A village (or township) by name, short name or code, with the closest names when unknown."""
    from tasks.imports.divisions import DivisionIndex
    from tasks.imports.errors import CellError

    index = DivisionIndex.load(session, plan)
    try:
        return index.village(name, None)
    except CellError as not_a_village:
        try:
            return index.township(name)
        except CellError:
            raise typer.BadParameter(str(not_a_village), param_hint="--unit") from None


@event_app.command("report")
def report(
    duty: Annotated[str, typer.Option(help="Event duty key, e.g. i23-fault-repair")],
    unit: Annotated[str, typer.Option(help="Where: village or township name, or division code")],
    at: Annotated[str | None, typer.Option(help="When it happened (Asia/Shanghai); default now")] = None,
    note: Annotated[str, typer.Option(help="What happened")] = "",
    campaign: Annotated[str | None, typer.Option("--campaign")] = None,
) -> None:
    """Report an event; its deadline counts from --at."""
    from storage.catalog import current_plan
    from storage.db import session_scope
    from tasks.events import EventError, record_event

    with session_scope() as s:
        c, plan = current_plan(s, campaign or get_settings().CAMPAIGN)
        try:
            ev = record_event(s, c.id, duty, _unit_code(s, plan, unit), when(at), {"note": note})
        except EventError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        minutes = plan.duty(duty).response_minutes
        due = ev.occurred_at.astimezone(TZ) + dt.timedelta(minutes=minutes or 0)
        typer.echo(f"事件 #{ev.id} 已登记：须于 {due:%Y-%m-%d %H:%M} 前到场")


@event_app.command("arrive")
def arrive(
    event_id: Annotated[int, typer.Argument(help="Event number")],
    at: Annotated[str | None, typer.Option(help="Arrival time; default now")] = None,
) -> None:
    """Record the arrival on site for an event."""
    from storage.db import session_scope
    from tasks.events import EventError, record_arrival

    with session_scope() as s:
        try:
            ev = record_arrival(s, event_id, when(at))
        except EventError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        assert ev.resolved_at is not None
        took = int((ev.resolved_at - ev.occurred_at).total_seconds() // 60)
        typer.echo(f"事件 #{ev.id}：到场用时 {took} 分钟")


@event_app.command("list")
def list_events(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: int = 50,
) -> None:
    """The latest events and whether they were reached in time."""
    from storage.db import session_scope
    from storage.models import Division, Event

    with session_scope() as s:
        rows = s.execute(
            select(Event, Division.name)
            .join(Division, Division.code == Event.unit_code)
            .order_by(Event.id.desc())
            .limit(limit)
        ).all()
        out = [
            {
                "id": e.id,
                "unit": name,
                "occurred_at": e.occurred_at.astimezone(TZ).isoformat(),
                "arrived_at": e.resolved_at.astimezone(TZ).isoformat() if e.resolved_at else None,
                "note": e.details.get("note", ""),
            }
            for e, name in rows
        ]
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for r in out:
        typer.echo(
            f"#{r['id']} {r['occurred_at'][:16]} {r['unit']} 到场 {str(r['arrived_at'] or '未到场')[:16]} {r['note']}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(event_app, name="event")
