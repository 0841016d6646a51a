"""The plan catalog: the 洮南市 2018 catalog against the seed text, and the format's error messages.

The tables below are written from the seed (洮南市 2018 年脱贫攻坚决胜年实施方案), not copied from the
catalog by code: a catalog that drifts from the seed fails here.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaign.periods import Frequency
from plan.directory import (
    DirectoryError,
    check_against_plan,
    load_directory,
    named_people,
    parse_directory,
)
from plan.load import CatalogError, load_plan_file, parse_plan, plan_hash
from plan.schema import Comparison, Plan, Scope, WorkItem

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "catalog" / "taonan-2018.yaml"
DIRECTORY = ROOT / "catalog" / "taonan-2018.directory.yaml"
OTHER = Path(__file__).resolve().parent / "data" / "plans" / "other-county.yaml"
SEED_DIRS = [ROOT.parent / "shared" / "seed", ROOT / "shared" / "seed"]

ONGOING = "长期坚持"

# --- the seed's 29 work items -------------------------------------------------------------------
# (number, title, 完成时限, 市级责任领导, 责任部门/责任单位, 责任人, frequencies of its recurring duties),
# written as the seed writes them (lists joined with 、).
ITEMS_TEXT = [
    (1, "驻村工作时间", "长期坚持", "相关市级领导",
     "组织部、各乡镇", "张弘、各乡镇党委书记", "每周 每两周 每季度 每半年 每年"),
    (2, "扶贫工作日志", "长期坚持", "相关市级领导", "组织部、各乡镇", "张弘、各乡镇党委书记", "每月 每年"),
    (3, "乡镇扶贫工作专题党委会", "长期坚持", "市级相关领导",
     "督查指挥中心、各乡镇", "张洪波、各乡镇党委书记", "每半月"),
    (4, "群众满意度", "6月30日、长期坚持", "王天昊", "扶贫办、各乡镇", "康明礼、各乡镇党委书记", "每月"),
    (5, "贫困发生率", "6月30日、长期坚持", "王天昊",
     "扶贫办、各乡镇", "康明礼、各乡镇党委书记", "每月 每季度"),
    (6, "精准识别退出", "6月30日、长期坚持", "王天昊",
     "扶贫办、各乡镇", "康明礼、各乡镇党委书记", "每半月 每月"),
    (7, "资料张贴", "6月30日、长期坚持", "王天昊", "扶贫办、各乡镇", "康明礼、各乡镇党委书记", "每月"),
    (8, "档案管理", "6月30日、长期坚持", "王天昊",
     "扶贫办、档案局、各乡镇", "康明礼、孙秀昌、各乡镇党委书记", "每月"),
    (9, "项目收益率", "6月30日、长期坚持", "王天昊",
     "扶贫办、审计局、财政局", "康明礼、贾东升、陈铁强", "每季度"),
    (10, "项目分红", "6月30日、长期坚持", "王天昊", "扶贫办、各乡镇", "康明礼、各乡镇党委书记", "每季度"),
    (11, "项目资产管理", "6月30日、长期坚持", "王天昊", "国资办、各乡镇", "刘成伟、各乡镇党委书记", "每半年"),
    (12, "庭院经济", "6月30日、长期坚持", "林继春",
     "农业局、财政局、各乡镇", "贾延厚、陈铁强、各乡镇党委书记", ""),
    (13, "教育扶贫", "6月30日、长期坚持", "董春玲、吴爽",
     "宣传部、扶贫办、教育局、交通局", "薛立杰、康明礼、王晔、赵江", "每月"),
    (14, "基本养老保险", "6月30日、长期坚持", "王天昊",
     "社保局、扶贫办、财政局、各乡镇", "吴长恩、康明礼、陈铁强、各乡镇党委书记", "每月"),
    (15, "最低生活保障", "6月30日、长期坚持", "吴爽", "民政局、各乡镇", "魏宝军、各乡镇党委书记", "每月"),
    (16, "农村新型合作医疗", "长期坚持", "吴爽", "农合办、扶贫办", "郑秀梅、康明礼", "每月"),
    (17, "安全住房", "9月30日", "石文博", "住建局、扶贫办、各乡镇", "侯文敏、康明礼、各乡镇党委书记", ""),
    (18, "就业服务", "6月30日、长期坚持", "王天昊", "就业局、各乡镇", "李晓坤、各乡镇党委书记", "每月"),
    (19, "金融扶贫", "6月30日、长期坚持", "王天昊",
     "金融办、扶贫办、各乡镇", "温馨、康明礼、各乡镇党委书记", "每月 每半年"),
    (20, "社会帮扶", "9月30日", "董春玲、吴爽", "宣传部、扶贫办、民政局", "薛立杰、康明礼、魏宝军", "每天"),
    (21, "硬化路", "9月30日、长期坚持", "石文博", "交通局", "赵江", ""),
    (22, "安全饮水", "9月30日、长期坚持", "王天昊、吴爽",
     "水利局、卫计局、各乡镇", "樊宝成、张学峰、各乡镇党委书记", "每半年"),
    (23, "生活用电", "6月30日、长期坚持", "林继春", "农电公司", "张文忠", "每月 事件"),
    (24, "广播电视台及通讯设施", "6月30日、长期坚持", "吴爽",
     "广播电台、移动公司、联通公司、电信公司、吉视传媒", "程贵、各公司负责人", "每月"),
    (25, "文化场所", "6月30日、长期坚持", "吴爽",
     "文广新局、各乡镇", "于延春、各乡镇党委书记", "每半月 每月"),
    (26, "村办公场所", "6月30日", "赵广顺", "组织部", "张弘", "每半月"),
    (27, "卫生医疗场所", "6月30日、长期坚持", "吴爽", "卫计局、各乡镇", "张学峰、各乡镇党委书记", "每季度"),
    (28, "村集体经济", "6月30日、长期坚持", "林继春",
     "农经总站、扶贫办、能源办", "王凤清、康明礼、刘国华", ""),
    (29, "年人均纯收入", "6月30日、长期坚持", "王天昊",
     "扶贫办、农业局、就业局、各乡镇", "康明礼、贾延厚、李晓坤、各乡镇党委书记", "每季度"),
]  # fmt: skip


def _month_day(text: str) -> str:
    if text == ONGOING:
        return text
    month, day = text.replace(" ", "").removesuffix("日").split("月")
    return f"{int(month):02d}-{int(day):02d}"


ITEMS = [
    (n, title, [_month_day(x) for x in due.split("、")], lead.split("、"), deps.split("、"), pers.split("、"),
     set(freqs.split()))
    for n, title, due, lead, deps, pers, freqs in ITEMS_TEXT
]  # fmt: skip

# (number, title, numbers of its work items)
ASPECTS = [
    (1, "在组织推动方面", [1, 2, 3, 4]),
    (2, "在精准识别退出方面", [5, 6]),
    (3, "在档案资料管理方面", [7, 8]),
    (4, "在产业项目方面", [9, 10, 11, 12]),
    (5, "在政策落实方面", [13, 14, 15, 16, 17, 18, 19]),
    (6, "在社会扶贫方面", [20]),
    (7, "在人居环境改善方面", [21, 22, 23, 24, 25, 26, 27]),
    (8, "在经济收入方面", [28, 29]),
]

# Every numeric target of the seed: (item number or "a<aspect>", comparison, threshold, unit, seed words,
# extra attributes). Found in the catalog by the seed's words, not by key.
TARGETS: list[tuple[str, str, float, str, str, dict[str, Any]]] = [
    ("a1", ">=", 100, "%", "确保群众政策知晓率达到100%", {}),
    ("a1", ">=", 90, "%", "对扶贫工作的满意度达到90%以上", {}),
    ("1", ">=", 1, "天", "市级领导每两周至少要到所包保乡镇驻村工作 1 天", {"per": "每两周"}),
    ("1", ">=", 100, "%", "每年在所包村入户率要达到 100%", {"per": "每年"}),
    ("1", ">=", 100, "%", "乡镇包保干部每季度入户率要达到 100%", {"per": "每季度"}),
    ("1", ">=", 1, "天", "驻村工作队每周要在包保村驻村工作 1 天", {"per": "每周"}),
    ("1", ">=", 100, "%", "每半年入户率达到 100%", {"per": "每半年"}),
    ("1", ">=", 5, "天", "第一书记每周必须驻村工作 5 天", {"per": "每周"}),
    ("1", ">=", 100, "%", "每季度入户率达到 100%", {"per": "每季度"}),
    ("2", ">=", 30, "%", "抽查率每年要在 30%以上", {"per": "每年"}),
    ("2", ">=", 100, "%", "2020 年底前全覆盖", {"deadline": "12-31", "deadline_year": 2020}),
    ("4", ">=", 90, "%", "确保群众对扶贫工作满意度达到90%以上", {}),
    ("5", "<", 2, "%", "确保全市综合贫困发生率低于2%", {}),
    ("5", ">=", 4543, "人", "对全年需退出的4543名贫困人口", {"population": 4543}),
    ("6", ">=", 100, "%", "识别准确率达到100%", {}),
    ("6", ">=", 100, "%", "数据采集录入准确率达到100%", {}),
    ("6", ">=", 98, "%", "退出准确率达到98%以上", {}),
    ("6", "<", 2, "%", "漏评率低于2%", {}),
    ("8", ">=", 100, "%", "每半年检查率达到 100%", {"per": "每半年"}),
    ("9", ">=", 10, "%", "年收益率达到 10%以上", {"scope": "project"}),
    ("9", ">=", 100, "%", "年度项目审计覆盖率达到 100%", {}),
    ("10", ">=", 3000, "元/人·年", "原重度贫困人口 1633 人，年人均分红达到 3000 元", {"population": 1633}),
    ("10", ">=", 2400, "元/人·年", "新识别综合施策贫困人口 7199 人，年人均分红达到 2400 元", {"population": 7199}),
    ("10", ">=", 32, "个", "32 个扶贫项目", {}),
    ("11", ">=", 100, "%", "每半年检查率要达到 100%", {"per": "每半年"}),
    ("12", ">=", 100, "%", "庭院经济所有行政村全覆盖", {}),
    ("12", ">=", 1300, "元", "户均增收1300元以上", {}),
    ("12", ">=", 100, "%", "确保订单签订全覆盖", {}),
    ("13", "==", 0, "人", "家庭无因贫辍学学生", {}),
    ("14", ">=", 98, "%", "基本养老保险参保率达到98%以上", {}),
    ("15", ">=", 3600, "元/年", "农村最低生活保障标准达到每年3600元", {}),
    ("15", ">=", 100, "%", "全部纳入低保范围", {}),
    ("16", ">=", 98, "%", "参加农村新型合作医疗率≥98%", {}),
    ("17", ">=", 98, "%", "住房安全比率达到 98%以上", {}),
    ("17", ">=", 100, "%", "6月30日前，各乡镇确定的新建、修缮房屋必须开工建设", {"deadline": "06-30"}),
    ("17", ">=", 100, "%", "已新建住房的原有危房必须全部拆除", {"deadline": "06-30"}),
    ("18", ">=", 5.26, "万人次", "转移农村劳动力 5.26 万人次", {}),
    ("20", ">=", 1500, "万元", "社会扶贫资金 1500 万元", {}),
    ("20", ">=", 5000, "个", "微心愿 5000 个", {}),
    ("21", ">=", 100, "%", "所有贫困村屯通硬化路", {}),
    ("22", ">=", 100, "%", "每半年检测覆盖率要达到100%", {"per": "每半年"}),
    ("23", "<=", 90, "分钟", "90 分钟内赶到现场", {}),
    ("24", ">=", 100, "%", "户户通", {}),
    ("24", ">=", 100, "%", "村村通", {}),
    ("25", ">=", 100, "%", "乡镇有综合文化站", {}),
    ("25", ">=", 100, "%", "行政村有文化活动室", {}),
    ("25", ">=", 100, "%", "贫困村文化活动室面积、设备器材均达标", {"applies_to": "贫困村"}),
    ("26", ">=", 200, "平方米", "建筑面积达到200平方米以上", {"applies_to": "贫困村"}),
    ("27", ">=", 100, "%", "乡有卫生院", {}),
    ("27", ">=", 100, "%", "行政村有卫生室", {}),
    ("27", ">=", 100, "%", "贫困村有标准化的卫生室", {"applies_to": "贫困村"}),
    ("28", ">=", 5, "万元", "村集体收入达到5万元的100%", {"applies_to": "贫困村", "share_of_units": 100}),
    ("28", ">=", 10, "万元", "达到10万元的80%以上", {"applies_to": "贫困村", "share_of_units": 80}),
    ("29", ">", 3600, "元", "年人均纯收入超过3600元", {}),
    ("29", ">=", 32, "个", "32个扶贫项目", {}),
    ("29", ">=", 2, "个", "两个以上切合实际、保证脱贫的项目", {}),
]

# Quotas the seed sets on recurring duties: (item, performer, frequency, quota metric fragment,
# comparison, threshold, unit, per)
QUOTAS = [
    (1, "市级领导", "每两周", "天数", ">=", 1, "天", "每两周"),
    (1, "市级领导", "每年", "入户率", ">=", 100, "%", "每年"),
    (1, "乡镇包保干部", "每季度", "入户率", ">=", 100, "%", "每季度"),
    (1, "驻村工作队", "每周", "天数", ">=", 1, "天", "每周"),
    (1, "驻村工作队", "每半年", "入户率", ">=", 100, "%", "每半年"),
    (1, "第一书记", "每周", "天数", ">=", 5, "天", "每周"),
    (1, "第一书记", "每季度", "入户率", ">=", 100, "%", "每季度"),
    (2, "组织部", "每年", "抽查率", ">=", 30, "%", "每年"),
    (8, "扶贫办", "每月", "检查率", ">=", 100, "%", "每半年"),
    (9, "审计局", "每季度", "审计覆盖率", ">=", 100, "%", "每年"),
    (11, "国资办", "每半年", "检查率", ">=", 100, "%", "每半年"),
    (22, "卫计局", "每半年", "检测覆盖率", ">=", 100, "%", "每半年"),
]


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan_file(CATALOG)[0]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return yaml.safe_load(CATALOG.read_text(encoding="utf-8"))


def item(plan: Plan, number: int) -> WorkItem:
    return next(i for i in plan.items() if i.number == number)


def problems_of(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Parse a (mutated) catalog document; return the reported (where, message) problems."""
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    with pytest.raises(CatalogError) as err:
        parse_plan(text, "mutated.yaml")
    assert "mutated.yaml" in str(err.value)
    return err.value.problems


