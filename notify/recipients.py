"""Who a step goes to: 责任人, the unit's head, the 市级责任领导, or a department, per instance."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from plan.schema import Scope
from storage.models import Person
from tasks.instances import DutyContext


class Directory:
    """The campaign's people, indexed once per run (no query per instance)."""

    def __init__(self, session: Session, campaign_id: int):
        self.by_role_unit: dict[tuple[str, str | None], list[Person]] = defaultdict(list)
        self.by_name: dict[str, list[Person]] = defaultdict(list)
        self.by_department: dict[str, list[Person]] = defaultdict(list)
        self.by_id: dict[int, Person] = {}
        for p in session.scalars(select(Person).where(Person.campaign_id == campaign_id)):
            self.by_id[p.id] = p
            self.by_role_unit[(p.role, p.unit_code)].append(p)
            if p.name:
                self.by_name[p.name].append(p)
            if p.department:
                self.by_department[p.department].append(p)


def resolve(ctx: DutyContext, d: Directory, target: str, unit_code: str, township_code: str | None) -> list[Person]:
    """The people a target names for one instance's unit. Unknown targets resolve to nobody."""
    org = ctx.plan.organisation
    roles = {r.name: r for r in org.roles}

    def holders(role: str) -> list[Person]:
        r = roles.get(role)
        if r is None:
            return []
        unit: str | None = None
        if r.scope is Scope.TOWNSHIP:
            unit = township_code
        elif r.scope is Scope.VILLAGE:
            unit = unit_code if ctx.duty.scope in (Scope.VILLAGE, Scope.HOUSEHOLD) else None
            if unit is None:
                return []
        return list(d.by_role_unit.get((role, unit), []))

    if target == "责任人":
        people: list[Person] = []
        for who in ctx.duty.responsible or [ctx.duty.performer]:
            people += holders(who) if who in roles else d.by_name.get(who, []) or d.by_department.get(who, [])
        return people
    if target == "unit_head":
        head = next((r.name for r in org.roles if r.head_of == ctx.duty.scope), None)
        if head is None and ctx.duty.scope in (Scope.VILLAGE, Scope.HOUSEHOLD):
            head = next((r.name for r in org.roles if r.head_of is Scope.TOWNSHIP), None)
        return holders(head) if head else []
    if target == "市级责任领导":
        if township_code is not None and ctx.duty.scope in (Scope.TOWNSHIP, Scope.VILLAGE, Scope.HOUSEHOLD):
            # For a township's own unit the city leader answerable is its 市级包保领导; a department's
            # duty (a fault repair at a village) answers to the item's 市级责任领导 instead.
            found = holders("市级包保领导")
            if found:
                return found
        item = ctx.plan.item_of(ctx.duty.key)
        return [p for name in item.leaders for p in d.by_name.get(name, [])]
    # A department (督查指挥中心 …) or a named person.
    return list(d.by_department.get(target, [])) or list(d.by_name.get(target, []))
