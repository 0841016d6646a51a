"""From facts to flags: is each unit meeting its duty's quota (第一书记每周驻村 5 天, 抽查率 30% …)?

For a duty with a ``quota`` the measured value of every unit in every finished quota period comes
from one query of the active evidence received by ``as_of`` and one pandas aggregation; nothing
loops over villages. How a quota is measured is read off the catalog, never written per duty:

- a quota in a count unit (天) sums the report column in that unit, per person when the report
  names one (each 第一书记 must reach 5 days; two people's days never add up), and the unit's
  value is its lowest person's;
- a quota in % uses the report's % column: computed as Σ numerator ÷ Σ denominator × 100 when
  the column's help says so (抽查份数 ÷ 日志份数 × 100), else the latest stated rate;
- a quota in % on a report without a % column but with rows per household (入户率) is a coverage:
  the distinct households of the report's rows (户主姓名, 是否贫困户 = 是) ÷ the unit's households
  in the register report counted in 户 (建档立卡贫困户台账: the latest row dated by the period's end)
  × 100, per village; a township's value sums its villages' households visited and registered;
- a duty without a report type is measured by the 完成值 of its ``duty_completion`` rows (latest).

Only units that reported something in a period are judged; a unit that reported nothing is the
overdue flag's business (tasks.instances.flag_overdue), not a second "below target" flag. A village
without a register row has no denominator and is not judged on coverage either. A quota that the
reports cannot measure (入户率 without a household register in the catalog) is skipped and said so
by ``measure_for``.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaign.periods import Period, period_of, periods_between
from plan.schema import Comparison, Duty, Plan, ReportType, Scope
from storage.models import DutyInstance, Evidence, Flag
from storage.upsert import insert_ignore
from tasks.imports.builtin import CITY_UNIT, DUTY_COMPLETION
from tasks.imports.completion import role_filter
from tasks.imports.validate import ratio_columns
from tasks.instances import DutyContext
from tasks.units import units_for

OPS: dict[Comparison, Callable[[Any, Any], Any]] = {
    Comparison.GE: operator.ge,
    Comparison.GT: operator.gt,
    Comparison.LE: operator.le,
    Comparison.LT: operator.lt,
    Comparison.EQ: operator.eq,
}


@dataclass(frozen=True)
class Measure:
    report_type: str
    how: Literal["sum", "ratio", "latest", "coverage"]
    column: str  # coverage: the field naming the household (户主姓名), counted once per unit-period
    numerator: str | None = None
    denominator: str | None = None  # coverage: the register's count column (建档立卡贫困户数)
    person: str | None = None  # per-person quota: the field naming the person
    where: str | None = None  # coverage: the bool field a row must have true to count (是否贫困户)
    register: str | None = None  # coverage: the report type giving the denominator per unit


HOUSEHOLD_UNIT = "户"


def measure_for(plan: Plan, duty: Duty) -> Measure | str:
    """How the duty's quota is measured, or why it cannot be (a sentence for the log)."""
    quota = duty.quota
    if quota is None:
        return f"{duty.key} 没有量化指标"
    if not duty.report_type:
        return Measure(DUTY_COMPLETION, "latest", "value")
    rt = plan.report_type(duty.report_type)
    numeric = [c for c in rt.columns if c.type in ("int", "number") and c.unit == quota.unit]
    if not numeric and quota.unit == "%" and HOUSEHOLD_UNIT in quota.metric:
        coverage = _coverage_measure(plan, rt)
        if coverage is not None:
            return coverage
        return f"报表“{rt.name}”没有以“%”为单位的列，目录中也没有按户统计的台账，无法计算“{quota.metric}”"
    if not numeric:
        return f"报表“{rt.name}”没有以“{quota.unit}”为单位的列，无法计算“{quota.metric}”"
    col = max(numeric, key=lambda c: difflib.SequenceMatcher(None, c.header, quota.metric).ratio())
    if quota.unit == "%":
        ratio = ratio_columns(rt).get(col.field)
        if ratio:
            return Measure(rt.key, "ratio", col.field, *ratio)
        return Measure(rt.key, "latest", col.field)
    person = next((c.field for c in rt.columns if c.type == "person"), None)
    return Measure(rt.key, "sum", col.field, person=person)


def _coverage_measure(plan: Plan, rt: ReportType) -> Measure | None:
    """入户率 off the catalog: the report's household column (户主姓名) and its bool filter (是否贫困户),
    over another report of the same unit whose int column counts 户 and names that filter's word
    (建档立卡贫困户数); None when the catalog has no such register."""
    unit_type = next(c.type for c in rt.columns if c.field == rt.unit_field)
    heads = [c for c in rt.columns if c.type in ("text", "person") and HOUSEHOLD_UNIT in c.header]
    if len(heads) != 1:
        return None
    for other in plan.report_types:
        if other.key == rt.key or next(c.type for c in other.columns if c.field == other.unit_field) != unit_type:
            continue
        for count in (c for c in other.columns if c.type == "int" and c.unit == HOUSEHOLD_UNIT):
            where = next(
                (c for c in rt.columns if c.type == "bool" and c.header.removeprefix("是否") in count.header), None
            )
            if where is not None:
                return Measure(
                    rt.key, "coverage", heads[0].field, denominator=count.field, where=where.field, register=other.key
                )
    return None


