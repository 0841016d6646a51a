"""When reminders and escalations go out, to whom: working days (2018 calendar with its make-up
days), quiet hours, the escalation chain frozen on the instance, acknowledgement and extension.

Deliveries are real (json:// to a local HTTP server); see tests/notify_support.py.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from campaign.workdays import WorkCalendar
from notify.admin import acknowledge, extend
from notify.steps import escalation_steps, reminder_steps
from plan.schema import EscalationStep
from storage.models import AuditEntry, DutyInstance
from tests.notify_fakes import FakeServices
from tests.notify_support import WAFANG, World, at, fake, world

FIXTURES = (fake, world)  # pytest finds them here

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def when(steps: list) -> dict[str, dt.datetime]:  # type: ignore[type-arg]
    return {s.name: s.fire_at for s in steps}


def test_reminders_fall_three_and_one_working_days_before_a_make_up_saturday_due_day(world: World) -> None:
    # 2018-04-28 is a Saturday worked to make up for 劳动节 (4/29–5/1 off).
    steps = when(reminder_steps(at(2018, 4, 28, 17, 30), world.plan.reminders, CAL, TZ))
    assert steps == {"before-3": at(2018, 4, 25, 9), "before-1": at(2018, 4, 27, 9), "due": at(2018, 4, 28, 9)}


def test_reminders_before_the_national_day_week_use_the_make_up_weekend(world: World) -> None:
    # 10/1–7 off; 9/29 (Sat) and 9/30 (Sun) worked. Due Monday 10/8: T−1 is Sunday 9/30.
    steps = when(reminder_steps(at(2018, 10, 8, 17, 30), world.plan.reminders, CAL, TZ))
    assert steps == {"before-3": at(2018, 9, 28, 9), "before-1": at(2018, 9, 30, 9), "due": at(2018, 10, 8, 9)}


def test_escalation_steps_count_working_days_across_the_labour_day_holiday(world: World) -> None:
    steps = when(
        escalation_steps(at(2018, 4, 28, 17, 30), list(world.plan.reminders.escalation), world.plan.reminders, CAL, TZ)
    )
    assert steps == {
        "escalate-0": at(2018, 4, 28, 17, 30),  # the moment it went overdue, to the 责任人
        "escalate-1": at(2018, 5, 3, 9),  # +2 working days: 5/2, 5/3
        "escalate-2": at(2018, 5, 8, 9),  # +5: 5/2, 5/3, 5/4, 5/7, 5/8
        "escalate-3": at(2018, 5, 15, 9),  # +10
    }


def test_the_first_reminder_before_the_national_day_week_goes_out_eleven_days_ahead(world: World) -> None:
    world.contacts({world.json_url("li"): ["li-xiaokun"]})
    world.instance("i18-job-fairs", at(2018, 10, 8, 17, 30), period="2018-09")
    r = world.run(at(2018, 9, 28, 9))
    assert r.sent == 1
    (msg,) = [q.json()["message"] for q in world.fake.to("/json/li")]
    assert "请于10月8日17:30前提交专场招聘会记录，还有3个工作日" in msg  # 9/29, 9/30 and 10/8 count
    r = world.run(at(2018, 9, 29, 9))  # nothing new on Saturday the 29th (a working day, but no step)
    assert r.claimed == 0
    world.run(at(2018, 9, 30, 9))  # Sunday 9/30, a make-up working day: T−1
    assert [row.step for row in world.rows()] == ["before-3", "before-1"]
    assert len(world.fake.to("/json/li")) == 2


def _chain_contacts(world: World) -> None:
    world.contacts(
        {
            world.json_url("responsible"): ["li-xiaokun"],
            world.json_url("unit-head"): [f"乡镇党委书记@{WAFANG}"],
            world.json_url("city-leader"): ["市级包保领导@瓦房镇"],  # a role in a unit, by the unit's name
            world.json_url("supervision"): ["zhang-hongbo"],
        }
    )


def _sent_to(fake: FakeServices) -> list[str]:
    return [r.path.removeprefix("/json/") for r in fake.requests if r.path.startswith("/json/")]


def test_it_tells_the_responsible_person_the_moment_the_item_is_overdue(world: World) -> None:
    _chain_contacts(world)
    world.instance("i18-job-fairs", at(2018, 4, 28, 17, 30))
    world.run(at(2018, 4, 28, 17, 30))
    assert _sent_to(world.fake) == ["responsible"]
    assert "已逾期" in world.fake.to("/json/responsible")[0].json()["message"]


def test_it_escalates_to_the_unit_head_after_two_working_days(world: World) -> None:
    _chain_contacts(world)
    world.instance("i18-job-fairs", at(2018, 4, 28, 17, 30))
    world.run(at(2018, 4, 28, 17, 30))
    world.run(at(2018, 5, 2, 9))  # one working day later: nothing new
    assert _sent_to(world.fake) == ["responsible"]
    world.run(at(2018, 5, 3, 9))
    assert _sent_to(world.fake) == ["responsible", "unit-head"]
    body = world.fake.to("/json/unit-head")[0].json()
    assert body["title"] == "洮南市脱贫攻坚逾期督办（5月3日）"
    assert "在各乡镇召开专场招聘会（2018-04，瓦房镇）：应于4月28日17:30前完成，已逾期2个工作日" in body["message"]


def test_it_escalates_to_the_city_leader_after_five_working_days(world: World) -> None:
    _chain_contacts(world)
    world.instance("i18-job-fairs", at(2018, 4, 28, 17, 30))
    for day in (at(2018, 4, 28, 17, 30), at(2018, 5, 3, 9), at(2018, 5, 7, 9)):
        world.run(day)
    assert "city-leader" not in _sent_to(world.fake)
    world.run(at(2018, 5, 8, 9))
    assert _sent_to(world.fake) == ["responsible", "unit-head", "city-leader"]


def test_it_escalates_to_the_supervision_centre_after_ten_working_days(world: World) -> None:
    _chain_contacts(world)
    world.instance("i18-job-fairs", at(2018, 4, 28, 17, 30))
    world.run(at(2018, 5, 14, 9))  # a first run late: every step due so far, each to its own people
    assert sorted(_sent_to(world.fake)) == ["city-leader", "responsible", "unit-head"]
    world.run(at(2018, 5, 15, 9))
    assert _sent_to(world.fake)[-1] == "supervision"
    assert [r.step for r in world.rows()] == ["escalate-0", "escalate-1", "escalate-2", "escalate-3"]


def test_a_later_policy_edit_does_not_rewrite_the_frozen_chain(world: World) -> None:
    _chain_contacts(world)
    inst = world.instance("i18-job-fairs", at(2018, 4, 28, 17, 30))
    world.run(at(2018, 4, 28, 18))
    world.s.refresh(inst)
    frozen = list(inst.escalation_chain or [])
    assert [s["to"] for s in frozen] == ["责任人", "unit_head", "市级责任领导", "督查指挥中心"]
    # The catalog changes: straight to the supervision centre the next working day.
    edited = world.plan.model_copy(
        update={
            "reminders": world.plan.reminders.model_copy(
                update={
                    "escalation": [
                        EscalationStep(to="责任人", after_workdays=0),
                        EscalationStep(to="督查指挥中心", after_workdays=1),
                    ]
                }
            )
        }
    )
    world.run(at(2018, 5, 2, 9), plan=edited)
    world.s.refresh(inst)
    assert inst.escalation_chain == frozen
    assert _sent_to(world.fake) == ["responsible"]  # the old chain: nobody new after one working day
    world.run(at(2018, 5, 3, 9), plan=edited)
    assert _sent_to(world.fake) == ["responsible", "unit-head"]


def test_a_reminder_that_falls_in_quiet_hours_waits_until_eight(world: World) -> None:
    world.contacts({world.json_url("li"): ["li-xiaokun"]})
    world.instance("i18-job-fairs", at(2018, 5, 15, 17, 30))
    r = world.run(at(2018, 5, 15, 21, 30))  # went overdue at 17:30; the first run is at night
    assert (r.claimed, world.fake.to("/json/li")) == (0, [])
    assert world.rows()[0].status == "pending"
    r = world.run(at(2018, 5, 16, 7, 59))
    assert r.claimed == 0
    r = world.run(at(2018, 5, 16, 8, 0))
    assert r.sent == 1 and len(world.fake.to("/json/li")) == 1


def test_an_urgent_duty_is_sent_inside_quiet_hours(world: World) -> None:
    world.contacts({world.json_url("zhang"): ["zhang-wenzhong"]})
    world.instance(
        "i23-fault-repair", at(2018, 5, 15, 23, 0), unit="农电公司", unit_name="农电公司", township=None, period="E1"
    )
    r = world.run(at(2018, 5, 15, 23, 5), "i23-fault-repair")
    assert r.sent == 1
    msg = world.fake.to("/json/zhang")[0].json()
    assert msg["title"] == "洮南市脱贫攻坚逾期提醒（5月15日）"
    assert "电力故障抢修到场（E1，农电公司）：应于5月15日23:00前提交" in msg["message"]


def test_acknowledging_stops_reminders_but_not_the_escalation_clock(world: World) -> None:
    _chain_contacts(world)
    inst = world.instance("i18-job-fairs", at(2018, 5, 18, 17, 30))
    world.run(at(2018, 5, 15, 9))  # T−3
    assert acknowledge(world.s, world.cid, inst.id, "李晓坤", at(2018, 5, 15, 10), "已安排")
    assert not acknowledge(world.s, world.cid, inst.id, "李晓坤", at(2018, 5, 15, 11))
    world.run(at(2018, 5, 17, 9))  # T−1: no reminder
    world.run(at(2018, 5, 18, 9))  # due day: no reminder
    assert _sent_to(world.fake) == ["responsible"]
    world.run(at(2018, 5, 18, 17, 30))  # still not done: overdue notice all the same
    world.run(at(2018, 5, 22, 9))  # and the unit head two working days later
    assert _sent_to(world.fake) == ["responsible", "responsible", "unit-head"]
    audit = world.s.scalars(select(AuditEntry).where(AuditEntry.subject == f"instance:{inst.id}")).all()
    assert [(a.action, a.actor, a.details["note"]) for a in audit] == [("acknowledge", "李晓坤", "已安排")]


def test_an_extension_moves_the_reminders_and_restarts_the_overdue_clock(world: World) -> None:
    _chain_contacts(world)
    inst = world.instance("i18-job-fairs", at(2018, 5, 18, 17, 30))
    world.run(at(2018, 5, 18, 17, 30))  # overdue
    extend(world.s, world.cid, inst.id, at(2018, 5, 25, 17, 30), "王天昊", at(2018, 5, 21, 10), "汛期推迟")
    world.run(at(2018, 5, 22, 9))  # T−3 of the new time; the old clock would have reached the unit head
    world.run(at(2018, 5, 25, 17, 30))  # the new time passes: overdue again, from the new time
    world.run(at(2018, 5, 29, 9))  # two working days after the new time
    assert _sent_to(world.fake) == ["responsible", "responsible", "responsible", "unit-head"]
    texts = [r.json()["message"] for r in world.fake.to("/json/responsible")]
    assert "请于5月25日17:30前提交专场招聘会记录，还有3个工作日" in texts[1]
    assert "应于5月25日17:30前提交专场招聘会记录，已逾期" in texts[2]
    world.s.refresh(inst)
    assert inst.extended_to == at(2018, 5, 25, 17, 30)
    (audit,) = world.s.scalars(select(AuditEntry).where(AuditEntry.action == "extend")).all()
    assert audit.details["reason"] == "汛期推迟" and audit.details["extended_to"].startswith("2018-05-25T17:30")
    assert world.s.get(DutyInstance, inst.id) is not None
