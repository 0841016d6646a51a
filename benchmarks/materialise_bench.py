"""How long materialising a year of a village duty takes (8,692 instances), on SQLite and PostgreSQL.

.venv/bin/python benchmarks/materialise_bench.py [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from campaign.settings import PROJECT_ROOT
from campaign.workdays import WorkCalendar
from storage.catalog import current_plan, load_catalog
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from tasks.instances import DutyContext, duty_row_id, flag_overdue, materialise

TZ = ZoneInfo("Asia/Shanghai")
DUTY = "i01-first-secretary-days"  # weekly, every village


def run(url: str, label: str) -> None:
    upgrade(url)
    eng = make_engine(url)
    with session_scope(eng) as s:
        load_catalog(s, PROJECT_ROOT / "catalog" / "taonan-2018.yaml", now=dt.datetime(2018, 3, 1, tzinfo=TZ))
    with session_scope(eng) as s:
        c, plan = current_plan(s, "taonan-2018")
        d = plan.duty(DUTY)
        ctx = DutyContext(
            plan, d, duty_row_id(s, c.id, d.key), c.id, dt.datetime(2018, 12, 30, 9, tzinfo=TZ), None, WorkCalendar()
        )
        for what, fn in (
            ("materialise", materialise),
            ("materialise again", materialise),
            ("flag overdue", flag_overdue),
        ):
            t = time.perf_counter()
            n = fn(s, ctx)
            print(f"{label:10} {what:18} {n:6d} rows  {time.perf_counter() - t:6.2f} s")
    eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", "SQLite")
    schema = "bench_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(args.pg)
    with admin.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        run(f"{args.pg}?options=-csearch_path%3D{schema}", "PostgreSQL")
    finally:
        with admin.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
