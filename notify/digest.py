"""Composing messages: one digest per person per run, in plain Chinese, split by bytes when long.

A digest lists every item the person hears about in this run — what (the duty and its period),
where (the unit), when it is due and how late it is. Services limit a message in *bytes* (WeCom:
2048 bytes of UTF-8, where a Chinese character takes three), so a long digest is split between
lines into parts that each fit, numbered (1/3) …; a single line longer than a part is cut on a
character boundary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from campaign.workdays import WorkCalendar
from notify.steps import DueStep
from plan.schema import Duty

HEADINGS = {"reminder": "待办提醒", "overdue": "逾期提醒", "escalation": "逾期督办"}
DRILL = "【演练】"


def fmt_time(t: dt.datetime, tz: ZoneInfo) -> str:
    local = t.astimezone(tz)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def item_line(
    duty: Duty,
    period_key: str,
    unit_name: str,
    kind: str,
    due_at: dt.datetime,
    as_of: dt.datetime,
    cal: WorkCalendar,
    tz: ZoneInfo,
) -> str:
    """One item of a digest: what, where, due, how late — as of the moment it is sent."""
    due = fmt_time(due_at, tz)
    what = f"{duty.name}（{period_key}，{unit_name}）"
    today, due_day = as_of.astimezone(tz).date(), due_at.astimezone(tz).date()
    if kind == "reminder" and as_of < due_at:
        left = cal.workdays_between(today, due_day) - 1 if due_day > today else 0
        when = "今日到期" if due_day <= today else f"还有{max(left, 0)}个工作日"
        return f"{what}：请于{due}前提交{duty.evidence}，{when}。"
    late = max(cal.workdays_between(due_day, today) - 1, 0)
    late_txt = f"已逾期{late}个工作日" if late else "已逾期"
    if kind in ("overdue", "reminder"):
        return f"{what}：应于{due}前提交{duty.evidence}，{late_txt}，请尽快完成。"
    return f"{what}：应于{due}前完成，{late_txt}，未见{duty.evidence}，请督促落实。"


def line_for(duty: Duty, ds: DueStep, as_of: dt.datetime, cal: WorkCalendar, tz: ZoneInfo) -> str:
    return item_line(duty, ds.period_key, ds.unit_name, ds.step.kind, ds.due_at, as_of, cal, tz)


def heading(kinds: set[str]) -> str:
    kind = "escalation" if "escalation" in kinds else "overdue" if "overdue" in kinds else "reminder"
    return HEADINGS[kind]


def title_for(city: str, kinds: set[str], as_of: dt.datetime, tz: ZoneInfo, drill: bool = False) -> str:
    local = as_of.astimezone(tz)
    return f"{DRILL if drill else ''}{city}脱贫攻坚{heading(kinds)}（{local.month}月{local.day}日）"


def compose(city: str, kinds: set[str], lines: list[str], as_of: dt.datetime, tz: ZoneInfo) -> tuple[str, str]:
    """(title, body) of one person's whole digest for this run (unsplit)."""
    title = title_for(city, kinds, as_of, tz)
    body = "\n".join(f"{i}. {text}" for i, text in enumerate(lines, start=1))
    return title, f"您有{len(lines)}项事项：\n{body}"


def utf8_len(s: str) -> int:
    return len(s.encode("utf-8"))


def cut_bytes(s: str, limit: int) -> list[str]:
    """Cut ``s`` into pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    out: list[str] = []
    cur: list[str] = []
    size = 0
    for ch in s:
        n = utf8_len(ch)
        if size + n > limit and cur:
            out.append("".join(cur))
            cur, size = [], 0
        cur.append(ch)
        size += n
    if cur or not out:
        out.append("".join(cur))
    return out


@dataclass(frozen=True)
class Part:
    title: str
    body: str
    items: tuple[int, ...]  # indexes (0-based) into the person's items carried by this part


def split_digest(title: str, lines: list[str], limit: int, *, title_in_body: bool, preface: str = "") -> list[Part]:
    """The digest as parts of at most ``limit`` UTF-8 bytes each (the title counted too when the
    service puts it in the body), split between items: every item is in exactly one part, numbered
    across parts. Only an item longer than a whole part makes a part over the limit (the sender
    then cuts that one by bytes)."""
    total = len(lines)
    numbered = [f"{i}. {t}" for i, t in enumerate(lines, start=1)]

    def title_of(k: int, n: int) -> str:
        return title if n == 1 else f"{title}（{k}/{n}）"

    def header(a: int, b: int, n: int) -> str:
        span = "" if n == 1 else f"（本条第{a}至{b}项）" if a != b else f"（本条第{a}项）"
        return f"{preface}您有{total}项事项{span}：\n"

    def overhead(n: int) -> int:  # the most a part's title and header can take when there are n parts
        t = utf8_len(title_of(n, n)) + 1 if title_in_body else 0
        return t + utf8_len(header(total, total, n))

    n = 1
    while True:
        budget = limit - overhead(n)
        groups: list[list[int]] = []
        size = 0
        for i, text in enumerate(numbered):
            add = utf8_len(text) + (1 if groups and groups[-1] else 0)
            if groups and groups[-1] and size + add <= budget:
                groups[-1].append(i)
                size += add
            else:
                groups.append([i])
                size = utf8_len(text)
        if len(groups) <= n:
            break
        n = len(groups)
    n = len(groups)
    return [
        Part(title_of(k, n), header(g[0] + 1, g[-1] + 1, n) + "\n".join(numbered[i] for i in g), tuple(g))
        for k, g in enumerate(groups, start=1)
    ]


def short_text(kinds_per_item: list[str]) -> str:
    """What an SMS carries: a count and a pointer, not the list."""
    n = len(kinds_per_item)
    late = sum(k != "reminder" for k in kinds_per_item)
    return f"您有{n}项脱贫攻坚事项" + (f"（逾期{late}项）" if late else "") + "，请及时查看处理。"
