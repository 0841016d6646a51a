"""`campaign ack`, `campaign extend`, `campaign outbox`, `campaign notify`, `campaign contacts`:
the notifier's commands. Registered on the main app by ``campaign.cli`` (``register(app)``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from campaign.cli_common import CampaignOpt, fail, now
from campaign.clock import TZ, parse_as_of
from campaign.settings import get_settings

InstanceArg = Annotated[int | None, typer.Argument(help="Duty instance id (see `campaign outbox --failed`)")]
DutyOpt = Annotated[str | None, typer.Option("--duty", help="Duty key, with --unit and --period instead of an id")]
UnitOpt = Annotated[str | None, typer.Option("--unit", help="Unit name or code")]
PeriodOpt = Annotated[str | None, typer.Option("--period", help="Period key, e.g. 2018-05 or 2018-05H1")]


def _find_instance(
    s: Any, campaign_id: int, instance: int | None, duty: str | None, unit: str | None, period: str | None
) -> int:
    from sqlalchemy import or_, select

    from storage.models import Duty, DutyInstance

    if instance is not None:
        return instance
    if not (duty and unit and period):
        fail("give an instance id, or --duty, --unit and --period")
    ids = s.scalars(
        select(DutyInstance.id)
        .join(Duty, Duty.id == DutyInstance.duty_id)
        .where(
            DutyInstance.campaign_id == campaign_id,
            Duty.key == duty,
            DutyInstance.period_key == period,
            or_(DutyInstance.unit_code == unit, DutyInstance.unit_name == unit),
        )
    ).all()
    if len(ids) != 1:
        fail(f"{len(ids)} instances of {duty} for {unit} in {period}: give the instance id")
    return int(ids[0])


def ack(
    instance: InstanceArg = None,
    by: Annotated[str, typer.Option("--by", help="Who acknowledges (recorded in the audit log)")] = "",
    note: Annotated[str | None, typer.Option(help="Why, or what was done")] = None,
    duty: DutyOpt = None,
    unit: UnitOpt = None,
    period: PeriodOpt = None,
    at: Annotated[str | None, typer.Option("--at", help="Time of the acknowledgement; default now")] = None,
    campaign: CampaignOpt = None,
) -> None:
    """Acknowledge an item: its reminders stop (the escalation clock does not)."""
    from notify.admin import AdminError, acknowledge
    from storage.catalog import current_plan
    from storage.db import session_scope

    when = parse_as_of(at) or now()
    with session_scope() as s:
        c, _ = current_plan(s, campaign or get_settings().CAMPAIGN)
        iid = _find_instance(s, c.id, instance, duty, unit, period)
        try:
            done = acknowledge(s, c.id, iid, by, when, note)
        except AdminError as exc:
            fail(str(exc))
            return
    typer.echo(f"instance #{iid}: " + ("acknowledged; reminders stop" if done else "already acknowledged"))


def extend(
    instance: InstanceArg = None,
    to: Annotated[str, typer.Option("--to", help="New due time (date = 17:30 that day, or date and time)")] = "",
    by: Annotated[str, typer.Option("--by", help="Who grants it (recorded in the audit log)")] = "",
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log)")] = "",
    duty: DutyOpt = None,
    unit: UnitOpt = None,
    period: PeriodOpt = None,
    at: Annotated[str | None, typer.Option("--at", help="Time of the decision; default now")] = None,
    campaign: CampaignOpt = None,
) -> None:
    """Extend an item's due time (延期): reminders count back from the new time."""
    from notify.admin import AdminError
    from notify.admin import extend as do_extend
    from storage.catalog import current_plan
    from storage.db import session_scope

    if not to:
        fail("--to is required")
    new = (
        dt.datetime.fromisoformat(to)
        if ("T" in to or " " in to)
        else dt.datetime.combine(dt.date.fromisoformat(to), dt.time(17, 30))
    )
    new = new if new.tzinfo else new.replace(tzinfo=TZ)
    when = parse_as_of(at) or now()
    with session_scope() as s:
        c, _ = current_plan(s, campaign or get_settings().CAMPAIGN)
        iid = _find_instance(s, c.id, instance, duty, unit, period)
        try:
            do_extend(s, c.id, iid, new, by, when, reason)
        except AdminError as exc:
            fail(str(exc))
            return
    typer.echo(f"instance #{iid}: due {new:%Y-%m-%d %H:%M} (延期)")


