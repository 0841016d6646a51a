"""Report types that are not in the catalog: ``duty_completion`` (职责完成登记).

Most duties of the plan have no report of their own (检查档案管理, 水质检测 …). Their units
register completion with one generic sheet: which duty, which unit, which period (or the day it
was done), and for a duty with a quota the measured value. A row completes that duty's instance
for that unit and period (see tasks.imports.completion).
"""

from __future__ import annotations

import datetime as dt

from campaign.periods import Frequency, Period, period_of
from plan.schema import Column, Duty, Plan, ReportType, Scope
from storage.catalog import short_name
from tasks.imports.divisions import DivisionIndex
from tasks.imports.errors import CellError
from tasks.imports.text import name_key, parse_period

DUTY_COMPLETION = "duty_completion"
CITY_UNIT = "city"  # tasks.units: the unit code of a city-scope duty


def duty_completion_type(plan: Plan | None = None) -> ReportType:
    """The built-in report type; with a plan, its examples name a real duty of that plan."""
    duty = _example_duty(plan) if plan else None
    key, name, unit = (
        (duty.key, duty.name, _example_unit(duty))
        if duty
        else ("i08-archive-check", "检查各乡镇扶贫档案管理", "扶贫办")
    )
    return ReportType(
        key=DUTY_COMPLETION,
        name="职责完成登记",
        description="没有专用报表的职责，完成后按单位、按周期各登记一行：哪项职责、哪个单位、哪个周期（或完成日期）、完成情况。",
        unit_field="unit",
        date_field="done_on",
        period_field="period",
        columns=[
            Column(
                header="职责编号",
                field="duty",
                type="text",
                required=False,
                example=key,
                help="计划中的职责编号（见 campaign plan export）；与“职责名称”至少填一项",
            ),
            Column(
                header="职责名称",
                field="duty_name",
                type="text",
                required=False,
                example=name,
                help="计划中的职责名称，须与计划一字不差；与“职责编号”至少填一项",
            ),
            Column(
                header="单位",
                field="unit",
                type="text",
                example=unit,
                help="完成职责的单位：乡镇（瓦房镇）、村（瓦房村委会，或连同乡镇写“瓦房镇瓦房村”）、部门（扶贫办）；市级职责写“全市”",
            ),
            Column(
                header="乡镇",
                field="township",
                type="township",
                required=False,
                help="单位是村时可填所在乡镇（村名重名时必填）",
            ),
            Column(
                header="周期",
                field="period",
                type="text",
                required=False,
                example="2018-05",
                help="完成的是哪个周期：2018-05、2018-05H1（上半月）、2018-Q2、2018-H1、2018-W16、2018；与“完成日期”至少填一项",
            ),
            Column(
                header="完成日期",
                field="done_on",
                type="date",
                required=False,
                example="2018-05-28",
                help="哪天完成；不填“周期”时按完成日期所在的周期计",
            ),
            Column(
                header="完成值",
                field="value",
                type="number",
                required=False,
                help="职责有量化指标时填写，单位与指标相同（如检查率填 100 表示 100%）",
            ),
            Column(
                header="说明",
                field="note",
                type="text",
                required=False,
                example="会同档案局完成检查",
                help="完成情况、发现的问题",
            ),
        ],
    )


def _example_duty(plan: Plan) -> Duty | None:
    open_duties = [d for d in plan.duties() if not d.report_type and d.frequency is not Frequency.EVENT]
    with_quota = [d for d in open_duties if d.quota]
    return next(iter(with_quota or open_duties), None)


def _example_unit(duty: Duty) -> str:
    if duty.scope is Scope.TOWNSHIP:
        return "瓦房镇"
    if duty.scope in (Scope.VILLAGE, Scope.HOUSEHOLD):
        return "瓦房镇瓦房村"
    if duty.scope is Scope.CITY:
        return "全市"
    return duty.performer


