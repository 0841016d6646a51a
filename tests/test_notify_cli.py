"""The notifier's commands (`campaign ack`, `extend`, `outbox --failed`, `notify`, `contacts`) on a
migrated SQLite file, as an operator would run them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from campaign.cli_notify import register
from storage.catalog import load_catalog
from storage.db import session_scope
from storage.models import AuditEntry, Campaign, ContactChannel, DutyInstance, Notification, Person
from tests.conftest import CATALOG, shanghai
from tests.notify_fakes import Answer, FakeServices
from tests.notify_support import WAFANG, fake

FIXTURES = (fake,)  # pytest finds them here


@pytest.fixture
def cli(app_db: str, fake: FakeServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    from campaign.settings import get_settings
    from tasks.instances import duty_row_id

    fake.clear()
    with session_scope() as s:
        load_catalog(s, CATALOG, now=shanghai(2018, 3, 1, 9))
        cid = s.scalar(select(Campaign.id).where(Campaign.code == "taonan-2018"))
        assert cid is not None
        s.add(
            DutyInstance(
                campaign_id=cid,
                duty_id=duty_row_id(s, cid, "i18-job-fairs"),
                unit_code=WAFANG,
                unit_name="瓦房镇",
                township_code=WAFANG,
                period_key="2018-04",
                period_start=shanghai(2018, 4, 1).date(),
                period_end=shanghai(2018, 4, 30).date(),
                due_at=shanghai(2018, 5, 18, 17, 30),
                alert_after=shanghai(2018, 5, 18, 17, 30),
            )
        )
    contacts = tmp_path / "contacts.yaml"
    contacts.write_text(
        "version: 1\nurls:\n"
        f"  - 'wecombot://${{WAFANG_BOT}}?api={fake.base}':\n      tag: li-xiaokun\n"
        "  - 'outbox://':\n      tag: 9:乡镇党委书记@瓦房镇\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("WAFANG_BOT", "clibotkey01")
    monkeypatch.setenv("CONTACTS_FILE", str(contacts))
    monkeypatch.setenv("NOTIFY_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _root() -> None: ...

    register(a)
    return a


def test_an_operator_acknowledges_extends_and_sees_what_is_stuck(cli: CliRunner, fake: FakeServices) -> None:
    a = app()
    r = cli.invoke(a, ["contacts"])
    assert r.exit_code == 0, r.output
    assert "2 URLs, placeholders all set" in r.output and " 2 of " in r.output
    assert "- no channel: 组织部张弘" in r.output and "- no channel: 就业局李晓坤" not in r.output
    r = cli.invoke(a, ["contacts", "--sync"])
    with session_scope() as s:
        synced = s.execute(
            select(Person.key, ContactChannel.priority, ContactChannel.kind, ContactChannel.url_ref)
            .join(Person, Person.id == ContactChannel.person_id)
            .order_by(Person.key)
        ).all()
    assert [tuple(x) for x in synced] == [
        ("li-xiaokun", 1, "wecombot", "contacts.yaml#1"),
        (f"乡镇党委书记@{WAFANG}", 1, "outbox", "contacts.yaml#2"),
    ]

    fake.script("/cgi-bin/webhook/send", Answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"}))
    r = cli.invoke(a, ["notify", "--as-of", "2018-05-15T09:00", "--no-prepare"])
    assert r.exit_code == 0, r.output
    assert "1 new ledger rows; 1 messages, 0 sent, 1 failed" in r.output
    r = cli.invoke(a, ["outbox", "--failed"])
    assert "[before-3] failed ×1 next 2018-05-15T09:05:00+08:00" in r.output
    assert "WeCom Bot rejected it: HTTP 200 with error 45009" in r.output
    assert "clibotkey01" not in r.output

    r = cli.invoke(
        a,
        [
            "ack",
            "--duty",
            "i18-job-fairs",
            "--unit",
            "瓦房镇",
            "--period",
            "2018-04",
            "--by",
            "李晓坤",
            "--note",
            "已安排",
            "--at",
            "2018-05-15T10:00",
        ],
    )
    assert r.exit_code == 0 and "acknowledged; reminders stop" in r.output
    r = cli.invoke(a, ["notify", "--as-of", "2018-05-17T09:00", "--no-prepare"])
    assert "0 new ledger rows; 0 messages, 0 sent, 0 failed, 1 expired" in r.output, r.output
    r = cli.invoke(a, ["outbox", "--failed", "--json"])
    (row,) = json.loads(r.output)
    assert (row["status"], row["why"]) == ("expired", "acknowledged: reminders stop")

    with session_scope() as s:
        iid = s.scalar(select(DutyInstance.id))
    r = cli.invoke(
        a,
        [
            "extend",
            str(iid),
            "--to",
            "2018-05-25",
            "--by",
            "王天昊",
            "--reason",
            "汛期推迟",
            "--at",
            "2018-05-17T10:00",
        ],
    )
    assert r.exit_code == 0 and "due 2018-05-25 17:30 (延期)" in r.output
    r = cli.invoke(a, ["extend", str(iid), "--to", "2018-05-20", "--by", "王天昊", "--reason", "再议"])
    assert r.exit_code == 2 and "not later than" in r.output
    with session_scope() as s:
        audit = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(x.action, x.actor) for x in audit] == [("acknowledge", "李晓坤"), ("extend", "王天昊")]

    # Drill: every message to one URL, nothing to the real channels, the ledger kept apart.
    fake.clear()
    r = cli.invoke(
        a,
        [
            "notify",
            "--as-of",
            "2018-05-25T17:30",
            "--no-prepare",
            "--drill",
            f"json://{fake.host}:{fake.port}/json/drill",
        ],
    )
    assert r.exit_code == 0 and r.output.startswith("【演练】"), r.output
    assert [p.path for p in fake.requests] == ["/json/drill"]
    assert fake.requests[0].json()["message"].startswith("【演练】本消息原应发给：就业局李晓坤（li-xiaokun）")
    with session_scope() as s:
        drills = s.scalars(select(Notification).where(Notification.drill.is_(True))).all()
        assert [n.dedup_key.split(":", 1)[0] for n in drills] == ["drill"]
