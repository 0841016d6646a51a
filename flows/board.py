"""Publishing the 挂图作战 board as Prefect artifacts: a table per township and item, and a markdown summary.

Keys are stable, so the UI's artifact page shows the latest board and its history: ``board`` for
the city, ``board-<township code>`` for a township re-run (and ``…-summary`` for the summaries).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.common import RunScope
from storage.db import session_scope
from tasks.board import board, board_table

TOP_ITEMS = 10


def publish_board(scope: RunScope, as_of: dt.datetime, phase_name: str) -> pd.DataFrame:
    with session_scope() as s:
        df = board(s, scope.campaign_id, as_of, scope.township, scope.plan.campaign.timezone)
    key = "board" if scope.township is None else f"board-{scope.township}"
    where = scope.township_name or scope.township or "全市"
    title = f"{scope.plan.campaign.city}脱贫攻坚挂图作战（{phase_name}·{where}）"
    local = as_of.astimezone(ZoneInfo(scope.plan.campaign.timezone))
    description = f"{title}：截至 {local:%Y-%m-%d %H:%M}，逾期或未达标 {len(df)} 项"
    table = board_table(df)
    create_table_artifact(
        key=key,
        table=[{str(k): v for k, v in r.items()} for r in table.to_dict(orient="records")],
        description=description + "（按乡镇、事项汇总；明细：campaign status）",
    )
    create_markdown_artifact(key=f"{key}-summary", markdown=summary_markdown(df, local, title), description=title)
    return df


def summary_markdown(df: pd.DataFrame, as_of: dt.datetime, title: str) -> str:
    """The board at a glance: totals, one line per township, the items most often overdue."""
    head = [f"# {title}", ""]
    if df.empty:
        return "\n".join([*head, f"截至 {as_of:%Y-%m-%d %H:%M}，没有逾期或未达标事项。", ""])
    overdue = df[df["类别"] == "逾期"]
    below = df[df["类别"] == "未达标"]
    towns = df.groupby("乡镇")["类别"].value_counts().unstack(fill_value=0)
    for col in ("逾期", "未达标"):
        if col not in towns.columns:
            towns[col] = 0
    towns["合计"] = towns["逾期"] + towns["未达标"]
    towns = towns.sort_values(["合计", "逾期"], ascending=False)
    lines = [
        *head,
        f"截至 **{as_of:%Y-%m-%d %H:%M}**：逾期 **{len(overdue)}** 项，未达标 **{len(below)}** 项，"
        f"涉及 {len(towns)} 个乡镇（单位）。",
        "",
        "| 乡镇 | 逾期 | 未达标 | 合计 |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {t} | {int(r['逾期'])} | {int(r['未达标'])} | {int(r['合计'])} |" for t, r in towns.iterrows()),
    ]
    if not overdue.empty:
        items = (
            overdue.groupby("事项")
            .agg(单位数=("单位", "nunique"), 最长逾期天数=("逾期天数", "max"))
            .sort_values(["单位数", "最长逾期天数"], ascending=False)
            .head(TOP_ITEMS)
        )
        lines += ["", "## 逾期最多的事项", "", "| 事项 | 逾期单位数 | 最长逾期（天） |", "| --- | ---: | ---: |"]
        lines += [f"| {name} | {int(r['单位数'])} | {int(r['最长逾期天数'])} |" for name, r in items.iterrows()]
    lines += ["", "明细见同名表格（key 去掉 `-summary`）。", ""]
    return "\n".join(lines)
