"""INSERT … ON CONFLICT DO NOTHING for both engines: the idempotent write every re-run relies on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import FromClause
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, table: FromClause, rows: Sequence[dict[str, Any]], conflict: Sequence[str]) -> int:
    """Insert rows, skipping any that collide on ``conflict``; returns how many were inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)  # type: ignore[arg-type]
    # RETURNING counts what was really inserted: rowcount is unreliable for executemany on psycopg.
    key = next(iter(table.primary_key.columns))  # type: ignore[attr-defined]
    stmt = ins.on_conflict_do_nothing(index_elements=list(conflict)).returning(key)
    total = 0
    # Keep each statement under SQLite's bound-parameter limit.
    width = max(1, len(rows[0]))
    step = max(1, 30000 // width)
    for i in range(0, len(rows), step):
        total += len(session.execute(stmt, list(rows[i : i + step])).all())
    return total
