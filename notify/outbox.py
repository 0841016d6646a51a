"""The embedded default channel: an Apprise custom plugin ``outbox://<recipient>`` that records
each message in the database instead of sending it anywhere (``campaign outbox`` lists them).

While a notifier run is under way its session is the target (``writing_to``), so the outbox row
commits together with the ledger rows that say it was sent; outside a run each message is its
own unit of work.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, unquote

from apprise.decorators import notify
from sqlalchemy.orm import Session

from storage.db import session_scope
from storage.models import OutboxMessage

_lock = threading.Lock()
_target: Session | None = None
_clock: dt.datetime | None = None


@contextmanager
def writing_to(session: Session, at: dt.datetime) -> Iterator[None]:
    """Send outbox messages into ``session``, stamped ``at`` (the run's as_of)."""
    global _target, _clock
    with _lock:
        prev = (_target, _clock)
        _target, _clock = session, at
    try:
        yield
    finally:
        with _lock:
            _target, _clock = prev


def outbox_url(recipient: str) -> str:
    return "outbox://" + quote(recipient, safe="")


@notify(on="outbox", name="Campaign local outbox")
def outbox_plugin(body: str, title: str, notify_type: str, meta: dict[str, Any], *args: Any, **kwargs: Any) -> bool:
    recipient = unquote((meta.get("host") or "") + (meta.get("fullpath") or ""))
    with _lock:
        if _target is not None:
            _target.add(OutboxMessage(recipient=recipient, title=title, body=body, created_at=_clock))
            _target.flush()
            return True
    with session_scope() as s:
        s.add(OutboxMessage(recipient=recipient, title=title, body=body, created_at=dt.datetime.now(dt.UTC)))
    return True
