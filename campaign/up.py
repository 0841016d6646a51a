"""`campaign up`: the embedded default, end to end, in one process tree.

Migrates the SQLite database, loads the plan and the divisions, seeds demo data, starts the
local Prefect server (UI on http://127.0.0.1:4200, loopback only) and serves every deployment.
Ctrl-C (or SIGTERM) stops the server and the runner; nothing is left behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from campaign.settings import PROJECT_ROOT, get_settings

HOST, PORT = "127.0.0.1", 4200


def prefect_env(var_dir: Path, port: int = PORT) -> dict[str, str]:
    """The environment every Prefect process of the embedded default runs with."""
    return {
        "PREFECT_HOME": str(var_dir / "prefect"),
        "PREFECT_API_URL": f"http://{HOST}:{port}/api",
        "PREFECT_SERVER_API_HOST": HOST,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # no network beyond loopback
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "true",
        "PREFECT_LOGGING_LEVEL": os.environ.get("PREFECT_LOGGING_LEVEL", "INFO"),
    }


def wait_healthy(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {proc.returncode} (see var/prefect-server.log)")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"Prefect server not healthy at {url} after {timeout:.0f}s")


def use_local_server_if_running(port: int = PORT) -> bool:
    """Point this process at the `make run` server when it is up, so CLI runs show in its UI."""
    if os.environ.get("PREFECT_API_URL"):
        return False
    try:
        wait_healthy(f"http://{HOST}:{port}/api/health", timeout=1)
    except TimeoutError:
        return False
    os.environ.update(prefect_env(get_settings().VAR_DIR, port))
    return True


def prepare(seed_demo: bool = True) -> None:
    from storage.catalog import load_catalog
    from storage.db import session_scope
    from storage.migrate import upgrade
    from tasks.demo import seed_demo as seed

    s = get_settings()
    upgrade(s.database_url)
    now = dt.datetime.now(dt.UTC)  # the edge of the system: when this load happened
    with session_scope() as session:
        r = load_catalog(session, s.CATALOG, now)
        print(f"计划已加载: {r.campaign} 第 {r.version} 版" + ("" if r.changed else "（未变化）"))
        if seed_demo:
            print("演示数据:", seed(session, s.CAMPAIGN))


def main(port: int = PORT, seed_demo: bool = True) -> int:
    s = get_settings()
    s.VAR_DIR.mkdir(parents=True, exist_ok=True)
    env = prefect_env(s.VAR_DIR, port)
    os.environ.update(env)
    prepare(seed_demo)
    log = open(s.VAR_DIR / "prefect-server.log", "ab")  # noqa: SIM115 - outlives this block; closed in finally
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=PROJECT_ROOT,
        start_new_session=True,  # its own process group, so we can stop all of it
    )

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    # A shell without job control starts background commands with SIGINT ignored, and Python
    # then keeps ignoring it: restore Ctrl-C explicitly so it always stops everything.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        wait_healthy(f"http://{HOST}:{port}/api/health", 180, server)
        print(f"Prefect UI: http://{HOST}:{port}  (deployments are being registered…)", flush=True)
        from campaign.serve import serve_all

        serve_all()
        return 0
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    finally:
        _stop_group(server)
        log.close()


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