def outbox(
    recipient: Annotated[str | None, typer.Option(help="Only messages to this recipient")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Ledger rows not delivered: failed, stuck, expired")] = False,
    expired: Annotated[bool, typer.Option("--expired/--no-expired", help="With --failed: include expired rows")] = True,
    limit: int = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What the local outbox received, or (--failed) what could not be sent and why."""
    from sqlalchemy import select

    from storage.db import session_scope
    from storage.models import Notification, OutboxMessage, Person

    rows: list[dict[str, Any]]
    with session_scope() as s:
        if failed:
            states = ["failed", "sending"] + (["expired"] if expired else [])
            q = (
                select(Notification, Person)
                .join(Person, Person.id == Notification.person_id)
                .where(Notification.status.in_(states))
                .order_by(Notification.status, Notification.id)
                .limit(limit)
            )
            if recipient:
                q = q.where(Person.title == recipient)
            rows = [
                {
                    "id": n.id,
                    "instance": n.duty_instance_id,
                    "to": p.display,
                    "step": n.step,
                    "status": n.status,
                    "drill": n.drill,
                    "attempts": n.attempts,
                    "next_attempt_at": n.next_attempt_at.astimezone(TZ).isoformat(),
                    "claimed_at": n.claimed_at.astimezone(TZ).isoformat() if n.claimed_at else None,
                    "why": n.last_error
                    or (
                        "being sent (or left by a run that died; resumed after the lease)"
                        if n.status == "sending"
                        else None
                    ),
                }
                for n, p in s.execute(q).all()
            ]
        else:
            oq = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
            if recipient:
                oq = oq.where(OutboxMessage.recipient == recipient)
            rows = [
                {
                    "id": m.id,
                    "to": m.recipient,
                    "title": m.title,
                    "body": m.body,
                    "at": m.created_at.astimezone(TZ).isoformat(),
                }
                for m in reversed(s.scalars(oq).all())
            ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("(nothing)")
    for r in rows:
        if failed:
            when = (
                f"next {r['next_attempt_at']}"
                if r["status"] == "failed"
                else (f"claimed {r['claimed_at']}" if r["status"] == "sending" else "closed")
            )
            typer.echo(
                f"#{r['id']} item {r['instance']} → {r['to']} [{r['step']}{' drill' if r['drill'] else ''}] "
                f"{r['status']} ×{r['attempts']} {when}: {r['why']}"
            )
        else:
            typer.echo(f"#{r['id']} {r['at']} → {r['to']}\n  {r['title']}\n  " + r["body"].replace("\n", "\n  "))


def notify_command(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date or time (Asia/Shanghai); default now")] = None,
    township: Annotated[str | None, typer.Option(help="Only this township (name or code)")] = None,
    drill: Annotated[
        str | None,
        typer.Option("--drill", help="Drill: send every message to this Apprise URL (default: setting DRILL_URL)"),
    ] = None,
    prepare: Annotated[
        bool, typer.Option("--prepare/--no-prepare", help="Bring duty instances up to date first")
    ] = True,
    campaign: CampaignOpt = None,
) -> None:
    """Send due reminders and escalations for every duty now, in this process."""
    from campaign.workdays import default_calendar
    from notify.config import NotifyConfig
    from notify.contacts import ContactsError
    from notify.run import remind_all
    from storage.catalog import current_plan
    from storage.db import session_scope
    from tasks.units import UnknownTownship, resolve_township

    when = parse_as_of(as_of) or now()
    cfg = NotifyConfig.from_settings(**({"drill_url": drill} if drill else {}))
    try:
        with session_scope() as s:
            c, plan = current_plan(s, campaign or get_settings().CAMPAIGN)
            try:
                town = resolve_township(s, plan, township)
            except UnknownTownship as exc:
                fail(str(exc))
                return
            r = remind_all(s, plan, c.id, when, default_calendar(), town, config=cfg, prepare=prepare)
    except ContactsError as exc:
        fail(f"contact directory: {exc}")
        return
    d = r.delivery
    typer.echo(
        f"{'【演练】' if d.drill else ''}{when:%Y-%m-%d %H:%M}: {r.queued} new ledger rows; "
        f"{d.messages} messages, {d.sent} sent, {d.failed} failed, {d.expired} expired, "
        f"{d.resumed} resumed"
    )


def contacts(
    file: Annotated[
        Path | None, typer.Option("--file", help="Contact directory (default: setting CONTACTS_FILE)")
    ] = None,
    sync: Annotated[
        bool, typer.Option("--sync", help="Record each person's channels (no secrets) in the database")
    ] = False,
    campaign: CampaignOpt = None,
) -> None:
    """Check the contact directory: placeholders set, URLs valid, who has no channel."""
    from sqlalchemy import delete, select

    from notify.contacts import ContactBook, ContactsError
    from notify.deliver import channels_for
    from storage.catalog import current_plan
    from storage.db import session_scope
    from storage.models import ContactChannel, Division, Person

    path = file or get_settings().CONTACTS_FILE
    if path is None:
        typer.echo("no CONTACTS_FILE: every message goes to the local outbox (`campaign outbox`)")
        return
    try:
        book = ContactBook.load(path)
    except ContactsError as exc:
        fail(str(exc))
        return
    with session_scope() as s:
        c, _ = current_plan(s, campaign or get_settings().CAMPAIGN)
        people = s.scalars(select(Person).where(Person.campaign_id == c.id).order_by(Person.key)).all()
        names: dict[str, list[str]] = {}
        for code, name, short in s.execute(select(Division.code, Division.name, Division.short_name)):
            names[code] = [name, short]
        known = {p.key for p in people} | {
            f"{p.role}@{n}" for p in people if p.unit_code for n in names.get(p.unit_code, [])
        }
        unknown = sorted(w for w in book.people() if w not in known)
        without = []
        for p in people:
            chans = channels_for(p, book, names)
            if not chans:
                without.append(p.display)
            if sync:
                s.execute(delete(ContactChannel).where(ContactChannel.person_id == p.id))
                for i, ch in enumerate(chans, start=1):
                    s.add(
                        ContactChannel(
                            person_id=p.id,
                            priority=i,
                            kind=ch.scheme,
                            url_ref=f"{Path(path).name}#{_entry_no(book, ch.shown)}",
                        )
                    )
    typer.echo(f"{path}: {len(book.entries)} URLs, placeholders all set")
    for w in unknown:
        typer.echo(f"  ? tag '{w}' matches nobody in the directory")
    typer.echo(f"  {len(people) - len(without)} of {len(people)} people have a channel")
    for d in without[:50]:
        typer.echo(f"  - no channel: {d}")
    if len(without) > 50:
        typer.echo(f"  … and {len(without) - 50} more")
    from apprise import AppriseAsset

    from notify.plugins import make_service

    asset = AppriseAsset()
    bad = [e for e in book.entries if e.scheme != "outbox" and make_service(e.url, asset, 8.0) is None]
    for e in bad:
        typer.echo(f"  ✘ urls[{e.number}] {e.written}: Apprise cannot load this URL (check its parts)")
    if bad:
        raise typer.Exit(1)


def _entry_no(book: Any, written: str) -> int:
    for e in book.entries:
        if e.written == written:
            return int(e.number)
    return 0


def register(app: typer.Typer) -> None:
    app.command("ack")(ack)
    app.command("extend")(extend)
    app.command("outbox")(outbox)
    app.command("notify")(notify_command)
    app.command("contacts")(contacts)
