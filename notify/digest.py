"""Composing messages: one digest per person per run, in plain Chinese."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from campaign.workdays import WorkCalendar
from notify.steps import DueStep
from plan.schema import Duty

HEADINGS = {"reminder": "待办提醒", "overdue": "逾期提醒", "escalation": "逾期督办"}


def fmt_time(t: dt.datetime, tz: ZoneInfo) -> str:
    local = t.astimezone(tz)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def line_for(duty: Duty, ds: DueStep, as_of: dt.datetime, cal: WorkCalendar, tz: ZoneInfo) -> str:
    due = fmt_time(ds.due_at, tz)
    what = f"{duty.name}（{ds.period_key}，{ds.unit_name}）"
    s = ds.step
    if s.kind == "reminder":
        left = cal.workdays_between(as_of.astimezone(tz).date(), ds.due_at.astimezone(tz).date()) - 1
        when = "今日到期" if s.name == "due" else f"还有{max(left, 0)}个工作日"
        return f"{what}：请于{due}前提交{duty.evidence}，{when}。"
    late = max(cal.workdays_between(ds.due_at.astimezone(tz).date(), as_of.astimezone(tz).date()) - 1, 0)
    late_txt = f"已逾期{late}个工作日" if late else "已逾期"
    if s.kind == "overdue":
        return f"{what}：应于{due}前提交{duty.evidence}，{late_txt}，请尽快完成。"
    return f"{what}：应于{due}前完成，{late_txt}，未见{duty.evidence}，请督促落实。"


def compose(city: str, kinds: set[str], lines: list[str], as_of: dt.datetime, tz: ZoneInfo) -> tuple[str, str]:
    """(title, body) of one person's digest for this run."""
    kind = "escalation" if "escalation" in kinds else "overdue" if "overdue" in kinds else "reminder"
    local = as_of.astimezone(tz)
    title = f"{city}脱贫攻坚{HEADINGS[kind]}（{local.month}月{local.day}日）"
    body = "\n".join(f"{i}. {text}" for i, text in enumerate(lines, start=1))
    return title, f"您有{len(lines)}项事项：\n{body}"
