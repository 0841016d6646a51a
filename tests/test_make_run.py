"""`make run` smoke test: it comes up, the API lists the deployments, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, body: dict[str, object] | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read() or b"null")


def _leftovers(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


def test_make_run_serves_every_deployment_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'campaign.db'}",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.pop("PREFECT_API_URL", None)
    log = open(tmp_path / "make-run.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    from plan.load import load_plan_file
    from schedules.deployments import deployment_specs

    plan, _ = load_plan_file(ROOT / "catalog" / "taonan-2018.yaml")
    expected = {(s.flow_name, s.name) for s in deployment_specs(plan)}
    names: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if _get(f"{api}/health") is True:
                    got = _get(f"{api}/deployments/filter", {"limit": 200})
                    assert isinstance(got, list)
                    names = [d["name"] for d in got]
                    if len(names) >= len(expected):
                        break
            except OSError:
                pass
            time.sleep(1)
        assert proc.poll() is None, (tmp_path / "make-run.log").read_text(errors="replace")[-3000:]
        flows = _get(f"{api}/flows/filter", {"limit": 200})
        assert isinstance(flows, list)
        flow_names = {f["id"]: f["name"] for f in flows}
        got = _get(f"{api}/deployments/filter", {"limit": 200})
        assert isinstance(got, list)
        listed = {(flow_names[d["flow_id"]], d["name"]) for d in got}
        assert listed == expected
        assert any(flow == "第1阶段·百日会战" for flow, _ in listed)
    finally:
        # Ctrl-C in a terminal signals the whole foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        finally:
            log.close()
    time.sleep(1)
    assert _leftovers(f"--port {port}") == []
    with pytest.raises(OSError):
        _get(f"{api}/health")
