"""Which units a duty has an instance for: each township, each village, the department, the city."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from plan.schema import Duty, Plan, Scope
from storage.catalog import township_codes
from storage.models import Division


class UnknownTownship(LookupError):
    pass


def resolve_township(session: Session, plan: Plan, township: str | None) -> str | None:
    """A township given by full name, short name or division code → its code (None stays None).

    The same matcher the report import uses, so an unknown name gets the closest official names."""
    if not township:
        return None
    from tasks.imports.divisions import DivisionIndex
    from tasks.imports.errors import CellError

    try:
        return DivisionIndex.load(session, plan).township(township.strip())
    except CellError as exc:
        raise UnknownTownship(str(exc)) from None


def units_for(session: Session, plan: Plan, duty: Duty, township: str | None = None) -> pd.DataFrame:
    """One row per unit the duty runs for: unit_code, unit_name, township_code."""
    towns = township_codes(session, plan)
    if township is not None:
        towns = [t for t in towns if t == township]
    if duty.scope in (Scope.TOWNSHIP,):
        rows = session.execute(select(Division.code, Division.name).where(Division.code.in_(towns))).all()
        return pd.DataFrame(
            [(c, n, c) for c, n in rows], columns=["unit_code", "unit_name", "township_code"]
        ).sort_values("unit_code", ignore_index=True)
    if duty.scope in (Scope.VILLAGE, Scope.HOUSEHOLD):
        q = select(Division.code, Division.name, Division.parent_code).where(
            Division.level.in_(plan.organisation.village_levels), Division.parent_code.in_(towns)
        )
        if duty.applies_to == "贫困村":
            q = q.where(Division.is_poor_village.is_(True))
        vrows = session.execute(q).all()
        return pd.DataFrame(vrows, columns=["unit_code", "unit_name", "township_code"]).sort_values(
            "unit_code", ignore_index=True
        )
    # A department's (or the city's) own duty: one unit. A township re-run does not touch it.
    if township is not None:
        return pd.DataFrame(columns=["unit_code", "unit_name", "township_code"])
    unit = "city" if duty.scope is Scope.CITY else duty.performer
    return pd.DataFrame([(unit, duty.performer, None)], columns=["unit_code", "unit_name", "township_code"])