def first_duty(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["aspects"][0]["items"][0]["duties"][0]


# --- the catalog is the seed ----------------------------------------------------------------------


def test_it_holds_the_eight_aspects_and_twenty_nine_items_in_order(plan: Plan) -> None:
    assert [(a.number, a.title, [i.number for i in a.items]) for a in plan.aspects] == ASPECTS
    assert [i.number for i in plan.items()] == list(range(1, 30))


@pytest.mark.parametrize(("number", "title", "deadlines", "leaders", "departments", "persons", "freqs"), ITEMS)
def test_each_work_item_matches_the_seed(
    plan: Plan,
    number: int,
    title: str,
    deadlines: list[str],
    leaders: list[str],
    departments: list[str],
    persons: list[str],
    freqs: set[str],
) -> None:
    it = item(plan, number)
    assert it.title == title
    assert [ONGOING if d.ongoing else d.date for d in it.deadlines] == deadlines
    assert it.leaders == leaders
    assert it.departments == departments
    assert it.persons == persons
    assert {d.frequency.value for d in it.duties} == freqs
    assert it.goal and it.measures


def test_goals_and_measures_begin_and_end_as_in_the_seed(plan: Plan) -> None:
    assert item(plan, 1).goal.startswith("市级领导每两周至少要到所包保乡镇驻村工作 1 天")
    assert item(plan, 1).measures.endswith("视情节由组织部召回，重新选派。")
    assert item(plan, 2).measures.endswith("抽查率每年要在 30%以上，2020年底前全覆盖。")
    assert "并会同档案局，每月对各乡镇扶贫档案管理进行检查" in item(plan, 8).measures  # page break joined
    assert item(plan, 23).measures.endswith("确保在 90 分钟内赶到现场进行抢修。")
    assert item(plan, 29).goal == "确保贫困人口有稳定的增收渠道和收入来源，年人均纯收入超过3600元。"
    assert plan.aspects[0].goal.endswith("确保群众政策知晓率达到100%，对扶贫工作的满意度达到90%以上。")


def _seed_text() -> str | None:
    for d in SEED_DIRS:
        files = sorted(d.glob("*.txt")) if d.is_dir() else []
        if files:
            lines = [ln.strip() for ln in files[0].read_text(encoding="utf-8").splitlines()]
            return "".join(ln for ln in lines if ln)
    return None


def test_every_verbatim_field_is_the_seeds_own_words(doc: dict[str, Any]) -> None:
    seed = _seed_text()
    if seed is None:
        pytest.skip("the seed text (shared/seed/*.txt) is not beside this checkout")
    missing: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("text", "goal", "measures", "summary") and isinstance(v, str):
                    missing.extend(f"{path}.{k}: {piece}" for piece in v.split("……") if piece not in seed)
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(doc, "")
    missing += [r for r in doc["requirements"] + doc["accountability"]["rewards"] if r not in seed]
    assert missing == []


@pytest.mark.parametrize(("where", "comparison", "threshold", "unit", "words", "extra"), TARGETS)
def test_every_numeric_target_of_the_seed_is_an_indicator(
    plan: Plan, where: str, comparison: str, threshold: float, unit: str, words: str, extra: dict[str, Any]
) -> None:
    pool = plan.aspects[int(where[1:]) - 1].indicators if where.startswith("a") else item(plan, int(where)).indicators
    found = [i for i in pool if words in i.text]
    assert len(found) == 1, f"no single indicator of {where} with the words {words!r}: {found}"
    ind = found[0]
    assert (ind.comparison, ind.threshold, ind.unit) == (Comparison(comparison), threshold, unit)
    for attr, want in extra.items():
        got = getattr(ind, attr)
        assert (got.value if hasattr(got, "value") else got) == want, attr


def test_indicator_keys_are_unique_lower_case_ascii(plan: Plan) -> None:
    keys = [i.key for i in plan.indicators()]
    assert len(keys) == len(set(keys)) == len(TARGETS)
    assert all(k.isascii() and k == k.lower() for k in keys)


# --- duties -----------------------------------------------------------------------------------------


def test_there_are_forty_to_sixty_duties_with_unique_keys(plan: Plan) -> None:
    keys = [d.key for d in plan.duties()]
    assert 40 <= len(keys) <= 60
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(("number", "performer", "freq", "metric", "comparison", "threshold", "unit", "per"), QUOTAS)
def test_the_seeds_quotas_sit_on_their_duties(
    plan: Plan,
    number: int,
    performer: str,
    freq: str,
    metric: str,
    comparison: str,
    threshold: float,
    unit: str,
    per: str,
) -> None:
    duties = [d for d in item(plan, number).duties if d.performer == performer and d.frequency.value == freq]
    assert len(duties) == 1, duties
    q = duties[0].quota
    assert q is not None
    assert metric in q.metric
    assert (q.comparison, q.threshold, q.unit, q.per) == (Comparison(comparison), threshold, unit, Frequency(per))


def test_the_power_repair_is_an_urgent_ninety_minute_event(plan: Plan) -> None:
    (event,) = [d for d in plan.duties() if d.frequency is Frequency.EVENT]
    assert plan.item_of(event.key).number == 23
    assert (event.performer, event.response_minutes, event.urgent) == ("农电公司", 90, True)
    assert event.responsible == ["张文忠"]


def test_the_seeds_own_frequency_phrases_are_kept(plan: Plan) -> None:
    wordings = {(plan.item_of(d.key).number, d.wording) for d in plan.duties() if d.wording}
    assert wordings == {(6, "每半个月"), (9, "以季度为单位"), (10, "按季度")}


def test_township_duties_are_answered_for_by_the_township_party_secretary(plan: Plan) -> None:
    township = [d for d in plan.duties() if d.performer == "各乡镇"]
    assert len(township) >= 10
    for d in township:
        assert d.scope is Scope.TOWNSHIP
        assert d.responsible == ["乡镇党委书记"], d.key


def test_a_department_duty_names_the_departments_own_responsible_person(plan: Plan) -> None:
    for d in plan.duties():
        it = plan.item_of(d.key)
        if d.scope is Scope.DEPARTMENT and d.performer in it.departments:
            by_position = dict(zip(it.departments, it.persons, strict=False))
            assert by_position[d.performer] in d.responsible, d.key


def test_everyone_answerable_for_a_duty_is_a_role_or_a_named_person(plan: Plan) -> None:
    roles = {r.name for r in plan.organisation.roles}
    people = {p.name for p in load_directory(DIRECTORY).people}
    answerable = {r for d in plan.duties() for r in d.responsible}
    assert answerable - roles - people == {"各公司负责人"}  # item 24: the companies' heads, not named


def test_village_duties_are_the_first_secretary_work_team_and_revisit_group(plan: Plan) -> None:
    village = {d.performer for d in plan.duties() if d.scope is Scope.VILLAGE}
    assert village == {"第一书记", "驻村工作队", "扶贫工作巩固回访小组"}


def test_month_end_reports_to_the_poverty_office_are_due_before_the_month_ends(plan: Plan) -> None:
    d = plan.duty("i06-change-statistics")
    assert "月底前上报扶贫办" in d.text
    assert (d.report_to, d.frequency, d.due.anchor, d.due.roll) == (
        "扶贫办",
        Frequency.MONTHLY,
        "period_end",
        "preceding",
    )


def test_duties_are_linked_to_the_reports_that_complete_them(plan: Plan) -> None:
    linked: dict[str, set[str]] = {}
    for d in plan.duties():
        if d.report_type:
            linked.setdefault(d.report_type, set()).add(d.key)
    assert {
        "party_meeting_minutes",
        "village_days",
        "household_visits",
        "monthly_statistics",
        "log_spot_checks",
    } <= set(linked)
    assert {"i01-first-secretary-days", "i01-work-team-days", "i01-city-leader-days"} == linked["village_days"]
    assert "i06-change-statistics" in linked["monthly_statistics"]
    assert linked["log_spot_checks"] == {"i02-log-spot-check"}


def test_report_types_have_the_headers_township_staff_write(plan: Plan) -> None:
    headers = {r.key: [c.header for c in r.columns] for r in plan.report_types}
    assert {"日期", "乡镇", "村", "姓名", "身份", "驻村天数"} <= set(headers["village_days"])
    assert {"乡镇", "村", "走访日期", "走访人", "身份", "户主姓名", "是否贫困户"} <= set(headers["household_visits"])
    assert {
        "统计月份", "乡镇", "新识别贫困人口", "返贫人口", "自然死亡贫困人口", "养老保险应参保人数",
        "已参保人数", "合作医疗应参合人数", "已参合人数", "符合低保条件人数", "已纳入低保人数",
        "矛盾问题化解数", "未化解数",
    } <= set(headers["monthly_statistics"])  # fmt: skip
    assert {"抽查日期", "乡镇", "村", "被抽查人", "身份", "日志份数", "抽查份数"} <= set(headers["log_spot_checks"])
    monthly = plan.report_type("monthly_statistics")
    assert monthly.period_field == "month" and monthly.unit_field == "township"
    assert set(monthly.readings.values()) == {"i14-pension-rate", "i16-medical-rate", "i15-dibao-coverage"}


# --- the other sections -----------------------------------------------------------------------------


def test_the_rectification_ledger_is_phase_one_task_one(plan: Plan) -> None:
    r = plan.rectification
    assert r is not None
    assert (r.phase, r.aspects, r.problems, r.window.start, r.window.end, r.ongoing) == (
        "p1", 6, 18, "03-20", "04-30", True
    )  # fmt: skip
    assert r.leaders == ["各部门市级分管领导", "各乡镇市级包保领导"]
    assert r.units == ["各事涉部门", "各乡镇"]
    assert r.persons == ["各事涉部门主要领导", "各乡镇党政主要领导"]
    headers = [c.header for c in r.ledger_columns]
    for h in (
        "问题编号",
        "问题方面",
        "问题描述",
        "来源",
        "责任单位",
        "责任科室",
        "责任人",
        "整改措施",
        "整改时限",
        "销号日期",
    ):
        assert h in headers
    source = next(c for c in r.ledger_columns if c.header == "来源")
    assert source.values == ["国检", "省检", "白城市检", "第三方评估", "自查自纠"]


def test_accountability_follows_section_four_five(plan: Plan) -> None:
    acc = plan.accountability
    assert acc is not None
    assert acc.text.startswith("由市脱贫攻坚领导小组将日常督查、季度考核、半年考核、年底验收结果及时汇总")
    f = acc.township_flags
    assert (f.every, f.sources, f.red, f.yellow) == (
        Frequency.QUARTERLY, ["日常督查", "季度考核", "半年考核", "年底验收"], 3, 2
    )  # fmt: skip
    assert [(c.consecutive, c.actions) for c in acc.year_end] == [
        (2, ["资金奖励"]),
        (2, ["在年度绩效考核时直接降为末档"]),
    ]
    cards = acc.village_cards
    assert (cards.on, cards.bottom) == ("专项巡察检查", 18)
    two, three = cards.consequences
    assert two.consecutive == 2 and len(two.actions) == 3
    assert "包村干部要在全市大会上做检讨" in two.actions
    assert any(a.startswith("召回第一书记（贫困村驻村工作队队长）") for a in two.actions)
    assert "村党支部书记在“两委”换届中一律不准提名为候选人" in two.actions
    assert (three.consecutive, three.actions) == (3, ["由组织部对包村干部进行组织处理"])
    assert any("享受副乡级待遇" in r for r in acc.rewards)


def test_exit_criteria_are_seven_fifteen_and_eleven_open_slots(plan: Plan) -> None:
    sets = {e.name: e for e in plan.exit_criteria}
    assert {n: e.count for n, e in sets.items()} == {"贫困人口退出": 7, "贫困村出列": 15, "贫困县摘帽": 11}
    assert all(s.name is None for e in plan.exit_criteria for s in e.slots)
    assert "i05-poverty-incidence" in {s.indicator for s in sets["贫困县摘帽"].slots}


def test_requirements_are_the_five_headings_of_section_four(plan: Plan) -> None:
    heads = ["强化组织领导", "强化舆论宣传", "强化督查调度", "强化监督执纪", "强化结果运用"]
    assert len(plan.requirements) == 5
    for text, head in zip(plan.requirements, heads, strict=True):
        assert head in text[:12]


def test_the_organisation_lists_every_unit_the_seed_names(plan: Plan) -> None:
    named = [
        "组织部", "督查指挥中心", "扶贫办", "档案局", "审计局", "财政局", "国资办", "农业局", "宣传部",
        "教育局", "交通局", "社保局", "民政局", "农合办", "住建局", "就业局", "金融办", "水利局", "卫计局",
        "农电公司", "广播电台", "移动公司", "联通公司", "电信公司", "吉视传媒", "文广新局", "农经总站",
        "能源办", "巡察办", "监察委", "国调队",
    ]  # fmt: skip
    assert set(named) <= set(plan.organisation.departments)
    for it in plan.items():
        for d in it.departments:
            assert d == "各乡镇" or d in plan.organisation.departments, d


def test_loading_twice_gives_the_same_hash() -> None:
    assert load_plan_file(CATALOG)[1] == load_plan_file(CATALOG)[1]


# --- mistakes are refused with a message that names the place ---------------------------------------


def test_it_rejects_a_bad_month_day(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    d["aspects"][0]["items"][0]["deadlines"] = ["6月30日"]
    assert ("aspects[0](1).items[0](1).deadlines[0]", "'6月30日' is not a month-day like 03-20") in problems_of(d)


def test_it_rejects_an_impossible_indicator_deadline(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    d["aspects"][0]["items"][1]["indicators"][1]["deadline"] = "13-31"
    where, msg = problems_of(d)[0]
    assert where == "aspects[0](1).items[1](2).indicators[1](i02-log-spot-check-coverage).deadline"
    assert "'13-31' is not a month-day" in msg


def test_it_rejects_a_duty_with_an_unknown_phase(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    first_duty(d)["phases"] = ["p9"]
    ((where, msg),) = problems_of(d)
    assert where == "(top)"
    assert "duty i01-city-leader-days (at aspects[0](1).items[0](1).duties[0](i01-city-leader-days).phases)" in msg
    assert "unknown phase 'p9' (phases are ['p1', 'p2', 'p3', 'p4'])" in msg


def test_it_rejects_a_duty_with_an_unknown_report_type(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    first_duty(d)["report_type"] = "village_dayz"
    ((_, msg),) = problems_of(d)
    assert "duty i01-city-leader-days (at aspects[0](1).items[0](1).duties[0](i01-city-leader-days).report_type)" in msg
    assert "unknown report_type 'village_dayz'" in msg


def test_it_rejects_a_duplicate_duty_key(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    d["aspects"][0]["items"][1]["duties"][0]["key"] = "i01-city-leader-days"
    ((_, msg),) = problems_of(d)
    assert "duties: duplicate keys ['i01-city-leader-days']" in msg
    assert "aspects[0](1).items[1](2).duties[0](i01-city-leader-days)" in msg


def test_it_rejects_a_duplicate_indicator_key(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    d["aspects"][7]["items"][1]["indicators"][0]["key"] = "a1-satisfaction"
    ((_, msg),) = problems_of(d)
    assert "indicators: duplicate keys ['a1-satisfaction']" in msg


def test_it_rejects_an_event_duty_without_response_minutes(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    event = next(x for x in d["aspects"][6]["items"][2]["duties"] if x["frequency"] == "事件")
    del event["response_minutes"]
    assert (
        "aspects[6](7).items[2](23).duties[1](i23-fault-repair)",
        "an event duty needs response_minutes (its deadline after the event)",
    ) in problems_of(d)


def test_it_rejects_response_minutes_on_a_calendar_duty(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    first_duty(d)["response_minutes"] = 30
    ((where, msg),) = problems_of(d)
    assert where == "aspects[0](1).items[0](1).duties[0](i01-city-leader-days)"
    assert "response_minutes is only for event duties" in msg


def test_it_rejects_an_unknown_frequency(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    first_duty(d)["frequency"] = "每半个月"
    ((where, msg),) = problems_of(d)
    assert where == "aspects[0](1).items[0](1).duties[0](i01-city-leader-days).frequency"
    assert "'每半月'" in msg


def test_it_rejects_a_wrong_exit_criteria_slot_count(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    d["exit_criteria"][1]["slots"].pop()
    assert ("exit_criteria[1](villages)", "贫困村出列: 15 criteria declared but 14 slots given") in problems_of(d)


def test_it_rejects_a_missing_required_field(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    del d["aspects"][1]["items"][0]["title"]
    assert ("aspects[1](2).items[0](5).title", "Field required") in problems_of(d)


def test_it_rejects_an_unknown_field(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    first_duty(d)["frequncy"] = "每周"
    assert ("aspects[0](1).items[0](1).duties[0](i01-city-leader-days).frequncy", "Extra inputs are not permitted") in (
        problems_of(d)
    )


def test_it_rejects_a_bad_comparison(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    d["aspects"][1]["items"][0]["indicators"][0]["comparison"] = "≤"
    ((where, msg),) = problems_of(d)
    assert where == "aspects[1](2).items[0](5).indicators[0](i05-poverty-incidence).comparison"
    assert msg == "Input should be '>=', '>', '<=', '<' or '==' (got '≤')"  # the wrong value is quoted back


def test_it_rejects_a_reading_of_an_unknown_indicator(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    rt = next(r for r in d["report_types"] if r["key"] == "log_spot_checks")
    rt["readings"] = {"check_rate": "i02-nope"}
    ((_, msg),) = problems_of(d)
    assert "report_types[4](log_spot_checks).readings.check_rate" in msg
    assert "unknown indicator 'i02-nope'" in msg


def test_it_rejects_a_reading_of_a_text_column(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    rt = next(r for r in d["report_types"] if r["key"] == "log_spot_checks")
    rt["readings"] = {"problems": "i02-log-spot-check-rate"}
    ((where, msg),) = problems_of(d)
    assert where == "report_types[4](log_spot_checks)"
    assert "readings column 'problems' is of type text" in msg


def test_it_rejects_invalid_yaml_with_its_line_number(doc: dict[str, Any]) -> None:
    text = "format: 1\ncampaign:\n  code: x\n  name: [unclosed\n  city: y\n"
    with pytest.raises(CatalogError) as err:
        parse_plan(text, "broken.yaml")
    ((where, msg),) = err.value.problems
    assert where.startswith("line 5, column")
    assert msg.startswith("not valid YAML")
    assert str(err.value).startswith("broken.yaml: 1 problem(s)")


def test_it_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as err:
        load_plan_file(tmp_path / "absent.yaml")
    assert str(tmp_path / "absent.yaml") in str(err.value)


# --- the directory file -----------------------------------------------------------------------------


def test_the_directory_names_every_person_the_plan_names(plan: Plan) -> None:
    directory = load_directory(DIRECTORY)
    assert check_against_plan(directory, plan) == []
    assert set(named_people(plan)) == {p.name for p in directory.people}
    leaders = {p.name for p in directory.people if p.role == "市级责任领导"}
    assert leaders == {"王天昊", "林继春", "董春玲", "吴爽", "石文博", "赵广顺"}


def test_the_directory_matches_each_responsible_person_to_their_department() -> None:
    directory = load_directory(DIRECTORY)
    # from the seed: 责任部门 and 责任人 by position
    expected = {
        "张弘": "组织部", "张洪波": "督查指挥中心", "康明礼": "扶贫办", "孙秀昌": "档案局",
        "贾东升": "审计局", "陈铁强": "财政局", "刘成伟": "国资办", "贾延厚": "农业局",
        "薛立杰": "宣传部", "王晔": "教育局", "赵江": "交通局", "吴长恩": "社保局",
        "魏宝军": "民政局", "郑秀梅": "农合办", "侯文敏": "住建局", "李晓坤": "就业局",
        "温馨": "金融办", "樊宝成": "水利局", "张学峰": "卫计局", "张文忠": "农电公司",
        "程贵": "广播电台", "于延春": "文广新局", "王凤清": "农经总站", "刘国华": "能源办",
    }  # fmt: skip
    assert {p.name: p.department for p in directory.people if p.role == "责任人"} == expected
    assert all(p.key.isascii() for p in directory.people)


def test_the_directory_has_slots_for_the_unnamed_per_unit_roles() -> None:
    directory = load_directory(DIRECTORY)
    assert {(s.role, s.scope.value) for s in directory.role_slots} == {
        ("乡镇党委书记", "township"), ("市级包保领导", "township"), ("乡镇包保干部", "township"),
        ("第一书记", "village"), ("驻村工作队", "village"), ("村党支部书记", "village"),
    }  # fmt: skip


def test_the_directory_refuses_contact_details() -> None:
    text = "campaign: taonan-2018\npeople:\n  - {key: kang-mingli, name: 康明礼, role: 责任人, phone: '13800000000'}\n"
    with pytest.raises(DirectoryError) as err:
        parse_directory(text, "dir.yaml")
    ((where, msg),) = err.value.problems
    assert where == "people[0](kang-mingli)"
    assert "contact field(s) ['phone'] not allowed" in msg and "names only" in msg
    assert str(err.value).startswith("dir.yaml: 1 problem(s) in the directory file")


def test_the_directory_refuses_a_phone_number_given_as_a_name() -> None:
    text = (
        "campaign: taonan-2018\n"
        "role_slots:\n"
        "  - role: 第一书记\n"
        "    scope: village\n"
        "    holders: [{unit: 某村, name: '13800000000'}]\n"
    )
    with pytest.raises(DirectoryError) as err:
        parse_directory(text, "dir.yaml")
    ((where, msg),) = err.value.problems
    assert where == "role_slots[0](第一书记).holders[0](某村).name"
    assert "looks like a contact" in msg


def test_the_directory_refuses_a_second_holder_of_a_single_role() -> None:
    text = (
        "campaign: taonan-2018\n"
        "role_slots:\n"
        "  - role: 第一书记\n"
        "    scope: village\n"
        "    holders: [{unit: 某村, name: 甲}, {unit: 某村, name: 乙}]\n"
    )
    with pytest.raises(DirectoryError) as err:
        parse_directory(text, "dir.yaml")
    assert "one holder per unit" in err.value.problems[0][1]


def test_the_directory_reports_a_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError) as err:
        load_directory(tmp_path / "none.yaml")
    assert str(tmp_path / "none.yaml") in str(err.value)
    bad = tmp_path / "bad.yaml"
    bad.write_text("campaign: x\npeople: [\n", encoding="utf-8")
    with pytest.raises(DirectoryError) as err:
        load_directory(bad)
    assert err.value.problems[0][0].startswith("line 3")


def test_holder_keys_match_the_role_holder_rows() -> None:
    text = (
        "campaign: taonan-2018\n"
        "role_slots:\n"
        "  - role: 驻村工作队\n"
        "    scope: village\n"
        "    multiple: true\n"
        "    holders:\n"
        "      - {unit: 甲村, unit_code: '220881100201', name: 甲}\n"
        "      - {unit: 甲村, unit_code: '220881100201'}\n"
    )
    slot = parse_directory(text).slot("驻村工作队")
    assert [k for k, _ in slot.holder_keys()] == ["驻村工作队@220881100201", "驻村工作队@220881100201#2"]


# --- another county, another year ---------------------------------------------------------------------


def test_another_countys_plan_loads_and_round_trips() -> None:
    other, digest = load_plan_file(OTHER)
    assert (other.campaign.code, other.campaign.year) == ("shifan-2019", 2019)
    assert (len(other.phases), len(other.items()), len(other.duties())) == (2, 3, 4)
    dumped = other.model_dump(mode="json")
    again = Plan.model_validate(dumped)
    assert again == other
    assert again.model_dump(mode="json") == dumped
    assert plan_hash(again) == digest
    reparsed = parse_plan(yaml.safe_dump(dumped, allow_unicode=True), "roundtrip.yaml")
    assert reparsed == other


def test_another_countys_duties_run_in_their_own_phases() -> None:
    other = load_plan_file(OTHER)[0]
    roster = other.duty("i03-roster-check")
    assert other.duty_windows(roster) == [other.phase_dates(other.phase("consolidate"))]
    assert other.duty("i03-emergency").response_minutes == 120


def test_the_taonan_catalog_round_trips_too(plan: Plan) -> None:
    assert Plan.model_validate(plan.model_dump(mode="json")) == plan
