"""The notification ledger: claim before send, mark after; one send per key, nothing dropped.

A row is created once per (recipient, item, step, period) with a unique ``dedup_key``
(INSERT … ON CONFLICT DO NOTHING), so re-running a day records nothing new. Delivery:

1. *expire* what can no longer be useful (done, acknowledged, superseded by a later step or an
   extension, past its window) — status 'expired' with the reason, never deleted;
2. *claim* what may go out now with one conditional UPDATE stamping a fresh token (status
   'sending', ``claimed_at`` = wall clock), and commit: two runs never hold the same row;
3. compose the digests (``Message`` rows, status 'sending') and commit: what will be sent is on
   disk before anything is sent;
4. per person, *renew* the lease (only if the rows still carry our token), send, then *mark* the
   message's rows sent or failed together, and commit.

A run that dies between a channel's acceptance and step 4's commit leaves rows 'sending'; once the
lease (15 min, wall clock) has run out the next run resumes them by sending the *stored* message
again — at least once in that window (see docs/operations.md for what each channel does
with the repeat). Failed rows return after the back-off (``retry_backoff_minutes``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notify.config import LEASE
from notify.steps import epoch_of, shift_out_of_quiet, step_rank
from plan.schema import ReminderPolicy
from storage.models import DutyInstance, Message, Notification
from storage.upsert import insert_ignore

UNSENT = ("pending", "failed")


def dedup_key(person_id: int, instance_id: int, step: str, drill: bool = False, epoch: str = "") -> str:
    return f"{'drill:' if drill else ''}p{person_id}:i{instance_id}:{step}{'@' + epoch if epoch else ''}"


def epoch_of_key(key: str) -> str:
    return key.rsplit("@", 1)[1] if "@" in key else ""


def record(session: Session, rows: Sequence[dict[str, object]]) -> int:
    """Insert the rows whose key is new (INSERT … ON CONFLICT DO NOTHING); returns how many were.

    With RETURNING, SQLAlchemy sends many rows per statement ("insertmanyvalues"): a catch-up run
    records tens of thousands of rows, and a plain executemany of that many statements takes
    seconds on PostgreSQL."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return insert_ignore(session, Notification.__table__, rows, ["dedup_key"])
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = ins(Notification).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(Notification.id)
    total = 0
    for i in range(0, len(rows), 2000):
        total += len(session.execute(stmt, list(rows[i : i + 2000])).all())
    return total


def wall_clock() -> dt.datetime:
    # Leases are about processes, not about the plan: they run on the wall clock, not as_of.
    return dt.datetime.now(dt.UTC)


