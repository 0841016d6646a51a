"""The scale-out path end to end: a Prefect server on PostgreSQL, the process work pool
'campaign-pool', `prefect deploy` of deployments from the generated prefect.yaml, and
`prefect worker start --run-once` picking up runs and completing them.

Self-contained: creates its own PostgreSQL database for the Prefect server, starts the server on a
free port with its own PREFECT_HOME, and stops every process it started (whole process groups)
and drops the database at the end. Slow (a minute or more): marked ``slow``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

PG_ADMIN = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://{user}@127.0.0.1:5432/postgres")
PREFECT = [sys.executable, "-m", "prefect"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin_engine() -> sa.Engine:
    last: Exception | None = None
    for user in ("postgres", "root"):
        eng = sa.create_engine(PG_ADMIN.format(user=user), isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as c:
                c.execute(sa.text("select 1"))
            return eng
        except Exception as exc:
            last = exc
            eng.dispose()
    pytest.fail(f"PostgreSQL is unreachable at 127.0.0.1:5432 (users postgres, root): {last}", pytrace=False)


@pytest.fixture
def prefect_pg_db() -> Iterator[str]:
    """A throw-away PostgreSQL database for the Prefect server; its asyncpg URL."""
    admin = _admin_engine()
    name = f"prefect_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    user = admin.url.username
    try:
        yield f"postgresql+asyncpg://{user}@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@pytest.fixture
def server(prefect_pg_db: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """`prefect server start` on PostgreSQL; yields the environment for the CLI, workers and flows."""
    port = _free_port()
    home = tmp_path / "prefect-home"
    home.mkdir()
    campaign_db = tmp_path / "campaign.db"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_API_DATABASE_CONNECTION_URL": prefect_pg_db,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        "DATABASE_URL": f"sqlite:///{campaign_db}",
        "VAR_DIR": str(tmp_path / "var"),
        "PWD": str(ROOT),  # the pull step's {{ $PWD }}: where the worker runs the flows from
    }
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text(errors="replace")[-3000:]
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(env["PREFECT_API_URL"] + "/health", timeout=2) as r,
            ):
                if r.status == 200:
                    break
            assert time.monotonic() < deadline, "Prefect server did not come up in 180 s"
            time.sleep(0.5)
        yield env
    finally:
        _stop(proc)
        log.close()


def _cli(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    r = subprocess.run([*PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (
        f"prefect {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    )
    return r.stdout + r.stderr


def _prepare_campaign_db(env: dict[str, str]) -> None:
    """Migrate the campaign's SQLite file and load the bundled catalog, in a child process (so this
    test process's settings and engines are not touched)."""
    code = (
        "import datetime as dt\n"
        "from campaign.settings import get_settings\n"
        "from storage.migrate import upgrade\n"
        "from storage.db import session_scope\n"
        "from storage.catalog import load_catalog\n"
        "s = get_settings(); upgrade(s.database_url)\n"
        "with session_scope() as x: load_catalog(x, s.CATALOG, dt.datetime(2018, 3, 1, 1, tzinfo=dt.UTC))\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, timeout=300)


def _flow_run_state(env: dict[str, str], run_id: str) -> tuple[str, dict[str, Any]]:
    req = urllib.request.Request(f"{env['PREFECT_API_URL']}/flow_runs/{run_id}")
    with urllib.request.urlopen(req, timeout=10) as r:
        doc = json.loads(r.read())
    return doc["state"]["type"], doc


def _run_id(output: str) -> str:
    for line in output.splitlines():
        if "UUID:" in line:
            return line.split("UUID:", 1)[1].strip()
    raise AssertionError(f"no flow run id in:\n{output}")


def test_deploy_from_prefect_yaml_and_a_process_worker_runs_it(server: dict[str, str]) -> None:
    env = server
    _prepare_campaign_db(env)
    _cli(env, "work-pool", "create", "campaign-pool", "--type", "process")
    # `prefect deploy --name` takes <entrypoint function>/<deployment name>.
    out = _cli(
        env,
        "--no-prompt",
        "deploy",
        "--prefect-file",
        str(ROOT / "prefect.yaml"),
        "--name",
        "duty_flow/i03-party-meeting",
        "--name",
        "phase_1/taonan-2018",
    )
    assert "i03-party-meeting" in out

    # The duty deployment's schedule is there but inactive; the phase deployment's is active.
    listing = _cli(env, "deployment", "inspect", "重点工作职责/i03-party-meeting")
    assert "'active': False" in listing and "BYMONTHDAY=15,-1" in listing
    assert "'active': True" in _cli(env, "deployment", "inspect", "第1阶段·百日会战/taonan-2018")

    # A township re-run through the phase deployment, the way an operator starts it.
    out = _cli(
        env,
        "deployment",
        "run",
        "第1阶段·百日会战/taonan-2018",
        "--param",
        "township=瓦房镇",
        "--param",
        "as_of=2018-03-30T18:00",
    )
    run_id = _run_id(out)
    assert _flow_run_state(env, run_id)[0] == "SCHEDULED"

    worker = subprocess.Popen(
        [*PREFECT, "worker", "start", "--pool", "campaign-pool", "--run-once"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        log, _ = worker.communicate(timeout=600)
    finally:
        _stop(worker)
    state, doc = _flow_run_state(env, run_id)
    assert state == "COMPLETED", f"{state}\n{log[-4000:]}"
    assert doc["parameters"]["township"] == "瓦房镇"

    # The worker ran the flow against the campaign database: 瓦房镇's instances, no one else's.
    eng = sa.create_engine(env["DATABASE_URL"])
    try:
        with eng.connect() as c:
            towns = set(c.execute(sa.text("select distinct township_code from duty_instances")).scalars())
            locks = c.execute(sa.text("select count(*) from run_locks")).scalar()
    finally:
        eng.dispose()
    assert towns == {"220881100000"} and locks == 0
