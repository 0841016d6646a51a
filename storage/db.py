"""Engines and sessions. One session per unit of work: ``with session_scope() as s: ...``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from campaign.settings import get_settings


def make_engine(url: str, busy_timeout_ms: int = 30000, **kw: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **kw)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _rec: Any) -> None:
            # WAL lets the UI-facing reads and a flow's writes overlap; foreign keys are off by default.
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _begin)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        # pysqlite's own transaction handling defers BEGIN; take control so BEGIN IMMEDIATE works.
        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")

        engine.dialect._json_serializer = _json_dumps  # type: ignore[attr-defined]
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_dumps, **kw)


def _json_dumps(obj: Any) -> str:
    import json

    # Keep Chinese readable in the database (and in psql/sqlite3 sessions).
    return json.dumps(obj, ensure_ascii=False, default=str)


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    s = get_settings()
    return make_engine(url, s.SQLITE_BUSY_TIMEOUT_MS)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error, always closes."""
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
