"""What a run costs on Prefect: a flow run, a subflow (sync and async), a task, a real duty subflow
and a real phase-flow run — measured against a local Prefect server.

    .venv/bin/python benchmarks/flow_costs.py                 # starts its own server (temp PREFECT_HOME)
    .venv/bin/python benchmarks/flow_costs.py --api-url http://127.0.0.1:4200/api   # an existing one
    .venv/bin/python benchmarks/flow_costs.py --n 10 --repeat 3 --day 2018-03-30

The campaign database is a fresh SQLite file with the bundled catalog and the demo data, so the
real runs do real work (hundreds of villages). Prints one table; docs/benchmarks.md
records the figures measured on the project's machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def prefect_server(home: Path, timeout: float = 180) -> Iterator[str]:
    """A `prefect server start` of our own on a free loopback port; stopped (whole group) on exit."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
    }
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited ({proc.returncode}); see {home / 'server.log'}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - started > timeout:
                raise TimeoutError("prefect server did not become healthy")
            time.sleep(0.5)
        print(f"# prefect server up in {time.monotonic() - started:.1f}s at {url}", file=sys.stderr)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def measure(n: int, repeat: int, day: dt.date, quiet_day: dt.date) -> list[tuple[str, float, str]]:
    import asyncio

    from prefect import flow, task
    from prefect.cache_policies import NONE

    rows: list[tuple[str, float, str]] = []

    @flow(name="bench-child")
    def child() -> None:
        return None

    @flow(name="bench-achild")
    async def achild() -> None:
        return None

    @task(name="bench-task", cache_policy=NONE)
    def noop() -> None:
        return None

    @flow(name="bench-parent")
    def parent(k: int) -> None:
        for _ in range(k):
            child()

    @flow(name="bench-aparent")
    async def aparent(k: int) -> None:
        for _ in range(k):
            await achild()

    @flow(name="bench-tasks")
    def tasks(k: int) -> None:
        for _ in range(k):
            noop()

    parent(1)  # warm up: flow registration, client, caches
    base = statistics.median(timed(lambda: parent(0), repeat))
    rows.append(("flow run (empty, sync)", base, "one top-level flow run, end to end"))
    with_n = statistics.median(timed(lambda: parent(n), repeat))
    rows.append(("sync subflow", (with_n - base) / n, f"slope over {n} subflows"))
    abase = statistics.median(timed(lambda: asyncio.run(aparent(0)), repeat))
    awith = statistics.median(timed(lambda: asyncio.run(aparent(n)), repeat))
    rows.append(("async subflow", (awith - abase) / n, f"slope over {n} subflows"))
    tbase = statistics.median(timed(lambda: tasks(0), repeat))
    twith = statistics.median(timed(lambda: tasks(10 * n), repeat))
    rows.append(("task (no cache)", (twith - tbase) / (10 * n), f"slope over {10 * n} tasks"))

    # The real thing: duty subflows and phase runs over the bundled catalog and the demo data.
    import flows.phases
    from campaign.clock import parse_as_of
    from flows.duty import duty_flow
    from schedules.workdates import duties_with_work
    from storage.catalog import current_plan
    from storage.db import session_scope

    with session_scope() as s:
        _, plan = current_plan(s, "taonan-2018")
    from campaign.workdays import default_calendar

    cal = default_calendar()
    when = parse_as_of(day)
    phase = next(p for p in plan.phases if plan.phase_dates(p)[0] <= day <= plan.phase_dates(p)[1])
    keys = [d.key for d in duties_with_work(plan, day, cal, phase.key)]

    @flow(name="bench-duties")
    def duties(k: int) -> None:
        for key in keys[:k]:
            duty_flow(duty=key, as_of=when, send=False)

    k = min(n, len(keys))
    duties(0)
    dbase = statistics.median(timed(lambda: duties(0), repeat))
    dwith = statistics.median(timed(lambda: duties(k), 1))  # first run materialises instances
    dagain = statistics.median(timed(lambda: duties(k), repeat))
    rows.append(("duty subflow (first run of the day)", (dwith - dbase) / k, f"{k} real duties on {day}"))
    rows.append(("duty subflow (re-run, idempotent)", (dagain - dbase) / k, f"{k} real duties on {day}"))

    fn = vars(flows.phases)[f"phase_{phase.number}"]
    for d in (day, quiet_day):
        w = parse_as_of(d)
        nd = len(duties_with_work(plan, d, cal, phase.key))
        t = timed(lambda w=w: fn(as_of=w), 1)[0]  # type: ignore[misc]
        rows.append((f"phase flow run, {nd} duty subflows", t, f"{phase.name} {d} (city-wide, cold)"))
        t = statistics.median(timed(lambda w=w: fn(as_of=w), repeat))  # type: ignore[misc]
        rows.append((f"phase flow re-run, {nd} duty subflows", t, f"{phase.name} {d} (idempotent)"))
        town = fn(as_of=w, township="瓦房镇")
        t = statistics.median(timed(lambda w=w: fn(as_of=w, township="瓦房镇"), repeat))  # type: ignore[misc]
        rows.append((f"township re-run, {len(town['duties'])} duty subflows", t, f"瓦房镇 {d}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--api-url", help="use this Prefect server instead of starting one")
    ap.add_argument("--n", type=int, default=10, help="subflows per measurement (tasks: 10×)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--day", type=dt.date.fromisoformat, default=dt.date(2018, 3, 30), help="a busy day (month-end reminders)"
    )
    ap.add_argument(
        "--quiet-day", type=dt.date.fromisoformat, default=dt.date(2018, 4, 21), help="a quiet day of the same phase"
    )
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="flow-costs-"))
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{work / 'campaign.db'}",
            "VAR_DIR": str(work / "var"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    with contextlib.ExitStack() as stack:
        if args.api_url:
            url = args.api_url
        else:
            home = work / "prefect"
            home.mkdir()
            url = stack.enter_context(prefect_server(home))
            os.environ["PREFECT_HOME"] = str(home)
        os.environ["PREFECT_API_URL"] = url

        from campaign.settings import get_settings
        from storage.catalog import load_catalog
        from storage.db import session_scope
        from storage.migrate import upgrade
        from tasks.demo import seed_demo

        s = get_settings()
        upgrade(s.database_url)
        with session_scope() as session:
            load_catalog(session, s.CATALOG, dt.datetime(2018, 3, 1, 9, tzinfo=dt.UTC))
            seed_demo(session, s.CAMPAIGN)
        rows = measure(args.n, args.repeat, args.day, args.quiet_day)

    print(f"{'what':<40} {'seconds':>9}  notes")
    for what, secs, note in rows:
        print(f"{what:<40} {secs:>9.3f}  {note}")
    print(f"# cpus={os.cpu_count()} python={sys.version.split()[0]} prefect={__import__('prefect').__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
