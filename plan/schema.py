"""Typed models of the plan catalog (one YAML file per campaign; see docs/plan-format.md).

Nothing about a plan's content lives in code: phases, items, indicators, duties, report types,
reminder policy and accountability rules all come from the catalog file and are checked here.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from campaign.periods import Frequency

MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
ONGOING = "长期坚持"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Comparison(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="

    def holds(self, value: float, threshold: float) -> bool:
        return {
            ">=": value >= threshold,
            ">": value > threshold,
            "<=": value <= threshold,
            "<": value < threshold,
            "==": value == threshold,
        }[self.value]


class Scope(StrEnum):
    CITY = "city"
    TOWNSHIP = "township"
    VILLAGE = "village"
    DEPARTMENT = "department"
    PROJECT = "project"
    HOUSEHOLD = "household"
    PERSON = "person"


def _month_day(v: str) -> str:
    if not MONTH_DAY.match(v):
        raise ValueError(f"'{v}' is not a month-day like 03-20")
    return v


MonthDay = Annotated[str, Field(description="MM-DD within the campaign year")]
Key = Annotated[str, Field(pattern=KEY.pattern, description="lower-case key: letters, digits, - _ .")]


class Window(Model):
    start: MonthDay
    end: MonthDay

    @field_validator("start", "end")
    @classmethod
    def _md(cls, v: str) -> str:
        return _month_day(v)

    @model_validator(mode="after")
    def _order(self) -> Window:
        if self.end < self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")
        return self

    def dates(self, year: int) -> tuple[dt.date, dt.date]:
        s, e = (dt.date(year, int(x[:2]), int(x[3:])) for x in (self.start, self.end))
        return s, e


class Phase(Model):
    key: Key
    number: int = Field(ge=1)
    name: str
    window: Window
    summary: str = Field(description="What the phase does, in the plan's words")
    responsible: list[str] = Field(default_factory=list, description="Units named as leading the phase")


class Indicator(Model):
    key: Key
    metric: str
    comparison: Comparison
    threshold: float
    unit: str
    scope: Scope
    applies_to: str | None = Field(
        default=None, description="Which units or people, e.g. 贫困村, 1633 名原重度贫困人口"
    )
    population: int | None = Field(default=None, ge=0, description="Size of the population the target is about")
    share_of_units: float | None = Field(
        default=None, gt=0, le=100, description="Percent of the units that must meet the threshold"
    )
    deadline: MonthDay | None = None
    text: str = Field(description="The seed's own words for this target")
    per: Frequency | None = Field(
        default=None,
        description="Period the target is measured over, e.g. 入户率 100% 每季度; omitted: the year",
    )
    deadline_year: int | None = Field(
        default=None,
        ge=2000,
        le=2100,
        description="Year of `deadline` when it is not the campaign year (2020 年底前)",
    )

    @field_validator("deadline")
    @classmethod
    def _deadline_md(cls, v: str | None) -> str | None:
        return None if v is None else _month_day(v)

    @model_validator(mode="after")
    def _deadline_year(self) -> Indicator:
        if self.deadline_year is not None and self.deadline is None:
            raise ValueError("deadline_year needs a deadline (the month-day in that year)")
        if self.per is Frequency.EVENT:
            raise ValueError("per: 事件 has no period; use a calendar frequency")
        return self


class Quota(Model):
    metric: str
    comparison: Comparison
    threshold: float
    unit: str
    per: Frequency = Field(description="Period over which the quota is counted")


class DueRule(Model):
    """When an instance of a duty is due, computed from its period."""

    anchor: Literal["period_start", "period_end"] = "period_end"
    offset_workdays: int = Field(default=0, ge=-20, le=40)
    roll: Literal["preceding", "following"] = Field(
        default="following", description="If the anchor day is not a working day, move it this way"
    )
    time: str = Field(default="17:30", description="Local time of day (Asia/Shanghai)")
    grace_workdays: int = Field(default=0, ge=0, le=20, description="Working days after due before it is flagged")

    @field_validator("time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not HHMM.match(v):
            raise ValueError(f"'{v}' is not a time like 17:30")
        return v


class Duty(Model):
    key: Key
    name: str
    text: str = Field(description="The seed's sentence that sets this duty")
    performer: str = Field(description="Role or unit that performs it: 各乡镇, 第一书记, 扶贫办 …")
    scope: Scope = Field(description="One instance per unit of this scope per period")
    frequency: Frequency
    wording: str | None = Field(default=None, description="Frequency exactly as written when it differs, e.g. 每半个月")
    quota: Quota | None = None
    evidence: str = Field(description="What completes it: 会议纪要, 签字审核的扶贫日志, 统计表 …")
    report_type: Key | None = Field(default=None, description="Report type whose rows complete instances")
    reviewer: str | None = None
    report_to: str | None = None
    applies_to: str | None = Field(default=None, description="Subset of units, e.g. 贫困村")
    phases: list[Key] | None = Field(default=None, description="Phases it runs in; omitted: all phases")
    due: DueRule = Field(default_factory=DueRule)
    response_minutes: int | None = Field(default=None, gt=0, description="Event duties: deadline after the event")
    urgent: bool = Field(default=False, description="May be pushed in quiet hours")
    responsible: list[str] = Field(default_factory=list, description="Persons or roles answerable for it")

    @model_validator(mode="after")
    def _event(self) -> Duty:
        if self.frequency is Frequency.EVENT and self.response_minutes is None:
            raise ValueError("an event duty needs response_minutes (its deadline after the event)")
        if self.frequency is not Frequency.EVENT and self.response_minutes is not None:
            raise ValueError("response_minutes is only for event duties (frequency: 事件)")
        return self


class Deadline(Model):
    date: MonthDay | None = None
    ongoing: bool = False

    @field_validator("date")
    @classmethod
    def _date_md(cls, v: str | None) -> str | None:
        return None if v is None else _month_day(v)

    @model_validator(mode="after")
    def _something(self) -> Deadline:
        if self.date is None and not self.ongoing:
            raise ValueError(f"a deadline needs a month-day like 06-30 or {ONGOING}")
        return self

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, v: object) -> object:
        if isinstance(v, str):
            if v == ONGOING:
                return {"ongoing": True}
            return {"date": _month_day(v)}
        return v


class WorkItem(Model):
    number: int = Field(ge=1)
    title: str
    goal: str = Field(description="The item's opening sentence(s)")
    measures: str = Field(description="工作措施, verbatim")
    indicators: list[Indicator] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(min_length=1, description="完成时限, e.g. ['06-30', 长期坚持]")
    leaders: list[str] = Field(min_length=1, description="市级责任领导")
    departments: list[str] = Field(min_length=1, description="责任部门 / 责任单位")
    persons: list[str] = Field(min_length=1, description="责任人")
    duties: list[Duty] = Field(default_factory=list)


class Aspect(Model):
    number: int = Field(ge=1)
    title: str
    goal: str
    indicators: list[Indicator] = Field(default_factory=list)
    items: list[WorkItem] = Field(min_length=1)


class LedgerColumn(Model):
    header: str
    field: Key
    type: Literal["text", "int", "number", "date", "bool", "township", "village", "department", "person"]
    required: bool = True
    values: list[str] | None = Field(default=None, description="Closed list of allowed values, e.g. 来源")
    help: str | None = None


class Rectification(Model):
    """Phase 1 task 1: the ledger of problems fed back by inspections (imported, not invented)."""

    phase: Key
    title: str
    text: str
    aspects: int = Field(ge=1)
    problems: int = Field(ge=1)
    window: Window
    ongoing: bool = True
    leaders: list[str]
    units: list[str]
    persons: list[str]
    ledger_columns: list[LedgerColumn] = Field(min_length=1)


class Column(Model):
    header: str = Field(description="Chinese column header as township staff write it")
    field: Key
    type: Literal["text", "int", "number", "date", "bool", "township", "village", "department", "person"]
    required: bool = True
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    example: str | int | float | bool | None = None
    help: str | None = None
    values: list[str] | None = Field(default=None, description="Closed list of allowed values, e.g. 身份")


class ReportType(Model):
    key: Key
    name: str
    description: str
    unit_field: Key = Field(description="Column naming the unit (township or village) a row is about")
    date_field: Key | None = Field(default=None, description="Column dating the row (which period it completes)")
    period_field: Key | None = Field(default=None, description="Column naming the period (e.g. 2018-05) instead")
    columns: list[Column] = Field(min_length=1)
    readings: dict[Key, Key] = Field(
        default_factory=dict, description="column field → indicator key: the row's value becomes a reading"
    )

    @model_validator(mode="after")
    def _fields_exist(self) -> ReportType:
        names = [c.field for c in self.columns]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"duplicate column fields: {sorted(dupes)}")
        for attr in ("unit_field", "date_field", "period_field"):
            val = getattr(self, attr)
            if val is not None and val not in names:
                raise ValueError(f"{attr} '{val}' is not one of the columns {names}")
        types = {c.field: c.type for c in self.columns}
        for col in self.readings:
            if col not in names:
                raise ValueError(f"readings column '{col}' is not one of the columns {names}")
            if types[col] not in ("int", "number"):
                raise ValueError(f"readings column '{col}' is of type {types[col]}; a reading needs int or number")
        return self


class EscalationStep(Model):
    to: str = Field(description="责任人, unit_head, 市级责任领导, or a department such as 督查指挥中心")
    after_workdays: int = Field(ge=0, description="Working days after the item went overdue")


class QuietHours(Model):
    start: str = "21:00"
    end: str = "08:00"


class ReminderPolicy(Model):
    before_workdays: list[int] = Field(default=[3, 1], description="Remind this many working days before due")
    on_due_day: bool = True
    send_at: str = Field(default="09:00", description="Local time reminders go out on their day")
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    escalation: list[EscalationStep] = Field(min_length=1)
    retry_backoff_minutes: list[int] = Field(default=[5, 30, 120, 480])


class TownshipFlags(Model):
    every: Frequency
    sources: list[str]
    red: int = Field(ge=0, description="Top N above the standard line get a 流动红旗")
    yellow: int = Field(ge=0, description="Bottom N below the standard line get a 流动黄旗")


class Consequence(Model):
    consecutive: int = Field(ge=1)
    who: str
    actions: list[str] = Field(min_length=1)


class VillageCards(Model):
    on: str = Field(description="What ranks villages: 专项巡察检查")
    bottom: int = Field(ge=1, description="The bottom N villages get a 黄牌")
    consequences: list[Consequence]


class Accountability(Model):
    text: str
    township_flags: TownshipFlags
    year_end: list[Consequence]
    village_cards: VillageCards
    rewards: list[str] = Field(default_factory=list)


class ExitSlot(Model):
    number: int = Field(ge=1)
    name: str | None = Field(default=None, description="Filled in by an operator from the province's list")
    indicator: Key | None = Field(default=None, description="An indicator of this catalog that measures it")


class ExitCriteria(Model):
    key: Key
    name: str
    count: int = Field(ge=1)
    slots: list[ExitSlot]

    @model_validator(mode="after")
    def _count(self) -> ExitCriteria:
        if len(self.slots) != self.count:
            raise ValueError(f"{self.name}: {self.count} criteria declared but {len(self.slots)} slots given")
        return self


class Role(Model):
    name: str
    scope: Scope
    head_of: Scope | None = Field(default=None, description="The role heads units of this scope (escalation)")


class Organisation(Model):
    divisions_file: str = Field(description="Path, relative to the catalog file, of the official divisions CSV")
    city_code: str
    township_levels: list[str] = Field(min_length=1)
    township_requires_villages: bool = True
    village_levels: list[str] = Field(min_length=1)
    directory_file: str | None = Field(default=None, description="People and roles (names only, no contacts)")
    supervisor: str = Field(description="The unit that receives reports and final escalations, e.g. 督查指挥中心")
    roles: list[Role]
    departments: list[str]


class CampaignInfo(Model):
    code: Key
    name: str
    city: str
    year: int = Field(ge=2000, le=2100)
    timezone: str = "Asia/Shanghai"
    principles: list[str] = Field(default_factory=list)


class Plan(Model):
    format: Literal[1]
    campaign: CampaignInfo
    organisation: Organisation
    phases: list[Phase] = Field(min_length=1)
    rectification: Rectification | None = None
    aspects: list[Aspect] = Field(min_length=1)
    report_types: list[ReportType] = Field(default_factory=list)
    reminders: ReminderPolicy
    accountability: Accountability | None = None
    exit_criteria: list[ExitCriteria] = Field(default_factory=list)
    requirements: list[str] = Field(default_factory=list, description="四、工作要求, for reference")

    @model_validator(mode="after")
    def _cross_refs(self) -> Plan:
        errors: list[str] = []
        phase_keys = [p.key for p in self.phases]
        if len(set(phase_keys)) != len(phase_keys):
            errors.append(f"phases: duplicate keys in {phase_keys}")
        ordered = sorted(self.phases, key=lambda p: p.window.start)
        for a, b in itertools.pairwise(ordered):
            if b.window.start <= a.window.end:
                errors.append(f"phases: {a.key} and {b.key} overlap")
        rtypes = {r.key for r in self.report_types}
        # Where each indicator and duty sits, so that a message can name the place in the file.
        ind_at: dict[str, list[str]] = {}
        duty_at: list[tuple[str, Duty]] = []
        for ai, asp in enumerate(self.aspects):
            a_at = f"aspects[{ai}]({asp.number})"
            for xi, x in enumerate(asp.indicators):
                ind_at.setdefault(x.key, []).append(f"{a_at}.indicators[{xi}]({x.key})")
            for ii, it in enumerate(asp.items):
                i_at = f"{a_at}.items[{ii}]({it.number})"
                for xi, x in enumerate(it.indicators):
                    ind_at.setdefault(x.key, []).append(f"{i_at}.indicators[{xi}]({x.key})")
                for di, d in enumerate(it.duties):
                    duty_at.append((f"{i_at}.duties[{di}]({d.key})", d))
        ind_keys: list[str] = [i.key for i in self.indicators()]
        dup_ind = {k for k in ind_keys if ind_keys.count(k) > 1}
        if dup_ind:
            where = ", ".join(w for k in sorted(dup_ind) for w in ind_at[k])
            errors.append(f"indicators: duplicate keys {sorted(dup_ind)} (at {where})")
        duty_keys = [d.key for d in self.duties()]
        dup_duty = {k for k in duty_keys if duty_keys.count(k) > 1}
        if dup_duty:
            where = ", ".join(w for w, d in duty_at if d.key in dup_duty)
            errors.append(f"duties: duplicate keys {sorted(dup_duty)} (at {where})")
        item_numbers = [i.number for a in self.aspects for i in a.items]
        if len(set(item_numbers)) != len(item_numbers):
            dup_num = sorted({n for n in item_numbers if item_numbers.count(n) > 1})
            errors.append(f"aspects: work item numbers repeat {dup_num}")
        for at, d in duty_at:
            for p in d.phases or []:
                if p not in phase_keys:
                    errors.append(f"duty {d.key} (at {at}.phases): unknown phase '{p}' (phases are {phase_keys})")
            if d.report_type and d.report_type not in rtypes:
                errors.append(
                    f"duty {d.key} (at {at}.report_type): unknown report_type '{d.report_type}'"
                    f" (report types are {sorted(rtypes)})"
                )
        for ri, r in enumerate(self.report_types):
            for col, ind in r.readings.items():
                if ind not in ind_keys:
                    errors.append(
                        f"report_type {r.key} (at report_types[{ri}]({r.key}).readings.{col}):"
                        f" readings {col} → unknown indicator '{ind}'"
                    )
        for ei, ec in enumerate(self.exit_criteria):
            for si, s in enumerate(ec.slots):
                if s.indicator and s.indicator not in ind_keys:
                    errors.append(
                        f"exit_criteria {ec.key} slot {s.number}"
                        f" (at exit_criteria[{ei}]({ec.key}).slots[{si}]({s.number}).indicator):"
                        f" unknown indicator '{s.indicator}'"
                    )
        if self.rectification and self.rectification.phase not in phase_keys:
            errors.append(f"rectification.phase: unknown phase '{self.rectification.phase}' (phases are {phase_keys})")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    # --- navigation helpers (pure, no I/O) ---
    def items(self) -> list[WorkItem]:
        return [i for a in self.aspects for i in a.items]

    def duties(self) -> list[Duty]:
        return [d for i in self.items() for d in i.duties]

    def indicators(self) -> list[Indicator]:
        return [
            *(x for a in self.aspects for x in a.indicators),
            *(x for i in self.items() for x in i.indicators),
        ]

    def duty(self, key: str) -> Duty:
        for d in self.duties():
            if d.key == key:
                return d
        raise KeyError(f"no duty '{key}' in campaign {self.campaign.code}")

    def item_of(self, duty_key: str) -> WorkItem:
        for i in self.items():
            if any(d.key == duty_key for d in i.duties):
                return i
        raise KeyError(duty_key)

    def report_type(self, key: str) -> ReportType:
        for r in self.report_types:
            if r.key == key:
                return r
        raise KeyError(f"no report type '{key}' in campaign {self.campaign.code}")

    def phase(self, key_or_number: str | int) -> Phase:
        for p in self.phases:
            if p.key == key_or_number or p.number == key_or_number or str(p.number) == str(key_or_number):
                return p
        raise KeyError(f"no phase '{key_or_number}' in campaign {self.campaign.code}")

    def phase_dates(self, phase: Phase) -> tuple[dt.date, dt.date]:
        return phase.window.dates(self.campaign.year)

    def campaign_window(self) -> tuple[dt.date, dt.date]:
        starts = [self.phase_dates(p)[0] for p in self.phases]
        ends = [self.phase_dates(p)[1] for p in self.phases]
        return min(starts), max(ends)

    def duty_windows(self, duty: Duty) -> list[tuple[dt.date, dt.date]]:
        """The date ranges in which a duty runs: its phases' windows, or the whole campaign."""
        phases = [self.phase(k) for k in duty.phases] if duty.phases else self.phases
        return sorted(self.phase_dates(p) for p in phases)