def claim(
    session: Session,
    campaign_id: int,
    as_of: dt.datetime,
    township: str | None = None,
    *,
    drill: bool = False,
    urgent_only: bool = False,
    now: dt.datetime | None = None,
    lease: dt.timedelta = LEASE,
) -> list[Notification]:
    """Take every row that may go out now (and every abandoned claim); returns the rows this run owns."""
    now = now or wall_clock()
    token = uuid.uuid4().hex
    cond = [
        Notification.campaign_id == campaign_id,
        Notification.drill.is_(drill),
        Notification.not_before <= as_of,
        Notification.next_attempt_at <= as_of,
        or_(
            Notification.status.in_(UNSENT),
            and_(Notification.status == "sending", Notification.claimed_at < now - lease),
        ),
    ]
    if urgent_only:
        cond.append(Notification.urgent.is_(True))
    if township is not None:
        cond.append(Notification.township_code == township)
    session.execute(
        update(Notification)
        .where(*cond)
        .values(status="sending", claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = list(
        session.scalars(
            select(Notification)
            .where(Notification.claim_token == token)
            .order_by(Notification.person_id, Notification.id)
            .execution_options(populate_existing=True)
        )
    )
    return rows


def renew(session: Session, token: str, expected: dict[int, int], now: dt.datetime | None = None) -> set[int]:
    """Extend our lease on the rows of these messages (message id → rows it carries) right before
    sending them; returns the messages whose rows are all still ours (the others are not sent)."""
    if not expected:
        return set()
    ids = list(expected)
    mine = (Notification.message_id.in_(ids), Notification.claim_token == token, Notification.status == "sending")
    session.execute(
        update(Notification)
        .where(*mine)
        .values(claimed_at=now or wall_clock())
        .execution_options(synchronize_session=False)
    )
    counts = dict(
        session.execute(select(Notification.message_id, func.count()).where(*mine).group_by(Notification.message_id))
        .tuples()
        .all()
    )
    return {mid for mid, n in expected.items() if counts.get(mid) == n}


def mark_sent(
    session: Session,
    token: str,
    sent: Sequence[tuple[Message, Sequence[Notification], str | None, int]],
    as_of: dt.datetime,
) -> None:
    """Messages a channel accepted, with all their rows: (message, rows, channel, channel attempts).

    Two statements for the whole batch (set-based; the sending threads hold the interpreter lock
    most of the time, so fewer statements is what keeps the ledger up with them)."""
    if not sent:
        return
    ids = [m.id for m, *_ in sent]
    session.execute(
        update(Notification)
        .where(Notification.message_id.in_(ids), Notification.claim_token == token, Notification.status == "sending")
        .values(status="sent", sent_at=as_of, last_error=None, claim_token=None, attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    t = cast(Table, Message.__table__)  # Core executemany: one UPDATE per message, one call
    session.execute(
        update(t)
        .where(t.c.id == bindparam("mid"))
        .values(
            status="sent", channel=bindparam("ch"), error=None, sent_at=as_of, attempts=t.c.attempts + bindparam("n")
        ),
        [{"mid": m.id, "ch": (ch or "")[:200] or None, "n": n} for m, _, ch, n in sent],
    )
    for m, rows, _, _ in sent:
        session.expire(m)
        for r in rows:
            session.expire(r)


def mark_failed(
    session: Session,
    msg: Message,
    rows: Sequence[Notification],
    as_of: dt.datetime,
    error: str,
    attempts: int,
    policy: ReminderPolicy,
    tz: ZoneInfo,
) -> None:
    """All rows of the message failed together; each comes back after its back-off (outside
    quiet hours unless urgent)."""
    msg.status, msg.error = "failed", error
    msg.attempts += attempts
    backoff = policy.retry_backoff_minutes or [30]
    for n in rows:
        n.attempts += 1
        n.message_id = msg.id
        delay = backoff[min(n.attempts - 1, len(backoff) - 1)]
        nxt = as_of + dt.timedelta(minutes=delay)
        n.status, n.last_error, n.claim_token = "failed", error, None
        n.next_attempt_at = nxt if n.urgent else shift_out_of_quiet(nxt, policy, tz)


def expire_stale(
    session: Session, campaign_id: int, as_of: dt.datetime, township: str | None = None, drill: bool = False
) -> int:
    """Close unsent rows that can no longer be useful, each with its reason. Returns rows expired."""
    q = (
        select(
            Notification,
            DutyInstance.completed_at,
            DutyInstance.acknowledged_at,
            DutyInstance.extended_to,
            DutyInstance.alert_after,
        )
        .join(DutyInstance, DutyInstance.id == Notification.duty_instance_id)
        .where(Notification.campaign_id == campaign_id, Notification.drill.is_(drill), Notification.status.in_(UNSENT))
    )
    if township is not None:
        q = q.where(Notification.township_code == township)
    rows = session.execute(q).all()
    if not rows:
        return 0
    iids = sorted({n.duty_instance_id for n, *_ in rows if n.duty_instance_id is not None})
    latest: dict[tuple[int, str], tuple[int, str]] = {}
    for i in range(0, len(iids), 5000):
        for iid, step, key in session.execute(
            select(Notification.duty_instance_id, Notification.step, Notification.dedup_key).where(
                Notification.duty_instance_id.in_(iids[i : i + 5000]), Notification.drill.is_(drill)
            )
        ):
            k = (int(iid or 0), epoch_of_key(key))
            r = step_rank(step)
            if k not in latest or r > latest[k][0]:
                latest[k] = (r, step)
    n_expired = 0
    for n, completed, acked, ext, alert in rows:
        reason = None
        epoch = epoch_of(ext)
        later = latest.get((int(n.duty_instance_id or 0), epoch_of_key(n.dedup_key)))
        if completed is not None and completed <= as_of:
            reason = "completed before it was sent"
        elif epoch_of_key(n.dedup_key) != epoch:
            reason = f"superseded: the due time was extended ({epoch or 'extension withdrawn'})"
        elif n.kind == "reminder" and acked is not None and acked <= as_of:
            reason = "acknowledged: reminders stop"
        elif n.kind == "reminder" and (ext or alert) <= as_of:
            reason = "window passed: the item went overdue and is escalated instead"
        elif later is not None and later[0] > step_rank(n.step) and (n.kind == "reminder" or n.attempts > 0):
            # A reminder is replaced by the next one; an escalation that could not be delivered is
            # closed once the next level is under way (never before it was tried at all).
            reason = f"window passed: superseded by step {later[1]}"
        if reason:
            n.status, n.last_error, n.claim_token = "expired", reason, None
            n_expired += 1
    session.flush()
    return n_expired
