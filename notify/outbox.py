"""The embedded default channel: an Apprise custom plugin ``outbox://<recipient>`` that records
each message in the database instead of sending it anywhere (``campaign outbox`` lists them).

During a delivery run each send collects its outbox rows (``collecting``, a context variable that
follows the send into Apprise's worker threads); the run's main thread writes them in the same
transaction as the ledger rows that say they were sent, so an outbox message is recorded exactly
once. Outside a run each message is its own unit of work.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, unquote

from apprise.decorators import notify

from storage.db import session_scope
from storage.models import OutboxMessage

_collector: contextvars.ContextVar[tuple[list[OutboxMessage], dt.datetime] | None] = contextvars.ContextVar(
    "outbox_collector", default=None
)


@contextmanager
def collecting(at: dt.datetime) -> Iterator[list[OutboxMessage]]:
    """Collect the outbox messages sent in this context (and the threads it starts) in a list."""
    box: list[OutboxMessage] = []
    token = _collector.set((box, at))
    try:
        yield box
    finally:
        _collector.reset(token)


def outbox_url(recipient: str) -> str:
    return "outbox://" + quote(recipient, safe="")


@notify(on="outbox", name="Campaign local outbox")
def outbox_plugin(body: str, title: str, notify_type: str, meta: dict[str, Any], *args: Any, **kwargs: Any) -> bool:
    recipient = unquote((meta.get("host") or "") + (meta.get("fullpath") or ""))
    collector = _collector.get()
    if collector is not None:
        box, at = collector
        box.append(OutboxMessage(recipient=recipient, title=title, body=body, created_at=at))
        return True
    with session_scope() as s:
        s.add(OutboxMessage(recipient=recipient, title=title, body=body, created_at=dt.datetime.now(dt.UTC)))
    return True
