"""Turning due steps into ledger rows, and ledger rows into digests sent through Apprise.

``plan_notifications(session, ctx)`` records one ledger row per (recipient, instance, step) due by
``as_of``; ``deliver(session, plan, campaign_id, as_of, township)`` sends what may go out now: one
digest per person (split into parts when long), on the person's channels from the contact
directory in order (the local outbox without one), to different people at once. Drill mode
(setting ``DRILL_URL``) records separate drill rows and sends every message to that one URL.
See notify/ledger.py for the exactly-once protocol and docs/operations.md for operations.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict, deque
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from campaign.workdays import WorkCalendar, default_calendar
from notify.config import NotifyConfig
from notify.contacts import ContactBook, Masker, load_contacts, url_secrets
from notify.digest import DRILL, item_line, line_for, short_text, split_digest, title_for
from notify.ledger import claim, dedup_key, expire_stale, mark_failed, mark_sent, record, renew
from notify.outbox import outbox_url
from notify.plugins import BYTE_LIMITS, DEFAULT_BYTE_LIMIT, SHORT_SCHEMES, class_for_scheme
from notify.recipients import Directory, resolve
from notify.steps import DueStep, due_steps, in_quiet, shift_out_of_quiet
from notify.transport import Outcome, Target, Transport
from plan.schema import Duty, Plan, ReminderPolicy
from storage.models import Division, DutyInstance, Message, Notification, Person
from storage.models import Duty as DutyRow
from tasks.instances import DutyContext, _scope, overdue_condition

log = logging.getLogger("notify")

KIND_ORDER = {"escalation": 0, "overdue": 1, "reminder": 2}


def plan_notifications(session: Session, ctx: DutyContext, *, drill: bool | None = None) -> int:
    """Record a ledger row for every (recipient, instance, step) due by as_of; returns rows new.

    In drill mode (``drill``, default: whether setting DRILL_URL is set) the rows are drill rows,
    keyed apart from the real ones."""
    if drill is None:
        drill = NotifyConfig.from_settings().drill
    _freeze_chains(session, ctx)
    directory = Directory(session, ctx.campaign_id)
    candidates: list[tuple[dict[str, object], DueStep]] = []
    seen: dict[int, set[int]] = defaultdict(set)  # instance → people already escalated to
    steps = sorted(due_steps(session, ctx), key=lambda d: (d.instance_id, d.step.fire_at))
    policy, tz = ctx.plan.reminders, ctx.tz
    for ds in steps:
        people = resolve(ctx, directory, ds.step.target, ds.unit_code, ds.township_code)
        for p in people:
            if ds.step.kind != "reminder":
                if p.id in seen[ds.instance_id]:
                    continue  # the same person already heard of this item at an earlier level
                seen[ds.instance_id].add(p.id)
            not_before = ds.step.fire_at if ctx.duty.urgent else shift_out_of_quiet(ds.step.fire_at, policy, tz)
            row: dict[str, object] = {
                "campaign_id": ctx.campaign_id,
                "dedup_key": dedup_key(p.id, ds.instance_id, ds.step.name, drill, ds.epoch),
                "person_id": p.id,
                "duty_instance_id": ds.instance_id,
                "step": ds.step.name,
                "kind": ds.step.kind,
                "urgent": ctx.duty.urgent,
                "township_code": ds.township_code,
                "drill": drill,
                "status": "pending",
                "not_before": not_before,
                "next_attempt_at": not_before,
                "attempts": 0,
                "created_at": ctx.as_of,
            }
            candidates.append((row, ds))
    # Most of a re-run's rows exist already: skip them before composing their lines and inserting
    # (the insert still ignores a key another run recorded in the meantime).
    known = _existing_keys(session, sorted({ds.instance_id for _, ds in candidates}))
    rows = []
    for row, ds in candidates:
        if row["dedup_key"] not in known:
            row["line"] = line_for(ctx.duty, ds, ctx.as_of, ctx.calendar, tz)
            rows.append(row)
    return record(session, rows)


def _existing_keys(session: Session, instance_ids: list[int]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(instance_ids), 5000):
        out.update(
            session.scalars(
                select(Notification.dedup_key).where(Notification.duty_instance_id.in_(instance_ids[i : i + 5000]))
            )
        )
    return out


def _freeze_chains(session: Session, ctx: DutyContext) -> None:
    """Overdue instances keep the escalation chain in force when they first went overdue
    (flag_overdue does this too; this makes the notifier safe to run on its own)."""
    chain = [s.model_dump(mode="json") for s in ctx.plan.reminders.escalation]
    session.execute(
        update(DutyInstance)
        .where(_scope(ctx), DutyInstance.escalation_chain.is_(None), overdue_condition(ctx.as_of))
        .values(escalation_chain=chain)
        .execution_options(synchronize_session=False)
    )


def channels_for(
    person: Person, book: ContactBook | None = None, unit_names: dict[str, list[str]] | None = None
) -> list[Target]:
    """A person's channels, best first: from the contact directory, else the local outbox."""
    box = outbox_url(person.display)
    if book is None:
        return [Target(box, box, "outbox")]
    aliases = {person.key}
    if person.unit_code:
        aliases.add(f"{person.role}@{person.unit_code}")
        aliases.update(f"{person.role}@{n}" for n in (unit_names or {}).get(person.unit_code, []))
    return [Target(c.url, c.written, c.scheme) for c in book.channels_for(aliases, box)]


