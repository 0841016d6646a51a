"""Turning due steps into ledger rows, and ledger rows into sent digests through Apprise."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import apprise
from sqlalchemy.orm import Session

import notify.outbox  # noqa: F401 - registers the outbox:// plugin with Apprise
from campaign.workdays import WorkCalendar
from notify.digest import compose, line_for
from notify.ledger import claim, dedup_key, mark, record
from notify.outbox import outbox_url, writing_to
from notify.recipients import Directory, resolve
from notify.steps import due_steps, shift_out_of_quiet
from plan.schema import Plan
from storage.models import Message, Notification, Person
from tasks.instances import DutyContext


def plan_notifications(session: Session, ctx: DutyContext) -> int:
    """Record a ledger row for every (recipient, instance, step) due by as_of; returns rows new."""
    directory = Directory(session, ctx.campaign_id)
    rows: list[dict[str, object]] = []
    seen: dict[int, set[int]] = defaultdict(set)  # instance → people already escalated to
    steps = sorted(due_steps(session, ctx), key=lambda d: (d.instance_id, d.step.fire_at))
    for ds in steps:
        people = resolve(ctx, directory, ds.step.target, ds.unit_code, ds.township_code)
        for p in people:
            if ds.step.kind != "reminder":
                if p.id in seen[ds.instance_id]:
                    continue  # the same person already heard of this item at an earlier level
                seen[ds.instance_id].add(p.id)
            not_before = ds.step.fire_at
            if not ctx.duty.urgent:
                not_before = shift_out_of_quiet(not_before, ctx.plan.reminders, ctx.tz)
            rows.append(
                {
                    "campaign_id": ctx.campaign_id,
                    "dedup_key": dedup_key(p.id, ds.instance_id, ds.step.name),
                    "person_id": p.id,
                    "duty_instance_id": ds.instance_id,
                    "step": ds.step.name,
                    "township_code": ds.township_code,
                    "drill": False,
                    "status": "pending",
                    "not_before": not_before,
                    "next_attempt_at": not_before,
                    "attempts": 0,
                    "created_at": ctx.as_of,
                    "line": ds.step.kind + "|" + line_for(ctx.duty, ds, ctx.as_of, ctx.calendar, ctx.tz),
                }
            )
    return record(session, rows)


def channels_for(person: Person) -> list[str]:
    """Apprise URLs for a person, best first. The embedded default is the local outbox."""
    return [outbox_url(person.display)]


@dataclass
class DeliveryReport:
    claimed: int = 0
    messages: int = 0
    sent: int = 0
    failed: int = 0


def deliver(
    session: Session, plan: Plan, campaign_id: int, as_of: dt.datetime, township: str | None = None
) -> DeliveryReport:
    """Claim what may go out now and send one digest per person; mark every row sent or failed."""
    tz = ZoneInfo(plan.campaign.timezone)
    rows = claim(session, campaign_id, as_of, township)
    report = DeliveryReport(claimed=len(rows))
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for n in rows:
        by_person[n.person_id].append(n)
    with writing_to(session, as_of):
        for person_id, items in by_person.items():
            person = session.get(Person, person_id)
            assert person is not None
            kinds = {n.line.split("|", 1)[0] for n in items}
            title, body = compose(plan.campaign.city, kinds, [n.line.split("|", 1)[1] for n in items], as_of, tz)
            ok, channel, error = _send(channels_for(person), title, body)
            msg = Message(
                campaign_id=campaign_id,
                person_id=person_id,
                title=title,
                body=body,
                drill=False,
                status="sent" if ok else "failed",
                channel=channel,
                error=error,
                created_at=as_of,
            )
            session.add(msg)
            session.flush()
            mark(session, items, ok, as_of, msg.id, error, plan.reminders.retry_backoff_minutes)
            report.messages += 1
            report.sent += ok
            report.failed += not ok
    return report


def _send(urls: list[str], title: str, body: str) -> tuple[bool, str | None, str | None]:
    """Try each channel in order until one accepts; returns (ok, privacy URL, error)."""
    errors = []
    for url in urls:
        a = apprise.Apprise()
        if not a.add(url):
            errors.append("invalid channel URL")
            continue
        privacy = a[0].url(privacy=True)
        if a.notify(body=body, title=title):
            return True, privacy, None
        errors.append(f"{privacy}: rejected")
    return False, None, "; ".join(errors) or "no channel"