def _periods(ctx: DutyContext) -> list[Period]:
    """Quota periods inside the duty's windows that have ended by as_of (a week is judged once over)."""
    assert ctx.duty.quota is not None
    anchor = ctx.plan.campaign_window()[0]
    out: list[Period] = []
    for start, end in ctx.plan.duty_windows(ctx.duty):
        for p in periods_between(ctx.duty.quota.per, start, end, anchor):
            if p.end < ctx.today and p not in out:
                out.append(p)
    return out


def _facts(session: Session, ctx: DutyContext, m: Measure, periods: list[Period]) -> pd.DataFrame:
    """Active evidence rows of the measure's report in those periods, received by as_of: one query."""
    data: Any = Evidence.data
    q = select(Evidence.id, Evidence.unit_code, Evidence.township_code, Evidence.occurred_on, Evidence.data).where(
        Evidence.campaign_id == ctx.campaign_id,
        Evidence.report_type == m.report_type,
        Evidence.active.is_(True),
        Evidence.received_at <= ctx.as_of,
        Evidence.occurred_on >= min(p.start for p in periods),
        Evidence.occurred_on <= max(p.end for p in periods),
    )
    if m.report_type == DUTY_COMPLETION:
        q = q.where(data["duty"].as_string() == ctx.duty.key)
    roles = role_filter(ctx.plan, ctx.duty)
    if roles is not None:
        q = q.where(data[roles[0]].as_string().in_(roles[1]))
    if ctx.township:
        q = q.where(Evidence.township_code == ctx.township)
    return pd.DataFrame(session.execute(q).all(), columns=["id", "unit_code", "township_code", "occurred_on", "data"])


def measured_values(session: Session, ctx: DutyContext) -> pd.DataFrame:
    """unit, township_code, period, value for every unit-period with evidence (the quota's measure)."""
    cols = ["unit", "township_code", "period", "value"]
    m = measure_for(ctx.plan, ctx.duty)
    periods = _periods(ctx) if ctx.duty.quota else []
    if isinstance(m, str) or not periods:
        return pd.DataFrame(columns=cols)
    df = _facts(session, ctx, m, periods)
    if df.empty:
        return pd.DataFrame(columns=cols)
    assert ctx.duty.quota is not None
    anchor = ctx.plan.campaign_window()[0]
    keys = {p.key for p in periods}
    per_day = {d: period_of(ctx.duty.quota.per, d, anchor).key for d in df["occurred_on"].unique()}
    df["period"] = df["occurred_on"].map(per_day)
    df = df[df["period"].isin(keys)].copy()
    if m.how == "coverage":
        df = _village_coverage(session, ctx, m, [p for p in periods if p.key in set(df["period"])], df)
    df["unit"], df["township_code"] = _units(ctx.duty, df)
    allowed = set(units_for(session, ctx.plan, ctx.duty, ctx.township)["unit_code"])
    df = df[df["unit"].isin(allowed)]
    group = ["unit", "township_code", "period"]
    if m.how == "coverage":
        sums = df.groupby(group, dropna=False)[["visited", "households"]].sum()
        sums = sums[sums["households"] > 0]
        result = (sums["visited"] / sums["households"] * 100).astype(float).rename("value").reset_index()
        return result[cols]
    for name in {m.column, m.numerator, m.denominator, m.person} - {None}:
        df[name] = [d.get(name) for d in df["data"]]
    if m.how == "sum":
        df = df.dropna(subset=[m.column])
        if m.person:
            per_person = df.groupby([*group, m.person], dropna=False)[m.column].sum()
            out = per_person.groupby(level=group, dropna=False).min()
        else:
            out = df.groupby(group, dropna=False)[m.column].sum()
    elif m.how == "ratio":
        assert m.numerator and m.denominator
        df = df.dropna(subset=[m.numerator, m.denominator])
        sums = df.groupby(group, dropna=False)[[m.numerator, m.denominator]].sum()
        sums = sums[sums[m.denominator] > 0]
        out = sums[m.numerator] / sums[m.denominator] * 100
    else:
        df = df.dropna(subset=[m.column]).sort_values(["occurred_on", "id"])
        out = df.groupby(group, dropna=False)[m.column].last()
    result = out.astype(float).rename("value").reset_index()
    return result[cols]


