"""INSERT … ON CONFLICT DO NOTHING for both engines: the idempotent write every re-run relies on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]) -> int:
    """Insert rows, skipping any that collide on ``conflict``; returns how many were inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    stmt = ins.on_conflict_do_nothing(index_elements=list(conflict))
    total = 0
    # Keep each statement under SQLite's bound-parameter limit.
    width = max(1, len(rows[0]))
    step = max(1, 30000 // width)
    for i in range(0, len(rows), step):
        result = session.execute(stmt, list(rows[i : i + step]))
        total += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    return total
