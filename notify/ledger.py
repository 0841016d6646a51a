"""The notification ledger: claim before send, mark after; exactly one send per key.

A row is created once per (recipient, item, step) with a unique ``dedup_key`` (INSERT … ON
CONFLICT DO NOTHING). A run claims pending rows with a conditional UPDATE that stamps its own
token, so two runs at once never take the same row; after the channel answers, the rows are
marked sent or failed (failed rows come back after a back-off).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import Notification
from storage.upsert import insert_ignore

LEASE = dt.timedelta(minutes=15)  # a 'sending' claim older than this was abandoned by a dead run


def dedup_key(person_id: int, instance_id: int, step: str, drill: bool = False) -> str:
    return f"{'drill:' if drill else ''}p{person_id}:i{instance_id}:{step}"


def record(session: Session, rows: Sequence[dict[str, object]]) -> int:
    return insert_ignore(session, Notification.__table__, rows, ["dedup_key"])


def claim(session: Session, campaign_id: int, as_of: dt.datetime, township: str | None = None) -> list[Notification]:
    """Take every row that may go out now; returns the rows this run owns."""
    token = uuid.uuid4().hex
    cond = [
        Notification.campaign_id == campaign_id,
        Notification.not_before <= as_of,
        Notification.next_attempt_at <= as_of,
        or_(
            Notification.status.in_(("pending", "failed")),
            (Notification.status == "sending") & (Notification.claimed_at < as_of - LEASE),
        ),
    ]
    if township is not None:
        cond.append(Notification.township_code == township)
    session.execute(
        update(Notification)
        .where(*cond)
        .values(status="sending", claim_token=token, claimed_at=as_of)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(Notification).where(Notification.claim_token == token).order_by(Notification.person_id,
                                                                                   Notification.id)
        )
    )


def mark(
    session: Session,
    rows: Sequence[Notification],
    ok: bool,
    as_of: dt.datetime,
    message_id: int | None,
    error: str | None,
    backoff_minutes: Sequence[int],
) -> None:
    for n in rows:
        n.attempts += 1
        n.message_id = message_id
        if ok:
            n.status, n.sent_at, n.last_error = "sent", as_of, None
        else:
            delay = backoff_minutes[min(n.attempts - 1, len(backoff_minutes) - 1)] if backoff_minutes else 30
            n.status, n.last_error = "failed", error
            n.next_attempt_at = as_of + dt.timedelta(minutes=delay)
    session.flush()
