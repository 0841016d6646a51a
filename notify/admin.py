"""Acknowledging an item (reminders stop; the escalation clock does not) and extending its due
time (延期). Both are admin acts recorded in the audit log with who, when and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from storage.models import AuditEntry, DutyInstance


class AdminError(ValueError):
    pass


def _instance(session: Session, campaign_id: int, instance_id: int) -> DutyInstance:
    inst = session.get(DutyInstance, instance_id)
    if inst is None or inst.campaign_id != campaign_id:
        raise AdminError(f"no duty instance #{instance_id} in this campaign")
    return inst


def _audit(
    session: Session,
    campaign_id: int,
    at: dt.datetime,
    actor: str,
    action: str,
    inst: DutyInstance,
    details: dict[str, Any],
) -> None:
    session.add(
        AuditEntry(
            campaign_id=campaign_id, at=at, actor=actor, action=action, subject=f"instance:{inst.id}", details=details
        )
    )


def acknowledge(
    session: Session, campaign_id: int, instance_id: int, actor: str, at: dt.datetime, note: str | None = None
) -> bool:
    """Mark an item acknowledged at ``at``: no more reminders about it. Returns False if it
    already was (nothing recorded then)."""
    if not actor.strip():
        raise AdminError("say who acknowledges (--by)")
    inst = _instance(session, campaign_id, instance_id)
    if inst.acknowledged_at is not None:
        return False
    inst.acknowledged_at = at
    _audit(
        session,
        campaign_id,
        at,
        actor,
        "acknowledge",
        inst,
        {"unit": inst.unit_name, "period": inst.period_key, "note": note},
    )
    session.flush()
    return True


def extend(
    session: Session, campaign_id: int, instance_id: int, to: dt.datetime, actor: str, at: dt.datetime, reason: str
) -> dt.datetime | None:
    """Move the item's due time to ``to`` (later than the current one); returns the previous
    extension, if any. Reminders count back from the new time; should it pass too, the overdue
    clock restarts from it."""
    if not actor.strip():
        raise AdminError("say who grants the extension (--by)")
    if not reason.strip():
        raise AdminError("an extension needs a reason (--reason)")
    if to.tzinfo is None:
        raise AdminError("the new due time needs a time zone")
    inst = _instance(session, campaign_id, instance_id)
    if inst.completed_at is not None and inst.completed_at <= at:
        raise AdminError(f"instance #{instance_id} is already done")
    current = inst.extended_to or inst.due_at
    if to <= current:
        raise AdminError(f"the new due time {to.isoformat()} is not later than the current {current.isoformat()}")
    previous = inst.extended_to
    inst.extended_to = to
    _audit(
        session,
        campaign_id,
        at,
        actor,
        "extend",
        inst,
        {
            "unit": inst.unit_name,
            "period": inst.period_key,
            "due_at": inst.due_at.isoformat(),
            "previous": previous.isoformat() if previous else None,
            "extended_to": to.isoformat(),
            "reason": reason,
        },
    )
    session.flush()
    return previous
