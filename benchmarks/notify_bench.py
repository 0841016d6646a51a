"""Notifier benchmark: messages per second to a local HTTP sink, and one city-wide reminder run.

    .venv/bin/python benchmarks/notify_bench.py [--recipients 1000] [--concurrency 1,8,16] [--pg URL]

1. Send throughput: N recipients, one pending ledger row each, each with their own json:// URL on a
   local threaded HTTP server (tests/notify_fakes.py). The whole delivery path is timed — claim,
   compose, lease renewal, Apprise send, ledger update and commit — for each concurrency.
2. City-wide run: the bundled catalog on a fresh database, every duty brought up to as_of and its
   reminders and escalations sent (``notify.run.remind_all``) to the local outbox: a catch-up run
   (nothing reported since March), the next working day's run, and a re-run of the same moment.

Everything runs on 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlalchemy import Engine, func, select  # noqa: E402

from campaign.workdays import WorkCalendar  # noqa: E402
from notify.config import NotifyConfig  # noqa: E402
from notify.deliver import deliver  # noqa: E402
from notify.run import remind_all  # noqa: E402
from storage.catalog import current_plan, load_catalog  # noqa: E402
from storage.db import make_engine, session_scope  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import DutyInstance, Message, Notification, Person  # noqa: E402
from tasks.instances import duty_row_id  # noqa: E402
from tests.notify_fakes import serve_in_process  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
CATALOG = ROOT / "catalog" / "taonan-2018.yaml"


SCHEMAS: list[str] = []


def fresh_db(tmp: Path, pg: str | None, name: str) -> Engine:
    if pg:
        import sqlalchemy as sa

        schema = f"bench_{name}_{int(time.time())}"
        admin = sa.create_engine(pg)
        with admin.begin() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        SCHEMAS.append(schema)
        url = f"{pg}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tmp / (name + '.db')}"
    upgrade(url)
    eng = make_engine(url)
    with session_scope(eng) as s:
        load_catalog(s, CATALOG, now=dt.datetime(2018, 3, 1, 9, tzinfo=TZ))
    return eng


class Sink:
    """The local HTTP sink, in its own process."""

    def __init__(self, latency: float):
        import multiprocessing as mp

        q: mp.Queue[int] = mp.Queue()
        self.proc = mp.Process(target=serve_in_process, args=(latency, q), daemon=True)
        self.proc.start()
        self.host, self.port = "127.0.0.1", q.get(timeout=30)

    def count(self) -> int:
        import requests

        return int(requests.get(f"http://{self.host}:{self.port}/__count", timeout=5).json()["count"])

    def stop(self) -> None:
        self.proc.terminate()


def throughput(tmp: Path, pg: str | None, n: int, concurrency: int, sink: Sink) -> tuple[float, int]:
    eng = fresh_db(tmp, pg, f"tp{concurrency}")
    as_of = dt.datetime(2018, 5, 15, 9, tzinfo=TZ)
    with session_scope(eng) as s:
        c, plan = current_plan(s, "taonan-2018")
        inst = DutyInstance(
            campaign_id=c.id,
            duty_id=duty_row_id(s, c.id, "i18-job-fairs"),
            unit_code="220881100000",
            unit_name="瓦房镇",
            township_code="220881100000",
            period_key="2018-04",
            period_start=dt.date(2018, 4, 1),
            period_end=dt.date(2018, 4, 30),
            due_at=dt.datetime(2018, 5, 18, 17, 30, tzinfo=TZ),
            alert_after=dt.datetime(2018, 5, 18, 17, 30, tzinfo=TZ),
        )
        s.add(inst)
        people = [
            Person(campaign_id=c.id, key=f"bench-{i:04d}", name=None, title=f"测试人员{i:04d}", role="bench")
            for i in range(n)
        ]
        s.add_all(people)
        s.flush()
        s.add_all(
            Notification(
                campaign_id=c.id,
                dedup_key=f"p{p.id}:i{inst.id}:before-3",
                person_id=p.id,
                duty_instance_id=inst.id,
                step="before-3",
                kind="reminder",
                urgent=False,
                township_code="220881100000",
                drill=False,
                status="pending",
                not_before=as_of,
                next_attempt_at=as_of,
                attempts=0,
                created_at=as_of,
                line="(bench)",
            )
            for p in people
        )
    contacts = tmp / f"contacts-{concurrency}.yaml"
    contacts.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "urls": [
                    {f"json://{sink.host}:{sink.port}/json/bench-{i:04d}": {"tag": f"bench-{i:04d}"}} for i in range(n)
                ],
            }
        ),
        encoding="utf-8",
    )
    cfg = NotifyConfig(contacts_file=contacts, concurrency=concurrency, timeout=8.0, storage_path=tmp / "apprise")
    before = sink.count()
    t0 = time.perf_counter()
    with session_scope(eng) as s:
        c, plan = current_plan(s, "taonan-2018")
        report = deliver(s, plan, c.id, as_of, config=cfg, calendar=WorkCalendar())
    wall = time.perf_counter() - t0
    assert report.sent == n, report
    assert sink.count() - before == n
    eng.dispose()
    return wall, report.sent


def city_run(tmp: Path, pg: str | None) -> list[tuple[str, float, int, int, int]]:
    eng = fresh_db(tmp, pg, "city")
    cal = WorkCalendar()
    cfg = NotifyConfig(contacts_file=None, concurrency=8, timeout=8.0, storage_path=tmp / "apprise")
    out = []
    for label, as_of in (
        ("catch-up run 2018-05-15 09:00 (nothing reported since March)", dt.datetime(2018, 5, 15, 9, tzinfo=TZ)),
        ("next working day 2018-05-16 09:00", dt.datetime(2018, 5, 16, 9, tzinfo=TZ)),
        ("re-run of 2018-05-16 09:00", dt.datetime(2018, 5, 16, 9, tzinfo=TZ)),
    ):
        t0 = time.perf_counter()
        with session_scope(eng) as s:
            c, plan = current_plan(s, "taonan-2018")
            r = remind_all(s, plan, c.id, as_of, cal, config=cfg)
        out.append((label, time.perf_counter() - t0, r.queued, r.delivery.messages, r.delivery.sent))
    with session_scope(eng) as s:
        total = s.scalar(select(func.count()).select_from(Notification))
        msgs = s.scalar(select(func.count()).select_from(Message))
        insts = s.scalar(select(func.count()).select_from(DutyInstance))
    print(f"  ({insts} duty instances, {total} ledger rows, {msgs} messages in the end)")
    eng.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipients", type=int, default=1000)
    ap.add_argument("--concurrency", default="1,8,16")
    ap.add_argument("--pg", default=None, help="PostgreSQL URL (postgresql+psycopg://...) instead of SQLite")
    ap.add_argument("--latency", type=float, default=0.0, help="Seconds the sink waits before answering")
    args = ap.parse_args()
    sink = Sink(args.latency)
    engine_name = "PostgreSQL" if args.pg else "SQLite"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        print(
            f"Send throughput, {args.recipients} recipients, json:// to a local HTTP sink in another process "
            f"answering after {args.latency * 1000:.0f} ms ({engine_name} ledger):"
        )
        for conc in (int(x) for x in args.concurrency.split(",")):
            wall, sent = throughput(tmp, args.pg, args.recipients, conc, sink)
            print(f"  NOTIFY_CONCURRENCY={conc:<3} {sent} messages in {wall:6.2f} s = {sent / wall:7.1f} messages/s")
        print(f"City-wide reminder run, all {43} duties, outbox channel ({engine_name}):")
        for label, wall, queued, messages, sent in city_run(tmp, args.pg):
            print(f"  {label}: {wall:6.2f} s — {queued} new ledger rows, {messages} messages, {sent} sent")
    sink.stop()
    if args.pg and SCHEMAS:
        import sqlalchemy as sa

        admin = sa.create_engine(args.pg)
        with admin.begin() as c:
            for schema in SCHEMAS:
                c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
