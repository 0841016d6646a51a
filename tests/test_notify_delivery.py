"""Real deliveries, no mocks of Apprise: a local HTTP server stands in for json://, WeCom (token and
message endpoints, group bot) and the Aliyun SMS API; aiosmtpd for mailto://. What arrives is
checked byte for byte where it matters; what the ledger says is checked after every run."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import logging
import time
import uuid

import pytest
from sqlalchemy import select

from notify.contacts import ContactBook, ContactsError
from storage.catalog import township_codes
from storage.models import Division
from tests.notify_fakes import SMS_SECRET, WECOM_SECRET, WECOM_TOKEN, Answer, FakeSMTP
from tests.notify_support import World, at, fake, smtp, world

FIXTURES = (fake, smtp, world)  # pytest finds them here

T3 = at(2018, 5, 15, 9)  # T−3 working days before 5/18 17:30


def due_518(world: World) -> None:
    world.instance("i18-job-fairs", at(2018, 5, 18, 17, 30))


def bot(world: World, key: str | None = None) -> tuple[str, str]:
    key = key or uuid.uuid4().hex[:12]  # a fresh bot each test: the 20-a-minute limit is per bot
    return f"wecombot://{world.secret('WAFANG_BOT_KEY', key)}?api={world.fake.base}", "/cgi-bin/webhook/send"


def mail_url(smtp: FakeSMTP, to: str = "lixk@taonan.gov.cn") -> str:
    return f"mailto://127.0.0.1:{smtp.port}?mode=insecure&from=notify@taonan.gov.cn&to={to}"


LINE = "1. 在各乡镇召开专场招聘会（2018-04，瓦房镇）：请于5月18日17:30前提交专场招聘会记录，还有3个工作日。"


def test_it_posts_one_digest_to_a_json_endpoint_byte_for_byte(world: World) -> None:
    world.contacts({world.json_url("li"): ["li-xiaokun"]})
    due_518(world)
    r = world.run(T3)
    assert (r.claimed, r.messages, r.sent, r.failed) == (1, 1, 1, 0)
    (req,) = world.fake.to("/json/li")
    expected = {
        "version": "1.0",
        "title": "洮南市脱贫攻坚待办提醒（5月15日）",
        "message": f"您有1项事项：\n{LINE}",
        "attachments": [],
        "type": "info",
    }
    assert req.body == json.dumps(expected).encode()
    (row,) = world.rows()
    (msg,) = world.messages()
    assert (row.status, row.attempts, row.message_id, row.sent_at) == ("sent", 1, msg.id, T3)
    assert msg.status == "sent" and msg.channel is not None and msg.channel.startswith("json://127.0.0.1")


def test_without_a_contact_directory_everything_goes_to_the_outbox(world: World) -> None:
    due_518(world)
    r = world.run(T3)
    assert r.sent == 1
    (box,) = world.outbox()
    assert (box.recipient, box.title) == ("就业局李晓坤", "洮南市脱贫攻坚待办提醒（5月15日）")
    assert box.body == f"您有1项事项：\n{LINE}"


def test_wecom_app_messages_share_one_access_token_across_people_and_runs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WECOM_SECRET", WECOM_SECRET)
    app = "wechat://ww-corp:${WECOM_SECRET}@1000002/@{user}?api=" + world.fake.base
    world.contacts(
        [
            (app.replace("{user}", "lixk"), "li-xiaokun"),
            (app.replace("{user}", "wafang-sj"), "乡镇党委书记@瓦房镇"),
            (app.replace("{user}", "wafang-bb"), "市级包保领导@瓦房镇"),
        ]
    )
    world.instance("i18-job-fairs", at(2018, 4, 28, 17, 30))
    started = time.monotonic()
    world.run(at(2018, 5, 3, 9))  # overdue: the 责任人 and the unit head at once
    world.run(at(2018, 5, 8, 9))  # the city leader, in a later run
    assert time.monotonic() - started < 3  # no 5.5 s pause between the token fetch and the send
    assert len(world.fake.to("/cgi-bin/gettoken")) == 1
    sends = world.fake.to("/cgi-bin/message/send")
    assert sorted(r.json()["touser"] for r in sends) == ["lixk", "wafang-bb", "wafang-sj"]
    first = next(r for r in sends if r.json()["touser"] == "lixk")
    assert first.query == {"access_token": WECOM_TOKEN}
    content = (
        "洮南市脱贫攻坚逾期提醒（5月3日）\n您有1项事项：\n1. 在各乡镇召开专场招聘会（2018-04，瓦房镇）："
        "应于4月28日17:30前提交专场招聘会记录，已逾期2个工作日，请尽快完成。"
    )
    payload = {
        "agentid": 1000002,
        "msgtype": "text",
        "text": {"content": content},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 14400,
        "touser": "lixk",
    }
    assert first.body == json.dumps(payload, ensure_ascii=False).encode("utf-8")


def test_a_wecom_bot_answer_of_200_with_an_error_code_counts_as_failed_and_falls_back(
    world: World, smtp: FakeSMTP
) -> None:
    url, path = bot(world)
    world.contacts([(url, "1:li-xiaokun"), (mail_url(smtp), "2:li-xiaokun")])
    world.fake.script(path, Answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"}))
    due_518(world)
    before = len(smtp.messages)
    r = world.run(T3)
    assert (r.sent, r.failed) == (1, 0)
    assert len(world.fake.to(path)) == 1
    (mail,) = smtp.messages[before:]
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert parsed["Subject"] == "洮南市脱贫攻坚待办提醒（5月15日）"
    assert parsed.get_content().replace("\r\n", "\n").strip() == f"您有1项事项：\n{LINE}"  # SMTP: CRLF
    assert mail.rcpt_tos == ["lixk@taonan.gov.cn"]
    (msg,) = world.messages()
    assert msg.channel is not None and msg.channel.startswith("mailto://") and msg.attempts == 2


def test_a_500_from_the_first_channel_falls_back_to_the_next(world: World) -> None:
    url, path = bot(world)
    world.contacts({url: ["1:li-xiaokun"], world.json_url("li"): ["2:li-xiaokun"]})
    world.fake.script(path, Answer(500, {"errcode": -1}))
    due_518(world)
    r = world.run(T3)
    assert r.sent == 1 and len(world.fake.to("/json/li")) == 1


def test_a_channel_that_times_out_is_abandoned_within_the_timeout(world: World) -> None:
    url, path = bot(world)
    world.contacts({url: ["1:li-xiaokun"], world.json_url("li"): ["2:li-xiaokun"]})
    world.fake.script(path, Answer(200, None, delay=3.0))
    due_518(world)
    started = time.monotonic()
    r = world.run(T3, timeout=1.0)  # connect/read timeouts 0.2 s under Apprise's 1 s deadline
    assert time.monotonic() - started < 1.5
    assert r.sent == 1 and len(world.fake.to("/json/li")) == 1
    (msg,) = world.messages()
    assert msg.attempts == 2 and (msg.channel or "").startswith("json://")


def test_a_long_digest_is_split_at_2048_bytes_for_wecom(world: World) -> None:
    url, path = bot(world)
    world.contacts({url: ["li-xiaokun"]})
    names = dict(world.s.execute(select(Division.code, Division.name)).tuples().all())
    towns = township_codes(world.s, world.plan)
    for period, due in (("2018-04", at(2018, 5, 18, 17, 30)), ("2018-05", at(2018, 5, 18, 17, 30))):
        for code in towns:
            world.instance("i18-job-fairs", due, unit=code, unit_name=names[code], township=code, period=period)
    r = world.run(T3)
    posts = [p.json()["text"]["content"] for p in world.fake.to(path)]
    assert r.sent == r.messages == len(posts) >= 2
    assert all(len(c.encode("utf-8")) <= 2048 for c in posts)
    assert max(len(c.encode("utf-8")) for c in posts) > 1800  # parts are filled, not one item each
    n = len(posts)
    assert [c.split("\n", 1)[0] for c in posts] == [
        f"洮南市脱贫攻坚待办提醒（5月15日）（{k}/{n}）" for k in range(1, n + 1)
    ]
    numbered = [line.split(". ", 1)[0] for c in posts for line in c.split("\n")[2:]]
    assert numbered == [str(i) for i in range(1, 2 * len(towns) + 1)]  # every item exactly once, in order
    assert {row.status for row in world.rows()} == {"sent"}


def test_sms_goes_through_the_aliyun_api_signed_and_only_ok_counts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIYUN_SMS_SECRET", SMS_SECRET)
    sms = (
        "aliyunsms://LTAI-test:${ALIYUN_SMS_SECRET}@SMS_154950909/13800138000?sign=洮南市扶贫办&api="
        + world.fake.base
        + "/sms/"
    )
    world.contacts({sms: ["li-xiaokun"], world.json_url("sj"): ["乡镇党委书记@瓦房镇"]})
    world.instance("i18-job-fairs", at(2018, 5, 18, 17, 30))
    world.instance("i18-job-fairs", at(2018, 5, 11, 17, 30), period="2018-03")
    r = world.run(T3)
    assert r.sent == 2  # li by SMS, the township secretary (escalation) by json
    (req,) = world.fake.to("/sms")
    form = req.form()
    assert form["TemplateParam"] == '{"content":"您有2项脱贫攻坚事项（逾期1项），请及时查看处理。"}'
    assert (form["PhoneNumbers"], form["SignName"], form["TemplateCode"], form["Action"]) == (
        "13800138000",
        "洮南市扶贫办",
        "SMS_154950909",
        "SendSms",
    )
    # the fake checked the HMAC-SHA1 signature with the secret; a refusal is a failure:
    world.instance("i18-job-fairs", at(2018, 5, 21, 17, 30), period="2018-05")
    world.fake.script("/sms/", Answer(200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控"}))
    r = world.run(at(2018, 5, 16, 9))
    assert r.failed == 1
    assert "isv.BUSINESS_LIMIT_CONTROL" in (world.messages()[-1].error or "")


def test_failed_sends_are_retried_after_the_backoff_until_the_channel_recovers(world: World) -> None:
    url, path = bot(world)
    world.contacts({url: ["li-xiaokun"]})
    world.fake.script(path, Answer(500), Answer(200, {"errcode": 45009, "errmsg": "freq"}))
    due_518(world)
    assert world.run(T3).failed == 1
    (row,) = world.rows()
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, T3 + dt.timedelta(minutes=5))
    assert world.run(T3 + dt.timedelta(minutes=4)).claimed == 0  # still backing off
    assert world.run(T3 + dt.timedelta(minutes=5)).failed == 1  # 200 with errcode: failed again
    world.s.refresh(row)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 2, T3 + dt.timedelta(minutes=35))
    assert world.run(T3 + dt.timedelta(minutes=35)).sent == 1
    world.s.refresh(row)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert [m.status for m in world.messages()] == ["failed", "failed", "sent"]
    assert "45009" in (world.messages()[1].error or "")


def test_ten_reruns_of_the_same_as_of_send_nothing_twice(world: World, smtp: FakeSMTP) -> None:
    world.contacts(
        {
            world.json_url("li"): ["li-xiaokun"],
            mail_url(smtp, "sj@taonan.gov.cn"): ["乡镇党委书记@瓦房镇"],
            "outbox://": ["9:*"],
        }
    )  # everyone else: the local outbox
    world.instance("i18-job-fairs", at(2018, 4, 28, 17, 30))
    world.instance("i18-job-fairs", at(2018, 5, 18, 17, 30), period="2018-05")
    before = len(smtp.messages)
    for _ in range(10):
        world.run(at(2018, 5, 15, 9))
    # li: one digest (an overdue item and a reminder); the secretary: one escalation; the city
    # leader and the supervision centre (no channel of their own, so the outbox): one each.
    assert len(world.fake.to("/json/li")) == 1
    assert len(smtp.messages) - before == 1
    assert sorted(b.recipient for b in world.outbox()) == ["瓦房镇市级包保领导", "督查指挥中心张洪波"]
    assert len(world.rows()) == 5 and {r.status for r in world.rows()} == {"sent"}
    assert len(world.messages()) == 4


def test_drill_mode_sends_everything_to_one_url_marked_and_kept_apart(world: World) -> None:
    world.contacts({world.json_url("li"): ["li-xiaokun"]})
    world.instance("i18-job-fairs", at(2018, 4, 28, 17, 30))
    drill = world.json_url("drill")
    r = world.run(at(2018, 5, 3, 9), drill_url=drill)
    assert r.drill and r.sent == 2
    posts = [p.json() for p in world.fake.to("/json/drill")]
    assert {p["title"] for p in posts} == {
        "【演练】洮南市脱贫攻坚逾期提醒（5月3日）",
        "【演练】洮南市脱贫攻坚逾期督办（5月3日）",
    }
    assert sorted(p["message"].split("\n", 1)[0] for p in posts) == [
        "【演练】本消息原应发给：就业局李晓坤（li-xiaokun）",
        "【演练】本消息原应发给：瓦房镇乡镇党委书记（乡镇党委书记@220881100000）",
    ]
    assert world.fake.to("/json/li") == []
    assert all(r.drill and r.dedup_key.startswith("drill:") for r in world.rows())
    world.run(at(2018, 5, 3, 9))  # the real run afterwards is not affected by the drill
    assert len(world.fake.to("/json/li")) == 1
    assert len(world.rows()) == 4 and sum(r.drill for r in world.rows()) == 2
    assert len(world.fake.to("/json/drill")) == 2


def test_rows_past_their_window_expire_with_a_reason_and_the_item_escalates(world: World) -> None:
    url, path = bot(world)
    world.contacts({url: ["li-xiaokun"]})
    world.fake.script(path, *[Answer(500)] * 3)
    due_518(world)
    world.run(T3)  # before-3 fails
    world.run(at(2018, 5, 17, 9))  # before-1 planned: before-3 is superseded; before-1 fails
    world.run(at(2018, 5, 18, 17, 30))  # overdue: before-1 expires; the overdue notice goes out
    got = {r.step: (r.status, r.last_error) for r in world.rows()}
    assert got["before-3"] == ("expired", "window passed: superseded by step before-1")
    assert got["before-1"] == ("expired", "window passed: the item went overdue and is escalated instead")
    assert got["escalate-0"][0] == "failed"


def test_a_run_that_died_after_the_channel_took_the_message_resends_the_same_text_after_the_lease(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import notify.deliver

    monkeypatch.setenv("WECOM_SECRET", WECOM_SECRET)
    world.contacts({f"wechat://ww-corp:${{WECOM_SECRET}}@1000002/@lixk?api={world.fake.base}": ["li-xiaokun"]})
    due_518(world)

    def die(*a: object, **k: object) -> None:
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(notify.deliver, "mark_sent", die)
    with pytest.raises(KeyboardInterrupt):
        world.run(T3)
    world.s.rollback()  # what the dead process had not committed is gone
    monkeypatch.undo()
    monkeypatch.setenv("WECOM_SECRET", WECOM_SECRET)
    (row,) = world.rows()
    assert row.status == "sending" and row.message_id is not None
    assert world.run(T3 + dt.timedelta(minutes=1)).claimed == 0  # the lease still holds
    r = world.run(T3 + dt.timedelta(minutes=20), lease=dt.timedelta(0))  # the lease has run out
    assert (r.resumed, r.sent) == (1, 1)
    first, second = world.fake.to("/cgi-bin/message/send")
    assert first.body == second.body  # byte-identical: WeCom's duplicate check drops the repeat
    assert first.json()["enable_duplicate_check"] == 1
    world.s.refresh(row)
    (msg,) = world.messages()
    assert (row.status, row.message_id, msg.status) == ("sent", msg.id, "sent")


def test_credentials_come_from_the_environment_or_a_file_and_are_never_written_or_shown(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret_key = "botkey" + uuid.uuid4().hex[:10]
    key_file = world.tmp / "bot.key"
    key_file.write_text(secret_key + "\n", encoding="utf-8")
    monkeypatch.setenv("WAFANG_BOT_FILE", str(key_file))
    path = world.contacts({"wecombot://${WAFANG_BOT}?api=" + world.fake.base: ["li-xiaokun"]})
    book = ContactBook.load(path)
    assert book.channels_for(["li-xiaokun"], "outbox://x")[0].url.startswith(f"wecombot://{secret_key}")
    world.fake.script("/cgi-bin/webhook/send", Answer(200, {"errcode": 93000, "errmsg": f"invalid key {secret_key}"}))
    due_518(world)
    with caplog.at_level(logging.DEBUG):
        r = world.run(T3)
    assert r.failed == 1
    (msg,) = world.messages()
    stored = " ".join(str(x) for x in (msg.error, msg.channel, world.rows()[0].last_error))
    assert "93000" in stored and secret_key not in stored
    assert secret_key not in caplog.text
    # A missing variable is named, never guessed; a literal secret in the file is refused.
    monkeypatch.delenv("WAFANG_BOT_FILE")
    with pytest.raises(ContactsError, match="WAFANG_BOT"):
        ContactBook.load(path)
    literal = world.contacts({"wecombot://0123456789abcdef?api=" + world.fake.base: ["li-xiaokun"]})
    with pytest.raises(ContactsError, match=r"written in the file.*\$\{NAME\}"):
        ContactBook.load(literal)


def test_a_wecom_bot_takes_twenty_messages_a_minute_and_the_rest_fall_back(world: World) -> None:
    from notify.config import NotifyConfig
    from notify.transport import Target, Transport

    url, path = bot(world)
    url = url.replace("${WAFANG_BOT_KEY}", world.secret("LIMIT_BOT_KEY", uuid.uuid4().hex[:12]))
    book = ContactBook.load(world.contacts({url: ["x"], world.json_url("fallback"): ["2:x"]}))
    targets = [Target(c.url, c.written, c.scheme) for c in book.channels_for(["x"], "outbox://x")]
    started = time.monotonic()
    with Transport(NotifyConfig(timeout=1.0, storage_path=world.tmp / "apprise"), mask=book.masker) as tr:
        outcomes = [tr.send(targets, f"第{i}条", "正文", "短", None) for i in range(22)]
    assert time.monotonic() - started < 5
    assert all(o.ok for o in outcomes)
    assert len(world.fake.to(path)) == 20
    assert [o.channel.split("://")[0] for o in outcomes[20:]] == ["json", "json"]  # type: ignore[union-attr]
    assert "20 messages a minute" in (outcomes[20].attempts[0].error or "")


@pytest.mark.parametrize(
    ("url", "path", "refusal", "acceptance"),
    [
        ("dingtalk://${DT_TOKEN}", "/robot/send", {"errcode": 310000, "errmsg": "sign not match"}, {"errcode": 0}),
        ("schan://${SC_KEY}", "/{key}.send", {"code": 40001, "message": "bad pushkey"}, {"code": 0}),
        ("wecombot://${BOT_KEY}", "/cgi-bin/webhook/send", {"errcode": 45009, "errmsg": "freq"}, {"errcode": 0}),
    ],
)
def test_a_200_answer_that_carries_an_error_code_is_a_failure(
    world: World, url: str, path: str, refusal: dict[str, object], acceptance: dict[str, object]
) -> None:
    from notify.config import NotifyConfig
    from notify.transport import Target, Transport

    key = uuid.uuid4().hex[:16]
    for name in ("DT_TOKEN", "SC_KEY", "BOT_KEY"):
        world.secret(name, key if name != "SC_KEY" else "SCT" + key)
    path = path.replace("{key}", "SCT" + key)
    book = ContactBook.load(world.contacts({f"{url}?api={world.fake.base}": ["x"]}))
    targets = [Target(c.url, c.written, c.scheme) for c in book.channels_for(["x"], "outbox://x")]
    world.fake.script(path, Answer(200, refusal), Answer(200, acceptance))
    with Transport(NotifyConfig(timeout=1.0, storage_path=world.tmp / "apprise"), mask=book.masker) as tr:
        refused = tr.send(targets, "标题", "正文", "短", None)
        accepted = tr.send(targets, "标题", "正文", "短", None)
    assert not refused.ok and str(next(iter(refusal.values()))) in (refused.error or "")
    assert accepted.ok
    assert len(world.fake.to(path)) == 2
    assert key not in (refused.error or "")


def test_a_stale_wecom_token_is_fetched_again_once(world: World) -> None:
    world.contacts(
        {
            f"wechat://ww-corp:{world.secret('WECOM_SECRET', WECOM_SECRET)}@1000002/@lixk?api={world.fake.base}": [
                "li-xiaokun"
            ]
        }
    )
    world.fake.script("/cgi-bin/message/send", Answer(200, {"errcode": 42001, "errmsg": "access_token expired"}))
    due_518(world)
    assert world.run(T3).sent == 1
    assert len(world.fake.to("/cgi-bin/gettoken")) == 2
    assert len(world.fake.to("/cgi-bin/message/send")) == 2
