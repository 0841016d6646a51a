"""Shared fixtures.

Storage tests run on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``): the
``engine`` fixture is parametrised over both. PostgreSQL being down is a failure that says so,
never a silent skip. Each test runs in one transaction that is rolled back.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "catalog" / "taonan-2018.yaml"
TZ = ZoneInfo("Asia/Shanghai")
PG_BASE = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://{user}@127.0.0.1:5432/test")

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def _pg_url() -> str:
    last: Exception | None = None
    for user in ("postgres", "root"):
        url = PG_BASE.format(user=user)
        try:
            eng = sa.create_engine(url)
            with eng.connect() as c:
                c.execute(sa.text("select 1"))
            eng.dispose()
            return url
        except Exception as exc:
            last = exc
    pytest.fail(
        f"PostgreSQL is unreachable at 127.0.0.1:5432/test (users postgres, root): {last}. "
        "The storage tests run on PostgreSQL too; start it (see .ci/run).",
        pytrace=False,
    )


def make_test_engine(kind: str, tmp_dir: Path) -> tuple[Engine, str, object]:
    from storage.db import make_engine

    if kind == "sqlite":
        url = f"sqlite:///{tmp_dir / 'test.db'}"
        return make_engine(url), url, None
    base = _pg_url()
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}?options=-csearch_path%3D{schema}"

    def drop() -> None:
        with admin.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return make_engine(url), url, drop


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database with the bundled catalog loaded, per engine."""
    from storage.catalog import load_catalog
    from storage.db import session_scope
    from storage.migrate import upgrade

    eng, url, drop = make_test_engine(request.param, tmp_path_factory.mktemp(request.param))
    upgrade(url)
    with session_scope(eng) as s:
        load_catalog(s, CATALOG, now=shanghai(2018, 3, 1, 9))
    yield eng
    eng.dispose()
    if callable(drop):
        drop()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """One transaction per test, rolled back at the end (savepoints inside for nested commits)."""
    conn = engine.connect()
    trans = conn.begin()
    s = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield s
    finally:
        s.close()
        trans.rollback()
        conn.close()


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One Prefect test server for the whole session (it takes 15–30 s to start here)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated SQLite file that the flows use through DATABASE_URL."""
    from campaign.settings import get_settings
    from storage.db import engine_for
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    engine_for.cache_clear()
    upgrade(url)
    yield url
    engine_for(url).dispose()
    get_settings.cache_clear()
    engine_for.cache_clear()
