"""Fixtures and helpers shared by the notifier tests (imported by tests/test_notify_*.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.workdays import WorkCalendar
from notify.config import NotifyConfig
from notify.deliver import DeliveryReport, deliver, plan_notifications
from plan.schema import Plan
from storage.catalog import current_plan
from storage.models import DutyInstance, Message, Notification, OutboxMessage, Person
from tasks.instances import DutyContext, duty_row_id, flag_overdue
from tests.conftest import shanghai
from tests.notify_fakes import FakeServices, FakeSMTP

WAFANG = "220881100000"  # 瓦房镇


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeServices]:
    f = FakeServices().start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def smtp() -> Iterator[FakeSMTP]:
    m = FakeSMTP().start()
    yield m
    m.stop()


@dataclass
class World:
    """The bundled catalog in a rolled-back transaction, plus local stand-ins for the services."""

    s: Session
    plan: Plan
    cid: int
    tmp: Path
    fake: FakeServices
    mp: pytest.MonkeyPatch
    cal: WorkCalendar = field(default_factory=WorkCalendar)
    contacts_file: Path | None = None

    def person(self, key: str) -> Person:
        p = self.s.scalar(select(Person).where(Person.campaign_id == self.cid, Person.key == key))
        assert p is not None, key
        return p

    def instance(
        self,
        duty: str,
        due: dt.datetime,
        unit: str = WAFANG,
        unit_name: str = "瓦房镇",
        township: str | None = WAFANG,
        period: str = "2018-04",
        grace_days: int = 0,
    ) -> DutyInstance:
        alert = (
            due if not grace_days else dt.datetime.combine(self.cal.add_workdays(due.date(), grace_days), due.timetz())
        )
        inst = DutyInstance(
            campaign_id=self.cid,
            duty_id=duty_row_id(self.s, self.cid, duty),
            unit_code=unit,
            unit_name=unit_name,
            township_code=township,
            period_key=period,
            period_start=due.date().replace(day=1),
            period_end=due.date(),
            due_at=due,
            alert_after=alert,
            status="open",
        )
        self.s.add(inst)
        self.s.flush()
        return inst

    def ctx(self, duty: str, as_of: dt.datetime, plan: Plan | None = None) -> DutyContext:
        return DutyContext(
            plan or self.plan,
            (plan or self.plan).duty(duty),
            duty_row_id(self.s, self.cid, duty),
            self.cid,
            as_of,
            None,
            self.cal,
        )

    def config(self, **kw: Any) -> NotifyConfig:
        base: dict[str, Any] = {
            "contacts_file": self.contacts_file,
            "timeout": 1.0,
            "concurrency": 4,
            "storage_path": self.tmp / "apprise",
        }
        base.update(kw)
        return NotifyConfig(**base)

    def run(self, as_of: dt.datetime, *duties: str, plan: Plan | None = None, **cfg: Any) -> DeliveryReport:
        c = self.config(**cfg)
        for d in duties or ("i18-job-fairs",):
            ctx = self.ctx(d, as_of, plan)
            flag_overdue(self.s, ctx)  # as the duty flow does before queueing reminders
            plan_notifications(self.s, ctx, drill=c.drill)
        return deliver(self.s, plan or self.plan, self.cid, as_of, config=c, calendar=self.cal)

    def contacts(self, entries: dict[str, list[str]] | list[tuple[str, str]]) -> Path:
        """Write a contact directory: {url: [tags]} or [(url, tag)], Apprise YAML style."""
        items = entries.items() if isinstance(entries, dict) else [(u, [t]) for u, t in entries]
        doc = {"version": 1, "urls": [{url: {"tag": ", ".join(tags)}} for url, tags in items]}
        path = self.tmp / f"contacts-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        self.contacts_file = path
        return path

    def secret(self, name: str, value: str) -> str:
        """Put a credential in the environment; returns its placeholder for the contact directory."""
        self.mp.setenv(name, value)
        return "${" + name + "}"

    def json_url(self, name: str) -> str:
        return f"json://{self.fake.host}:{self.fake.port}/json/{name}"

    def rows(self, *where: Any) -> list[Notification]:
        return list(
            self.s.scalars(
                select(Notification).where(Notification.campaign_id == self.cid, *where).order_by(Notification.id)
            )
        )

    def messages(self) -> list[Message]:
        return list(self.s.scalars(select(Message).where(Message.campaign_id == self.cid).order_by(Message.id)))

    def outbox(self) -> list[OutboxMessage]:
        return list(self.s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def world(session: Session, tmp_path: Path, fake: FakeServices, monkeypatch: pytest.MonkeyPatch) -> World:
    fake.clear()
    c, plan = current_plan(session, "taonan-2018")
    return World(session, plan, c.id, tmp_path, fake, monkeypatch)


def at(*args: int) -> dt.datetime:
    return shanghai(*args)