def _village_coverage(
    session: Session, ctx: DutyContext, m: Measure, periods: list[Period], df: pd.DataFrame
) -> pd.DataFrame:
    """unit_code, township_code, period, visited, households per village-period: the distinct
    households the rows reach, and the village's latest register count dated by the period's end
    (received by as_of). One query for the registers of all villages; a village without one drops out."""
    village = ["unit_code", "township_code", "period"]
    heads = [str(d[m.column]).strip() if d.get(m.where) is True and d.get(m.column) else None for d in df["data"]]
    df = df.assign(household=pd.Series(heads, index=df.index, dtype=object))
    visited = df.groupby(village, dropna=False)["household"].nunique().rename("visited").reset_index()
    if visited.empty:
        return visited.assign(households=pd.Series(dtype=float))
    assert m.register and m.denominator
    q = select(Evidence.id, Evidence.unit_code, Evidence.occurred_on, Evidence.data).where(
        Evidence.campaign_id == ctx.campaign_id,
        Evidence.report_type == m.register,
        Evidence.active.is_(True),
        Evidence.received_at <= ctx.as_of,
        Evidence.occurred_on <= max(p.end for p in periods),
    )
    if ctx.township:
        q = q.where(Evidence.township_code == ctx.township)
    reg = pd.DataFrame(session.execute(q).all(), columns=["id", "unit_code", "occurred_on", "data"])
    reg["households"] = [d.get(m.denominator) for d in reg["data"]]
    ends = pd.DataFrame({"period": [p.key for p in periods], "end": [p.end for p in periods]})
    reg = reg.dropna(subset=["households"]).merge(ends, how="cross")
    reg = reg[reg["occurred_on"] <= reg["end"]].sort_values(["occurred_on", "id"])
    latest = reg.groupby(["unit_code", "period"])["households"].last().astype(float).reset_index()
    return visited.merge(latest, on=["unit_code", "period"], how="inner")


def _units(duty: Duty, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The unit each row counts for: its village, its township, or the department/city itself."""
    if duty.scope in (Scope.VILLAGE, Scope.HOUSEHOLD) or duty.report_type is None:
        return df["unit_code"], df["township_code"]
    if duty.scope is Scope.TOWNSHIP:
        town = df["township_code"].fillna(df["unit_code"])
        return town, town
    unit = CITY_UNIT if duty.scope is Scope.CITY else duty.performer
    return pd.Series(unit, index=df.index), pd.Series(None, index=df.index, dtype=object)


def evaluate_targets(session: Session, ctx: DutyContext) -> int:
    """Raise (or re-open) one ``below_target`` flag per unit-period under the quota and resolve
    those now meeting it. Returns the flags raised or re-opened."""
    quota = ctx.duty.quota
    if quota is None:
        return 0
    values = measured_values(session, ctx)
    below = values[~OPS[quota.comparison](values["value"], quota.threshold)] if not values.empty else values
    prefix = f"quota:{ctx.duty.key}:"
    instances = dict(
        ((u, p), i)
        for i, u, p in session.execute(
            select(DutyInstance.id, DutyInstance.unit_code, DutyInstance.period_key).where(
                DutyInstance.duty_id == ctx.duty_id
            )
        ).tuples()
    )
    wanted: dict[str, dict[str, Any]] = {}
    for unit, town, period, value in below.itertuples(index=False):
        subject = f"{prefix}{unit}:{period}"
        wanted[subject] = {
            "campaign_id": ctx.campaign_id,
            "kind": "below_target",
            "subject": subject,
            "duty_instance_id": instances.get((unit, period)),
            "unit_code": unit,
            "township_code": None if pd.isna(town) else town,
            "raised_at": ctx.as_of,
            "resolved_at": None,
            "details": {
                "duty": ctx.duty.key,
                "name": ctx.duty.name,
                "metric": quota.metric,
                "period": period,
                "value": round(float(value), 2),
                "threshold": quota.threshold,
                "comparison": quota.comparison.value,
                "unit": quota.unit,
                "summary": f"{quota.metric} {round(float(value), 2):g}{quota.unit}，"
                f"要求 {quota.comparison.value} {quota.threshold:g}{quota.unit}",
            },
        }
    fq = select(Flag.id, Flag.subject, Flag.resolved_at).where(
        Flag.campaign_id == ctx.campaign_id, Flag.kind == "below_target", Flag.subject.startswith(prefix)
    )
    if ctx.township:
        fq = fq.where(Flag.township_code == ctx.township)
    existing = {subject: (fid, resolved) for fid, subject, resolved in session.execute(fq).tuples()}
    raised = insert_ignore(
        session, Flag.__table__, [r for s, r in wanted.items() if s not in existing], ["campaign_id", "kind", "subject"]
    )
    # Still (or again) below: refresh the measured value; re-open a flag resolved earlier.
    again = [
        {"id": existing[s][0], "details": r["details"], "resolved_at": None} for s, r in wanted.items() if s in existing
    ]
    if again:
        session.execute(update(Flag), again)
    reopened = sum(1 for s in wanted if s in existing and existing[s][1] is not None)
    resolved = [fid for s, (fid, when) in existing.items() if s not in wanted and when is None]
    if resolved:
        session.execute(
            update(Flag)
            .where(Flag.id.in_(resolved))
            .values(resolved_at=ctx.as_of)
            .execution_options(synchronize_session=False)
        )
    return raised + reopened
