"""What every flow needs: the campaign's plan and the township parameter, resolved once; and the
run lock that keeps two runs over the same township (or the whole city) from interleaving."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, select, update

from campaign.settings import get_settings
from campaign.workdays import WorkCalendar, default_calendar
from plan.schema import Plan
from storage.catalog import current_plan, township_codes
from storage.db import session_scope
from storage.models import Division
from storage.models import RunLock as RunLockRow
from storage.upsert import insert_ignore
from tasks.units import resolve_township


@dataclass(frozen=True)
class RunScope:
    campaign: str
    campaign_id: int
    plan: Plan
    township: str | None  # division code, or None for the whole city
    calendar: WorkCalendar
    township_name: str | None = None


def run_scope(campaign: str | None, township: str | None) -> RunScope:
    code = campaign or get_settings().CAMPAIGN
    with session_scope() as s:
        c, plan = current_plan(s, code)
        town = resolve_township(s, plan, township)
        name = s.scalar(select(Division.name).where(Division.code == town)) if town else None
    cal = default_calendar()
    year = plan.campaign.year
    if not cal.knows(year):
        # Fail before doing anything: a weekends-only guess would move every deadline.
        cal.is_workday(dt.date(year, 1, 1))
    return RunScope(code, c.id, plan, town, cal, name)


# --- run locks -------------------------------------------------------------------------------
#
# A phase run for one township claims the row ``<campaign>:town:<code>``; a city-wide run claims
# ``<campaign>:city`` and every township's row, all in one transaction (all or nothing). So two
# runs of the same township, or a township run and a city run, never work at once, while runs of
# two different townships may. The rows are leases: claimed when free, expired or already ours,
# renewed after each duty subflow, deleted at the end; a crashed run's lease lapses by itself.

LOCK_LEASE = dt.timedelta(minutes=10)
LOCK_WAIT_SECONDS = float(os.environ.get("CAMPAIGN_LOCK_WAIT_SECONDS", "600"))
LOCK_POLL_SECONDS = 1.0


class RunLocked(RuntimeError):
    """Another run holds the township (or city) this run needs and did not let go in time."""


def _wall_clock() -> dt.datetime:
    # A lease is about real time (is its holder still alive?), never about the plan: this reading
    # of the clock decides only who may run now and reaches none of the campaign's logic.
    return dt.datetime.now(dt.UTC)


def lock_names(scope: RunScope) -> list[str]:
    if scope.township:
        return [f"{scope.campaign}:town:{scope.township}"]
    with session_scope() as s:
        towns = township_codes(s, scope.plan)
    return sorted([f"{scope.campaign}:city", *(f"{scope.campaign}:town:{t}" for t in towns)])


@dataclass(frozen=True)
class Holder:
    name: str
    label: str
    acquired_at: dt.datetime
    expires_at: dt.datetime


class RunLock:
    """All-or-nothing lease on ``names``; ``label`` says who holds it (shown to the run refused)."""

    def __init__(
        self,
        names: list[str],
        label: str,
        lease: dt.timedelta = LOCK_LEASE,
        engine: Engine | None = None,
        tz: str = "Asia/Shanghai",
    ) -> None:
        self.names = sorted(set(names))  # one order for every run: no deadlock between claims
        self.label = label[:300]
        self.owner = uuid.uuid4().hex
        self.lease = lease
        self.engine = engine
        self.tz = ZoneInfo(tz)
        self.held = False
        self.on_wait: Callable[[Holder], None] | None = None

    def try_acquire(self) -> list[Holder]:
        """Claim every name or none; returns who holds the ones we could not have (empty: ours)."""
        now = _wall_clock()
        values = {"owner": self.owner, "label": self.label, "acquired_at": now, "expires_at": now + self.lease}
        with session_scope(self.engine) as s:
            insert_ignore(s, RunLockRow.__table__, [{"name": n, **values} for n in self.names], ["name"])
            s.execute(
                update(RunLockRow)
                .where(RunLockRow.name.in_(self.names), RunLockRow.owner != self.owner, RunLockRow.expires_at < now)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            rows = s.execute(
                select(
                    RunLockRow.name, RunLockRow.owner, RunLockRow.label, RunLockRow.acquired_at, RunLockRow.expires_at
                ).where(RunLockRow.name.in_(self.names))
            ).all()
            blockers = [Holder(n, lb, a, e) for n, o, lb, a, e in rows if o != self.owner]
            if blockers:
                s.rollback()  # give back what this attempt took
                return blockers
        self.held = True
        return []

    def acquire(self, wait_seconds: float | None = None) -> None:
        """Wait up to ``wait_seconds`` (default LOCK_WAIT_SECONDS) for the names, else RunLocked."""
        wait = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
        deadline = time.monotonic() + wait
        told = False
        while True:
            blockers = self.try_acquire()
            if not blockers:
                return
            if not told and wait > 0 and self.on_wait is not None:
                self.on_wait(blockers[0])
                told = True
            if time.monotonic() >= deadline:
                raise RunLocked(self._refusal(blockers, wait))
            time.sleep(min(LOCK_POLL_SECONDS, max(0.05, deadline - time.monotonic())))

    def _refusal(self, blockers: list[Holder], wait: float) -> str:
        b = blockers[0]
        since = b.acquired_at.astimezone(self.tz)
        until = b.expires_at.astimezone(self.tz)
        return (
            f"{self.label}：同一范围正由另一运行处理（{b.label}，{since:%Y-%m-%d %H:%M:%S} 起，"
            f"租约至 {until:%H:%M:%S}），等待 {wait:.0f} 秒仍未释放，本次不运行，请稍后再试。"
            f" (locked by another run: {b.name})"
        )

    def renew(self) -> None:
        """Extend the lease; RunLocked if it lapsed and another run took it meanwhile."""
        now = _wall_clock()
        with session_scope(self.engine) as s:
            n = s.execute(
                update(RunLockRow)
                .where(RunLockRow.name.in_(self.names), RunLockRow.owner == self.owner)
                .values(expires_at=now + self.lease)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
        if n != len(self.names):
            self.held = False
            raise RunLocked(f"{self.label}：运行锁已过期并被另一运行取得，本次中止 (lease lost)")

    def release(self) -> None:
        with session_scope(self.engine) as s:
            s.execute(delete(RunLockRow).where(RunLockRow.name.in_(self.names), RunLockRow.owner == self.owner))
        self.held = False


def _who() -> str:
    try:
        from prefect.runtime import flow_run

        run_id, run_name = flow_run.id, flow_run.name
    except Exception:
        run_id, run_name = None, None
    where = f"{socket.gethostname()} pid {os.getpid()}"
    return f"{run_name} [{run_id}] @ {where}" if run_id else where


@contextmanager
def run_lock(
    scope: RunScope,
    what: str,
    wait_seconds: float | None = None,
    log: logging.Logger | logging.LoggerAdapter[Any] | None = None,
) -> Iterator[RunLock]:
    """Hold the scope's lock (the township, or the city and every township) for the block."""
    lock = RunLock(lock_names(scope), f"{what}（{_who()}）", tz=scope.plan.campaign.timezone)
    if log is not None:
        lock.on_wait = lambda h: log.warning(
            "等待另一运行释放 %s：%s（租约至 %s）",
            h.name,
            h.label,
            h.expires_at.astimezone(lock.tz).strftime("%H:%M:%S"),
        )
    lock.acquire(wait_seconds)
    try:
        yield lock
    finally:
        lock.release()