@dataclass
class DeliveryReport:
    claimed: int = 0
    messages: int = 0
    sent: int = 0
    failed: int = 0
    expired: int = 0
    resumed: int = 0
    skipped: int = 0  # messages whose rows another run took over (not sent by us)
    drill: bool = False


@dataclass
class _Job:
    person: str
    targets: list[Target]
    messages: list[tuple[Message, list[Notification]]] = field(default_factory=list)


def deliver(
    session: Session,
    plan: Plan,
    campaign_id: int,
    as_of: dt.datetime,
    township: str | None = None,
    *,
    config: NotifyConfig | None = None,
    calendar: WorkCalendar | None = None,
) -> DeliveryReport:
    """Claim what may go out now and send one digest per person; every row ends sent, failed
    (retried later) or expired. Commits as it goes (claims, then each person's outcome)."""
    cfg = config or NotifyConfig.from_settings()
    tz = ZoneInfo(plan.campaign.timezone)
    policy = plan.reminders
    book = None if cfg.drill else load_contacts(cfg.contacts_file)
    report = DeliveryReport(drill=cfg.drill)
    report.expired = expire_stale(session, campaign_id, as_of, township, cfg.drill)
    rows = claim(
        session, campaign_id, as_of, township, drill=cfg.drill, urgent_only=in_quiet(as_of, policy, tz), lease=cfg.lease
    )
    report.claimed = len(rows)
    if not rows:
        session.commit()
        return report
    token = rows[0].claim_token
    assert token is not None
    jobs = _compose(session, plan, campaign_id, as_of, rows, cfg, book, calendar or default_calendar(), tz, report)
    session.commit()  # claims and composed messages are on disk before anything is sent

    masker = (book.masker if book else Masker()) + (url_secrets(cfg.drill_url) if cfg.drill_url else Masker())
    queue = deque(jobs)
    order: deque[tuple[Future[list[Outcome]], _Job]] = deque()  # in submission (person) order
    with (
        Transport(cfg, mask=masker) as transport,
        ThreadPoolExecutor(max_workers=cfg.concurrency, thread_name_prefix="notify") as pool,
    ):
        while queue or order:
            running = sum(not f.done() for f, _ in order)
            if queue and running < cfg.concurrency:
                batch = [queue.popleft() for _ in range(min(len(queue), 2 * cfg.concurrency - running))]
                ours = renew(session, token, {m.id: len(rs) for job in batch for m, rs in job.messages})
                session.commit()
                for job in batch:
                    live = [(m, rs) for m, rs in job.messages if m.id in ours]
                    report.skipped += len(job.messages) - len(live)
                    if live:
                        job.messages = live
                        payload = [(m.title, m.body, short_text([n.kind for n in rs])) for m, rs in live]
                        order.append((pool.submit(_send_job, transport, job.targets, payload, as_of), job))
            # Outcomes are recorded in the order the people were taken (stable ids, readable logs);
            # the sends themselves run at once and finish in any order.
            done: list[tuple[_Job, list[Outcome]]] = []
            while order and order[0][0].done():
                fut, job = order.popleft()
                done.append((job, fut.result()))
            if done:
                _record(session, token, done, as_of, policy, tz, report)
                session.commit()
            elif order:
                wait([f for f, _ in order if not f.done()], return_when=FIRST_COMPLETED)
    return report


