"""Township and village names as clerks write them → official division codes.

A township may be written in full (瓦房镇), short (瓦房) or as its 12-digit code; a village as
瓦房村委会, 瓦房村, 瓦房 or its code, looked up within its row's township. Names that are not
official get the closest official names in the error (difflib), so a typo is fixed at a glance.
One query loads every division of the city; matching is in memory (never a query per row).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plan.schema import Plan
from storage.catalog import short_name, township_codes
from storage.models import Division
from tasks.imports.errors import CellError
from tasks.imports.text import name_key


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    township_code: str


def _aliases(name: str, short: str, level: str) -> set[str]:
    """Every way a clerk writes this division's name, compared without spaces."""
    names = {name, short}
    if level in ("镇", "乡"):
        names.add(short + level)  # 胡力吐乡 for 胡力吐蒙古族乡
    if level == "街道":
        names.update({short + "街道", short + "街"})
    if name.endswith("村委会") or level.startswith("村"):
        names.update({short + "村", short + "村民委员会", short + "村委"})
    if name.endswith("居委会") or "社区" in level:
        names.update({short + "社区", short + "居委会"})
    return {name_key(n) for n in names if n}


class DivisionIndex:
    def __init__(
        self,
        towns: list[Place],
        villages: list[Place],
        departments: list[str],
        town_levels: dict[str, str],
        village_levels: dict[str, str],
    ) -> None:
        self.towns = {p.code: p for p in towns}
        self.villages = {p.code: p for p in villages}
        self.departments = list(departments)
        self._town_alias: dict[str, set[str]] = defaultdict(set)
        for p in towns:
            for a in _aliases(p.name, short_name(p.name), town_levels[p.code]):
                self._town_alias[a].add(p.code)
        self._village_alias: dict[str, set[str]] = defaultdict(set)  # city-wide: for wrong-township hints
        self._village_in: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for p in villages:
            for a in _aliases(p.name, short_name(p.name), village_levels[p.code]):
                self._village_alias[a].add(p.code)
                self._village_in[p.township_code][a].add(p.code)

    @classmethod
    def load(cls, session: Session, plan: Plan) -> DivisionIndex:
        towns = set(township_codes(session, plan))
        rows = session.execute(select(Division.code, Division.name, Division.level, Division.parent_code)).all()
        town_places, village_places, tl, vl = [], [], {}, {}
        for code, name, level, parent in rows:
            if code in towns:
                town_places.append(Place(code, name, code))
                tl[code] = level
            elif parent in towns and level in plan.organisation.village_levels:
                village_places.append(Place(code, name, parent))
                vl[code] = level
        return cls(town_places, village_places, plan.organisation.departments, tl, vl)

    def name(self, code: str) -> str:
        place = self.towns.get(code) or self.villages.get(code)
        return place.name if place else code

    def township(self, value: object) -> str:
        key = name_key(value)
        if key in self.towns:
            return key
        codes = self._town_alias.get(key, set())
        if len(codes) == 1:
            return next(iter(codes))
        if len(codes) > 1:
            names = "、".join(sorted(self.towns[c].name for c in codes))
            raise CellError(
                f"“{key}”同时对应 {names}；请写全称", f"'{key}' is ambiguous ({names}); write the full name"
            )
        close = self._closest(key, self._town_alias, lambda c: self.towns[c].name)
        raise CellError(
            f"没有名为“{key}”的乡镇" + (f"；最接近的是：{'、'.join(close)}" if close else ""),
            f"unknown township '{key}'" + (f"; closest: {', '.join(close)}" if close else ""),
        )

    def village(self, value: object, township: str | None) -> str:
        """The village's code; ``township`` (a code, or None when the file has no township column)."""
        key = name_key(value)
        if key in self.villages:
            place = self.villages[key]
            if township and place.township_code != township:
                raise self._elsewhere(place, township)
            return key
        scope = self._village_in.get(township, {}) if township else self._village_alias
        codes = scope.get(key, set())
        if len(codes) == 1:
            return next(iter(codes))
        if len(codes) > 1:
            names = "、".join(
                sorted(f"{self.villages[c].name}（{self.towns[self.villages[c].township_code].name}）" for c in codes)
            )
            raise CellError(
                f"“{key}”对应多个村：{names}；请写全称或填写乡镇",
                f"'{key}' matches several villages ({names}); write the full name or the township",
            )
        if township:
            elsewhere = self._village_alias.get(key, set())
            if len(elsewhere) == 1:
                raise self._elsewhere(self.villages[next(iter(elsewhere))], township)
        where = self.towns[township].name if township else "全市"
        close = self._closest(key, scope, self._village_label(township))
        if not close and township:  # nothing near in this township: look city-wide
            close = self._closest(key, self._village_alias, self._village_label(None))
        raise CellError(
            f"{where}没有名为“{key}”的村" + (f"；最接近的是：{'、'.join(close)}" if close else ""),
            f"no village '{key}' in {where}" + (f"; closest: {', '.join(close)}" if close else ""),
        )

    def department(self, value: object) -> str:
        key = name_key(value)
        if key in self.departments:
            return key
        close = difflib.get_close_matches(key, self.departments, n=3, cutoff=0.4)
        raise CellError(
            f"没有名为“{key}”的部门" + (f"；最接近的是：{'、'.join(close)}" if close else ""),
            f"unknown department '{key}'" + (f"; closest: {', '.join(close)}" if close else ""),
        )

    def _elsewhere(self, place: Place, township: str) -> CellError:
        home, here = self.towns[place.township_code].name, self.towns[township].name
        return CellError(
            f"{place.name}属于{home}，不属于{here}；请核对乡镇或村名", f"{place.name} belongs to {home}, not {here}"
        )

    def _village_label(self, township: str | None) -> Callable[[str], str]:
        def label(code: str) -> str:
            p = self.villages[code]
            return p.name if township else f"{p.name}（{self.towns[p.township_code].name}）"

        return label

    @staticmethod
    def _closest(key: str, aliases: Mapping[str, set[str]], label: Callable[[str], str]) -> list[str]:
        out: list[str] = []
        for alias in difflib.get_close_matches(key, list(aliases), n=8, cutoff=0.4):
            for code in sorted(aliases[alias]):
                name = label(code)
                if name not in out:
                    out.append(name)
        return out[:3]
