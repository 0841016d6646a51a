"""Sending one message to one person: their channels in order until one takes it.

Called from the delivery thread pool (one person per thread, never touching the database). Each
channel is an Apprise service (``notify.plugins.make_service``) notified through ``apprise.Apprise``
with a per-service deadline; what Apprise logged at WARNING or above is kept as the reason, with
every credential masked. A message longer than the channel takes is cut by bytes into numbered
chunks, all of which must be accepted. A service that keeps timing out in this run is skipped for
the rest of the run so that it cannot hold the others up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import apprise
from apprise import AppriseAsset

import notify.outbox  # noqa: F401 - registers the outbox:// plugin with Apprise
from notify.config import NotifyConfig
from notify.digest import cut_bytes, utf8_len
from notify.outbox import collecting
from notify.plugins import SHORT_SCHEMES, byte_limit, make_service
from storage.models import OutboxMessage

SLOW_STRIKES = 3  # timeouts of one service in one run before it is skipped


@dataclass
class Attempt:
    channel: str  # privacy URL, or the URL as written when Apprise could not load it
    ok: bool
    error: str | None = None
    seconds: float = 0.0


@dataclass
class Outcome:
    ok: bool
    channel: str | None = None
    error: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """Where one channel sends: the URL with credentials (never shown) and what may be shown."""

    url: str = field(repr=False)
    shown: str
    scheme: str


class _MaskRecords(logging.Filter):
    """Masks credentials in the records of Apprise and urllib3 (whose DEBUG lines carry URLs)."""

    def __init__(self, mask: Callable[[str], str]):
        super().__init__()
        self.mask = mask

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            return True
        masked = self.mask(text)
        if masked != text:
            record.msg, record.args = masked, None
        return True


MASKED_LOGGERS = ("apprise", "urllib3.connectionpool", "notify")
log = logging.getLogger("notify")


def size_apprise_pool(workers: int) -> None:
    """Apprise 2.x runs every service call that has a deadline in one process-wide thread pool of
    min(32, CPUs + 4) workers: on a 2-CPU host six sends at a time, whatever NOTIFY_CONCURRENCY
    says. Give that pool at least ``workers`` threads (Apprise has no setting for it; if its
    internals change, sends still work, just with Apprise's own pool)."""
    try:
        import concurrent.futures as cf

        import apprise.apprise as ap

        with ap._shared_executor_lock:
            current = ap._shared_executor
            if current is None or getattr(current, "_max_workers", 0) < workers:
                ap._shared_executor = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="apprise")
    except (ImportError, AttributeError) as exc:  # pragma: no cover - another Apprise version
        log.info("could not size Apprise's worker pool (%s); using its default", exc)


class Transport:
    """One per delivery run: the Apprise asset (persistent store for WeCom tokens) and the run's
    record of slow services."""

    def __init__(self, config: NotifyConfig, mask: Callable[[str], str] = lambda s: s):
        self.config = config
        self.mask = mask
        kw: dict[str, object] = {"service_timeout": config.timeout, "secure_logging": True}
        if config.storage_path is not None:
            config.storage_path.mkdir(parents=True, exist_ok=True)
            kw.update(storage_path=str(config.storage_path), storage_mode="flush")
        self.asset = AppriseAsset(**kw)  # type: ignore[arg-type]
        self._lock = threading.Lock()
        self._slow: dict[str, int] = {}
        self._filter = _MaskRecords(mask)
        size_apprise_pool(config.concurrency + 4)

    def __enter__(self) -> Transport:
        for name in MASKED_LOGGERS:
            logging.getLogger(name).addFilter(self._filter)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in MASKED_LOGGERS:
            logging.getLogger(name).removeFilter(self._filter)

    def _strike(self, key: str) -> None:
        with self._lock:
            self._slow[key] = self._slow.get(key, 0) + 1

    def _skipped(self, key: str) -> bool:
        with self._lock:
            return self._slow.get(key, 0) >= SLOW_STRIKES

    def send(self, targets: list[Target], title: str, body: str, short: str, at: object) -> Outcome:
        """Try each target in order; the first that accepts every chunk wins."""
        out = Outcome(ok=False)
        errors: list[str] = []
        with collecting(at) as box:  # type: ignore[arg-type]
            for t in targets:
                a = self._send_one(t, title, body, short)
                out.attempts.append(a)
                if a.ok:
                    out.ok, out.channel = True, a.channel
                    out.outbox = list(box)
                    break
                errors.append(f"{a.channel}: {a.error}")
                box.clear()  # an outbox chunk of a channel that failed later is not a delivery
        if not targets:
            errors.append("no channel for this person in the contact directory")
        if not out.ok:
            out.error = self.mask("; ".join(errors))[:2000]
        return out

    def _send_one(self, t: Target, title: str, body: str, short: str) -> Attempt:
        obj = make_service(t.url, self.asset, self.config.timeout)
        if obj is None:
            return Attempt(t.shown, False, "Apprise cannot load this URL (check it with `campaign contacts`)")
        shown = self.mask(obj.url(privacy=True))
        key = obj.url_id() or shown
        if self._skipped(key):
            return Attempt(shown, False, "skipped: this service kept timing out in this run")
        if t.scheme in SHORT_SCHEMES:
            chunks = [("", short)]  # an SMS template variable: a count and a pointer, not the list
        else:
            limit = byte_limit(t.scheme, obj)
            merged = not getattr(obj, "title_maxlen", 1)  # the service has no title: it goes in the body
            text = f"{title}\n{body}" if merged else body
            if utf8_len(text) <= limit:
                chunks = [("" if merged else title, text)]
            else:
                pieces = cut_bytes(text, limit - 16)
                n = len(pieces)
                chunks = [
                    ("" if merged else f"{title}（{k}/{n}）", f"（{k}/{n}）{p}" if merged else p)
                    for k, p in enumerate(pieces, start=1)
                ]
        started = time.monotonic()
        for chunk_title, chunk_body in chunks:
            ap = apprise.Apprise(asset=self.asset)
            ap.add(obj)
            t0 = time.monotonic()
            result = ap.notify(body=chunk_body, title=chunk_title)
            spent = time.monotonic() - t0
            if not result:
                if spent >= 0.9 * min(obj.socket_read_timeout, obj.socket_connect_timeout):
                    self._strike(key)
                logs = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
                reason = " | ".join(dict.fromkeys(logs)) or f"not accepted ({result.status.name})"
                return Attempt(shown, False, self.mask(reason), time.monotonic() - started)
        return Attempt(shown, True, None, time.monotonic() - started)
