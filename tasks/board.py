"""The 挂图作战 board: what is overdue or below target, per township, as of a time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Division, Duty, DutyInstance, Flag
from tasks.instances import overdue_condition

COLUMNS = ["乡镇", "单位", "类别", "事项", "周期", "应完成时间", "逾期天数"]


def board(
    session: Session, campaign_id: int, as_of: dt.datetime, township: str | None = None, tz: str = "Asia/Shanghai"
) -> pd.DataFrame:
    """One row per overdue instance (and per open below-target flag), sorted by township."""
    zone = ZoneInfo(tz)
    town = Division.__table__.alias("town")
    q = (
        select(
            town.c.name,
            DutyInstance.unit_name,
            Duty.name,
            DutyInstance.period_key,
            DutyInstance.due_at,
        )
        .join(Duty, Duty.id == DutyInstance.duty_id)
        .outerjoin(town, town.c.code == DutyInstance.township_code)
        .where(DutyInstance.campaign_id == campaign_id, overdue_condition(as_of))
    )
    if township:
        q = q.where(DutyInstance.township_code == township)
    rows = [
        (t or "市直", u, "逾期", n, p, d.astimezone(zone).strftime("%Y-%m-%d %H:%M"), (as_of - d).days)
        for t, u, n, p, d in session.execute(q).all()
    ]
    fq = select(Flag).where(
        Flag.campaign_id == campaign_id,
        Flag.kind == "below_target",
        Flag.raised_at <= as_of,
        (Flag.resolved_at.is_(None)) | (Flag.resolved_at > as_of),
    )
    if township:
        fq = fq.where(Flag.township_code == township)
    names = dict(session.execute(select(Division.code, Division.name)).tuples().all())
    for f in session.scalars(fq):
        rows.append(
            (
                names.get(f.township_code or "", "市直"),
                names.get(f.unit_code, f.unit_code),
                "未达标",
                str(f.details.get("name", f.subject)),
                str(f.details.get("period", "")),
                "",
                0,
            )
        )
    df = pd.DataFrame(rows, columns=COLUMNS)
    return df.sort_values(["乡镇", "单位", "事项", "周期"], ignore_index=True)


def summary(df: pd.DataFrame, as_of: dt.datetime, title: str) -> str:
    if df.empty:
        return f"# {title}\n\n截至 {as_of:%Y-%m-%d %H:%M}，没有逾期或未达标事项。\n"
    per_town = df.groupby("乡镇").size().sort_values(ascending=False)
    lines = [
        f"# {title}",
        "",
        f"截至 {as_of:%Y-%m-%d %H:%M}：逾期 {int((df['类别'] == '逾期').sum())} 项，"
        f"未达标 {int((df['类别'] == '未达标').sum())} 项，涉及 {len(per_town)} 个单位。",
        "",
        "| 乡镇 | 事项数 |",
        "| --- | --- |",
    ]
    lines += [f"| {t} | {n} |" for t, n in per_town.items()]
    return "\n".join(lines) + "\n"


def board_table(df: pd.DataFrame) -> pd.DataFrame:
    """The board as operators read it: one row per township × item, not per village and period
    (a city-wide board has thousands of those; `campaign status` lists them all)."""
    if df.empty:
        return pd.DataFrame(columns=["乡镇", "事项", "类别", "单位数", "项数", "最早应完成", "最长逾期天数"])
    out = (
        df.groupby(["乡镇", "事项", "类别"], sort=False)
        .agg(
            单位数=("单位", "nunique"),
            项数=("周期", "size"),
            最早应完成=("应完成时间", "min"),
            最长逾期天数=("逾期天数", "max"),
        )
        .reset_index()
    )
    return out.sort_values(["乡镇", "最长逾期天数"], ascending=[True, False], ignore_index=True)
