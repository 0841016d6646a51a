"""The UI as an operator sees it: headless Chromium finds the deployments and the latest board.

Starts the embedded default (`campaign up`) on a free port, runs phase 1 for a 2018 date through
its deployment (picked up by the served runner, as in production), then renders the Prefect UI.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(base: str, path: str, body: dict[str, Any] | None = None) -> Any:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    for attempt in range(10):
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as exc:
            # The embedded server answers 503 while the runner registers 48 deployments at once.
            if exc.code != 503 or attempt == 9:
                raise
            time.sleep(2)
    return None


def _render(chromium: str, url: str, profile: Path) -> str:
    out = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=20000", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return out.stdout


def test_the_ui_lists_the_deployments_and_shows_the_latest_board(tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'campaign.db'}",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.pop("PREFECT_API_URL", None)
    log = open(tmp_path / "up.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "campaign"), "up", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        phase_dep = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and phase_dep is None:
            assert proc.poll() is None, (tmp_path / "up.log").read_text(errors="replace")[-3000:]
            try:
                flows = {f["id"]: f["name"] for f in _api(base, "/api/flows/filter", {"limit": 200})}
                for d in _api(base, "/api/deployments/filter", {"limit": 200}):
                    if flows.get(d["flow_id"]) == "第1阶段·百日会战":
                        phase_dep = d
            except OSError:
                pass
            time.sleep(2)
        assert phase_dep is not None, "the phase deployment was never registered"

        run = _api(base, f"/api/deployments/{phase_dep['id']}/create_flow_run", {"parameters": {"as_of": "2018-04-21"}})
        state = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            state = _api(base, f"/api/flow_runs/{run['id']}")["state_type"]
            if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                break
            time.sleep(3)
        assert state == "COMPLETED"

        flows_page = _render(chromium, f"{base}/flows", tmp_path / "chrome")
        assert "第1阶段·百日会战" in flows_page and "重点工作职责" in flows_page
        deployments_page = _render(chromium, f"{base}/deployments", tmp_path / "chrome")
        assert "taonan-2018" in deployments_page
        board_page = _render(chromium, f"{base}/artifacts/key/board", tmp_path / "chrome")
        assert "挂图作战（百日会战·全市）：截至 2018-04-21 09:00" in board_page
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        finally:
            log.close()
