"""The directory file: the people a plan names, and the per-unit role slots it does not name.

Names only — never a phone number, e-mail address, WeChat id or any other contact; those live in the
separate contact directory (setting ``CONTACTS_FILE``). See docs/plan-format.md, "The directory file".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from plan.load import readable_location
from plan.schema import Key, Model, Plan, Scope

UNIT_CODE = re.compile(r"^\d{12}$")


def _division_code(v: str | None) -> str | None:
    if v is not None and not UNIT_CODE.match(v):
        raise ValueError(f"'{v}' is not a 12-digit division code")
    return v


UnitCode = Annotated[str | None, AfterValidator(_division_code)]
# Fields that would carry a contact. The directory refuses them by name so that a mistake is explained,
# not just reported as an unknown field.
CONTACT_FIELDS = frozenset(
    {
        "phone", "mobile", "tel", "telephone", "cell", "email", "e-mail", "mail", "wechat", "weixin", "wx",
        "qq", "dingtalk", "url", "apprise", "address", "contact", "contacts",
        "电话", "手机", "手机号", "邮箱", "微信", "钉钉", "地址", "联系方式",
    }
)  # fmt: skip
LOOKS_LIKE_CONTACT = re.compile(r"\d{5,}|@|://")


class DirectoryError(ValueError):
    """A directory file that cannot be used; ``problems`` lists every (path, message)."""

    def __init__(self, file: Path | str, problems: list[tuple[str, str]]):
        self.file = str(file)
        self.problems = problems
        lines = "\n".join(f"  {where}: {msg}" for where, msg in problems)
        super().__init__(f"{self.file}: {len(problems)} problem(s) in the directory file\n{lines}")


def _no_contacts(data: object) -> object:
    if isinstance(data, dict):
        found = sorted(str(k) for k in data if str(k).strip().lower() in CONTACT_FIELDS)
        if found:
            raise ValueError(
                f"contact field(s) {found} not allowed: the directory holds names only "
                "(contacts belong in the contact directory, CONTACTS_FILE)"
            )
    return data


def _name_only(v: str | None) -> str | None:
    if v is not None:
        v = v.strip()
        if not v:
            raise ValueError("name is empty (leave it null until it is known)")
        if LOOKS_LIKE_CONTACT.search(v):
            raise ValueError(f"'{v}' looks like a contact, not a name: the directory holds names only")
    return v


class DirectoryPerson(Model):
    """A person the plan names: a 责任人 (with the department they answer for) or a 市级责任领导."""

    key: Key = Field(description="Stable ascii key, e.g. kang-mingli")
    name: str
    role: str = Field(description="责任人, 市级责任领导 …")
    department: str | None = Field(default=None, description="The unit they answer for (责任人)")
    unit_code: UnitCode = Field(default=None, description="12-digit division code, for unit-bound people")
    items: list[int] = Field(default_factory=list, description="Work items that name them")

    @model_validator(mode="before")
    @classmethod
    def _contacts(cls, data: object) -> object:
        return _no_contacts(data)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _name_only(v) or v


class Holder(Model):
    """Who holds a role in one unit; ``name`` stays null until an operator knows it."""

    unit: str = Field(description="The unit's name as in the divisions file, e.g. 瓦房镇")
    unit_code: UnitCode = Field(default=None, description="12-digit division code of the unit")
    name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _contacts(cls, data: object) -> object:
        return _no_contacts(data)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return _name_only(v)


class RoleSlot(Model):
    """A per-unit role whose holders the plan does not name (乡镇党委书记 of each township …)."""

    role: str
    scope: Scope = Field(description="township or village: one slot per unit of this scope")
    description: str | None = None
    multiple: bool = Field(default=False, description="A unit may have several holders (驻村工作队 members)")
    holders: list[Holder] = Field(default_factory=list)

    @model_validator(mode="after")
    def _units(self) -> RoleSlot:
        if not self.multiple:
            units = [h.unit_code or h.unit for h in self.holders]
            dupes = sorted({u for u in units if units.count(u) > 1})
            if dupes:
                raise ValueError(f"{self.role}: one holder per unit, but {dupes} repeat (set multiple: true?)")
        return self

    def holder_keys(self) -> list[tuple[str, Holder]]:
        """(person key, holder): ``role@unit_code`` (``#n`` appended when a unit has several)."""
        out: list[tuple[str, Holder]] = []
        seen: dict[str, int] = {}
        for h in self.holders:
            unit = h.unit_code or h.unit
            n = seen[unit] = seen.get(unit, 0) + 1
            out.append((f"{self.role}@{unit}" + (f"#{n}" if self.multiple and n > 1 else ""), h))
        return out


class Directory(Model):
    format: int = Field(default=1, ge=1, le=1)
    campaign: Key
    people: list[DirectoryPerson] = Field(default_factory=list)
    role_slots: list[RoleSlot] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Directory:
        errors: list[str] = []
        keys = [p.key for p in self.people]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            errors.append(f"people: duplicate keys {dupes}")
        roles = [s.role for s in self.role_slots]
        dup_roles = sorted({r for r in roles if roles.count(r) > 1})
        if dup_roles:
            errors.append(f"role_slots: roles repeat {dup_roles}")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def person(self, key_or_name: str) -> DirectoryPerson:
        for p in self.people:
            if key_or_name in (p.key, p.name):
                return p
        raise KeyError(f"no person '{key_or_name}' in the directory of {self.campaign}")

    def slot(self, role: str) -> RoleSlot:
        for s in self.role_slots:
            if s.role == role:
                return s
        raise KeyError(f"no role slot '{role}' in the directory of {self.campaign}")


def named_people(plan: Plan) -> dict[str, set[str]]:
    """Names of individual people in the plan (责任人 and 市级责任领导), each with its role(s).

    Collective placeholders — 各乡镇党委书记, 各公司负责人, 相关市级领导, 各部门市级分管领导 … — are roles,
    not people: they start with 各/相关/市级 or end with 领导/负责人.
    """

    def individual(s: str) -> bool:
        return not s.startswith(("各", "相关", "市级")) and not s.endswith(("领导", "负责人"))

    out: dict[str, set[str]] = {}
    for item in plan.items():
        for n in item.persons:
            if individual(n):
                out.setdefault(n, set()).add("责任人")
        for n in item.leaders:
            if individual(n):
                out.setdefault(n, set()).add("市级责任领导")
    return out


def check_against_plan(directory: Directory, plan: Plan) -> list[str]:
    """Problems between a directory and its plan: people it lacks, unknown roles, departments, campaign."""
    problems: list[str] = []
    if directory.campaign != plan.campaign.code:
        problems.append(f"campaign: '{directory.campaign}' but the plan is '{plan.campaign.code}'")
    names = {p.name for p in directory.people}
    for name in sorted(set(named_people(plan)) - names):
        problems.append(f"people: the plan names '{name}' but the directory has no entry")
    depts = set(plan.organisation.departments)
    for i, p in enumerate(directory.people):
        if p.department is not None and p.department not in depts:
            problems.append(f"people[{i}]({p.key}): department '{p.department}' is not in organisation.departments")
    roles = {r.name: r for r in plan.organisation.roles}
    for i, s in enumerate(directory.role_slots):
        if s.role not in roles:
            problems.append(f"role_slots[{i}]({s.role}): not a role of organisation.roles")
        elif (want := roles[s.role].scope) is not s.scope:
            problems.append(f"role_slots[{i}]({s.role}): scope {s.scope.value} but the plan has {want.value}")
    return problems


def _loc(doc: Any, loc: tuple[int | str, ...]) -> str:
    return readable_location(doc, loc, labels=("key", "role", "unit"))


def parse_directory(text: str, source: Path | str = "<directory>") -> Directory:
    try:
        doc: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(parse)"
        raise DirectoryError(source, [(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(doc, dict):
        raise DirectoryError(source, [("(top)", "the directory must be a YAML mapping")])
    try:
        return Directory.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
            problems.append((_loc(doc, loc), err["msg"].removeprefix("Value error, ")))
        raise DirectoryError(source, problems) from None


def load_directory(path: Path | str) -> Directory:
    """Parse and validate a directory file; errors name the file and the place in it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DirectoryError(p, [("(file)", f"not UTF-8 at byte {exc.start}")]) from None
    except OSError as exc:
        raise DirectoryError(p, [("(file)", exc.strerror or str(exc))]) from None
    return parse_directory(text, p)