def _record(
    session: Session,
    token: str,
    done: list[tuple[_Job, list[Outcome]]],
    as_of: dt.datetime,
    policy: ReminderPolicy,
    tz: ZoneInfo,
    report: DeliveryReport,
) -> None:
    sent: list[tuple[Message, list[Notification], str | None, int]] = []
    for job, outcomes in done:
        for (msg, rs), oc in zip(job.messages, outcomes, strict=True):
            if oc.ok:
                session.add_all(oc.outbox)
                sent.append((msg, rs, oc.channel, len(oc.attempts)))
                log.info("sent %s to %s via %s", msg.title, job.person, oc.channel)
            else:
                mark_failed(session, msg, rs, as_of, oc.error or "failed", len(oc.attempts), policy, tz)
                report.failed += 1
                log.warning("could not send %s to %s: %s", msg.title, job.person, oc.error)
    mark_sent(session, token, sent, as_of)
    report.sent += len(sent)


def _send_job(
    transport: Transport, targets: list[Target], payload: list[tuple[str, str, str]], at: dt.datetime
) -> list[Outcome]:
    out = []
    for title, body, short in payload:
        try:
            out.append(transport.send(targets, title, body, short, at))
        except Exception as exc:
            out.append(Outcome(ok=False, error=f"internal error while sending: {type(exc).__name__}"))
    return out