def resolve_duty(plan: Plan, key: str | None, name: str | None) -> Duty:
    """The duty a row names by key or by name (both given: they must agree)."""
    by_key = {d.key: d for d in plan.duties()}
    by_name = {name_key(d.name): d for d in plan.duties()}
    duty = None
    if key:
        duty = by_key.get(key.strip())
        if duty is None:
            import difflib

            close = difflib.get_close_matches(key.strip(), list(by_key), n=3, cutoff=0.5)
            raise CellError(
                "计划中没有这个职责编号" + (f"；最接近的是：{'、'.join(close)}" if close else ""),
                "no duty with this key in the plan" + (f"; closest: {', '.join(close)}" if close else ""),
            )
    if name:
        named = by_name.get(name_key(name))
        if named is None and duty is None:
            import difflib

            close = difflib.get_close_matches(name_key(name), list(by_name), n=3, cutoff=0.4)
            names = [by_name[c].name for c in close]
            raise CellError(
                "计划中没有这个职责名称" + (f"；最接近的是：{'、'.join(names)}" if names else ""),
                "no duty with this name in the plan" + (f"; closest: {', '.join(names)}" if names else ""),
            )
        if named is not None and duty is not None and named.key != duty.key:
            raise CellError(
                f"职责编号 {duty.key} 是“{duty.name}”，与职责名称“{name}”不一致",
                f"duty key {duty.key} is '{duty.name}', which does not match the name given",
            )
        duty = duty or named
    if duty is None:
        raise CellError("“职责编号”和“职责名称”至少填一项", "give the duty key or the duty name")
    if duty.report_type:
        rt = plan.report_type(duty.report_type)
        raise CellError(
            f"这项职责须上报“{rt.name}”，不能用职责完成登记",
            f"this duty is completed by its own report '{rt.name}', not by a completion row",
        )
    if duty.frequency is Frequency.EVENT:
        raise CellError(
            "事件类职责（如故障抢修）按事件登记，不能用职责完成登记",
            "event duties are recorded per event, not by a completion row",
        )
    return duty


def resolve_unit(
    plan: Plan, index: DivisionIndex, duty: Duty, value: str, township: str | None
) -> tuple[str, str | None]:
    """(unit_code, township_code) of the unit named in 单位, as tasks.units names the duty's units."""
    key = name_key(value)
    if duty.scope is Scope.TOWNSHIP:
        code = index.township(key)
        return code, code
    if duty.scope in (Scope.VILLAGE, Scope.HOUSEHOLD):
        if township is None:
            for town in index.towns.values():  # 瓦房镇瓦房村: a township written in front of the village
                for alias in (name_key(town.name), name_key(short_name(town.name))):
                    if len(key) > len(alias) and key.startswith(alias):
                        try:
                            return index.village(key[len(alias) :], town.code), town.code
                        except CellError:
                            pass
        code = index.village(key, township)
        return code, index.villages[code].township_code
    if duty.scope is Scope.CITY:
        if key in {"全市", "市", "city", name_key(plan.campaign.city), name_key(duty.performer)}:
            return CITY_UNIT, None
        raise CellError("这是市级职责，单位应写“全市”", "a city-wide duty: write 全市 as the unit")
    if key != name_key(duty.performer):
        raise CellError(
            f"这项职责由“{duty.performer}”负责，单位应写“{duty.performer}”",
            f"this duty is performed by {duty.performer}; write that as the unit",
        )
    return duty.performer, None


def duty_period(duty: Duty, value: object, done_on: dt.date | None, year: int, anchor: dt.date) -> Period:
    """The duty's own period the row is about: from 周期 if given, else the one containing 完成日期."""
    if value is None:
        assert done_on is not None
        return period_of(duty.frequency, done_on, anchor)
    given = parse_period(value, duty.frequency, year, anchor)
    own = period_of(duty.frequency, given.start, anchor)
    if given.end > own.end or given.start < own.start:
        raise CellError(
            f"周期 {given.key} 跨越了这项职责的多个周期（{duty.frequency.value}）；请每个周期登记一行，如 {own.key}",
            f"period {given.key} spans several periods of this duty ({duty.frequency.value}); one row per period, e.g. {own.key}",
        )
    return own