def _compose(
    session: Session,
    plan: Plan,
    campaign_id: int,
    as_of: dt.datetime,
    rows: list[Notification],
    cfg: NotifyConfig,
    book: ContactBook | None,
    cal: WorkCalendar,
    tz: ZoneInfo,
    report: DeliveryReport,
) -> list[_Job]:
    """Group the claimed rows into messages: stored messages a dead run left 'sending' are resent
    as they are (same text); the rest make one digest per person, in parts that fit the
    person's first channel."""
    msg_ids = {n.message_id for n in rows if n.message_id is not None}
    stored = {
        m.id: m for m in session.scalars(select(Message).where(Message.id.in_(msg_ids), Message.status == "sending"))
    }
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_({n.person_id for n in rows})))}
    unit_names: dict[str, list[str]] = defaultdict(list)
    codes = {p.unit_code for p in people.values() if p.unit_code}
    if book is not None and codes:
        for code, name, short in session.execute(
            select(Division.code, Division.name, Division.short_name).where(Division.code.in_(codes))
        ):
            unit_names[code] += [name, short]
    iids = {n.duty_instance_id for n in rows if n.duty_instance_id is not None}
    inst = {
        r.id: r
        for r in session.execute(
            select(
                DutyInstance.id,
                DutyInstance.unit_name,
                DutyInstance.period_key,
                DutyInstance.due_at,
                DutyInstance.extended_to,
                DutyRow.key.label("duty_key"),
            )
            .join(DutyRow, DutyRow.id == DutyInstance.duty_id)
            .where(DutyInstance.id.in_(iids))
        )
    }
    duties = {d.key: d for d in plan.duties()}

    by_person: dict[int, list[Notification]] = defaultdict(list)
    resumed: dict[int, dict[int, list[Notification]]] = defaultdict(lambda: defaultdict(list))
    for n in rows:
        if n.message_id in stored:
            resumed[n.person_id][n.message_id].append(n)  # type: ignore[index]
        else:
            by_person[n.person_id].append(n)

    jobs: list[_Job] = []
    new_msgs: list[tuple[Message, list[Notification]]] = []
    for pid in sorted(set(by_person) | set(resumed)):
        person = people[pid]
        targets = (
            [Target(cfg.drill_url, "DRILL_URL", cfg.drill_url.split("://", 1)[0].lower())]
            if cfg.drill_url
            else channels_for(person, book, unit_names)
        )
        job = _Job(person.display, targets)
        for mid, rs in resumed.get(pid, {}).items():
            job.messages.append((stored[mid], rs))
            report.resumed += 1
        items = by_person.get(pid, [])
        if items:
            items.sort(key=lambda n: (KIND_ORDER.get(n.kind, 3), _due(inst, n), n.id))
            lines = [_line(n, inst, duties, as_of, cal, tz) for n in items]
            title = title_for(plan.campaign.city, {n.kind for n in items}, as_of, tz, drill=cfg.drill)
            preface = f"{DRILL}本消息原应发给：{person.display}（{person.key}）\n" if cfg.drill else ""
            limit, titleless = _first_limit(targets)
            for part in split_digest(title, lines, limit, title_in_body=titleless, preface=preface):
                msg = Message(
                    campaign_id=campaign_id,
                    person_id=pid,
                    title=part.title[:200],
                    body=part.body,
                    drill=cfg.drill,
                    status="sending",
                    created_at=as_of,
                    attempts=0,
                )
                session.add(msg)
                new_msgs.append((msg, [items[i] for i in part.items]))
                job.messages.append(new_msgs[-1])
        report.messages += len(job.messages)
        jobs.append(job)
    session.flush()  # the new messages get their ids (one batched INSERT)
    for msg, part_rows in new_msgs:  # link each message's rows: one UPDATE per message
        session.execute(
            update(Notification)
            .where(Notification.id.in_([n.id for n in part_rows]))
            .values(message_id=msg.id)
            .execution_options(synchronize_session=False)
        )
        for n in part_rows:
            set_committed_value(n, "message_id", msg.id)
    return jobs


def _due(inst: Mapping[int, Any], n: Notification) -> dt.datetime:
    r = inst.get(n.duty_instance_id or 0)
    if r is None:
        return n.created_at
    return r.extended_to or r.due_at  # type: ignore[no-any-return]


def _line(
    n: Notification,
    inst: Mapping[int, Any],
    duties: Mapping[str, Duty],
    as_of: dt.datetime,
    cal: WorkCalendar,
    tz: ZoneInfo,
) -> str:
    """The item's line as of now (how late it is today), or the line recorded when it was planned."""
    r = inst.get(n.duty_instance_id or 0)
    duty = duties.get(r.duty_key) if r is not None else None
    if r is None or duty is None:
        return n.line
    return item_line(duty, r.period_key, r.unit_name, n.kind, r.extended_to or r.due_at, as_of, cal, tz)


def _first_limit(targets: list[Target]) -> tuple[int, bool]:
    """Byte limit of the first channel that takes a full digest, and whether its title goes in the body."""
    for t in targets:
        if t.scheme in SHORT_SCHEMES:
            continue
        cls = class_for_scheme(t.scheme)
        limit = BYTE_LIMITS.get(t.scheme) or min(
            int(getattr(cls, "body_maxlen", 0) or DEFAULT_BYTE_LIMIT), DEFAULT_BYTE_LIMIT
        )
        return limit, cls is not None and not getattr(cls, "title_maxlen", 1)
    return DEFAULT_BYTE_LIMIT, False
