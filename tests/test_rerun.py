"""Township re-runs: only that township's rows change, nothing is sent twice, and two runs over the
same township (or a township and the whole city) never interleave — the run lock.

The lock primitive is tested on SQLite and PostgreSQL, across threads and across processes; the
phase flow end to end against the shared Prefect test server on a SQLite file.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select

from flows.common import RunLock, RunLocked
from storage.catalog import load_catalog
from storage.db import session_scope
from storage.models import Division, DutyInstance, Flag, Message, Notification, OutboxMessage
from storage.models import RunLock as RunLockRow
from tests.conftest import ROOT, shanghai
from tests.spine_support import minutes_file, phase_flow

SPINE = Path(__file__).parent / "data" / "plans" / "spine-2018.yaml"
MISSING = {"瓦房镇", "那金镇"}  # no minutes for 3/16–3/31 at first
WAFANG = "瓦房镇"


# --- the lock primitive ----------------------------------------------------------------------


@pytest.fixture
def locks(engine: Engine) -> Iterator[Engine]:
    yield engine
    with session_scope(engine) as s:
        s.execute(delete(RunLockRow).where(RunLockRow.name.like("t:%")))


def test_a_second_run_of_the_same_township_waits_for_the_first(locks: Engine) -> None:
    first = RunLock(["t:town:1"], "第一次运行", engine=locks)
    first.acquire(0)
    events: list[tuple[str, float]] = []

    def second() -> None:
        lock = RunLock(["t:town:1"], "第二次运行", engine=locks)
        lock.acquire(10)
        events.append(("second acquired", time.monotonic()))
        lock.release()

    t = threading.Thread(target=second)
    t.start()
    time.sleep(1.5)
    assert events == []  # still waiting
    events.append(("first released", time.monotonic()))
    first.release()
    t.join(15)
    assert [e for e, _ in events] == ["first released", "second acquired"]


def test_a_second_run_refuses_with_a_clear_message(locks: Engine) -> None:
    held = RunLock(["t:town:1"], "百日会战（仅 瓦房镇）@2018-05-15（flow run A）", engine=locks)
    held.acquire(0)
    try:
        with pytest.raises(RunLocked) as err:
            RunLock(["t:town:1"], "百日会战（仅 瓦房镇）@2018-05-15（flow run B）", engine=locks).acquire(0)
        msg = str(err.value)
        assert "flow run B" in msg and "正由另一运行处理" in msg and "flow run A" in msg and "t:town:1" in msg
    finally:
        held.release()
    RunLock(["t:town:1"], "again", engine=locks).acquire(0)  # free again once released


def test_city_runs_exclude_township_runs_but_townships_run_side_by_side(locks: Engine) -> None:
    town_a = RunLock(["t:town:a"], "a", engine=locks)
    town_b = RunLock(["t:town:b"], "b", engine=locks)
    town_a.acquire(0)
    town_b.acquire(0)  # another township at the same time: fine
    city = RunLock(["t:city", "t:town:a", "t:town:b"], "city", engine=locks)
    assert {h.name for h in city.try_acquire()} == {"t:town:a", "t:town:b"}
    # all or nothing: the failed attempt left no row behind
    with session_scope(locks) as s:
        assert s.scalar(select(RunLockRow.owner).where(RunLockRow.name == "t:city")) is None
    town_a.release()
    town_b.release()
    city.acquire(0)
    assert RunLock(["t:town:a"], "a again", engine=locks).try_acquire()[0].label == "city"
    city.release()


def test_an_expired_lease_is_taken_over_and_its_holder_notices(locks: Engine) -> None:
    crashed = RunLock(["t:town:1"], "crashed run", lease=dt.timedelta(seconds=-1), engine=locks)
    crashed.acquire(0)
    taker = RunLock(["t:town:1"], "next run", engine=locks)
    taker.acquire(0)
    with pytest.raises(RunLocked, match="lease lost"):
        crashed.renew()
    taker.renew()
    crashed.release()  # releases nothing of the new owner's
    with session_scope(locks) as s:
        assert s.scalar(select(RunLockRow.label).where(RunLockRow.name == "t:town:1")) == "next run"
    taker.release()


def test_two_processes(locks: Engine) -> None:
    url = locks.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from storage.db import make_engine
            from flows.common import RunLock
            lock = RunLock(["t:town:p"], "child process", engine=make_engine({url!r}))
            lock.acquire(0)
            print("held", flush=True)
            time.sleep(2)
            lock.release()
            print("released", flush=True)
        """),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(RunLocked, match="child process"):
            RunLock(["t:town:p"], "parent", engine=locks).acquire(0)
        started = time.monotonic()
        parent = RunLock(["t:town:p"], "parent", engine=locks)
        parent.acquire(20)  # waits for the child
        assert time.monotonic() - started > 0.5
        assert child.stdout.readline().strip() == "released"
        parent.release()
    finally:
        child.wait(20)
    assert child.returncode == 0


# --- the phase flow: township re-runs ----------------------------------------------------------


def _phase_1() -> Any:
    return phase_flow(1)


def _names() -> dict[str, str]:
    with session_scope() as s:
        return dict(s.execute(select(Division.code, Division.name)).tuples().all())


def _rows() -> dict[str, dict[Any, tuple[Any, ...]]]:
    """Every row a run writes, by table and id, with the township it belongs to first."""
    out: dict[str, dict[Any, tuple[Any, ...]]] = {}
    with session_scope() as s:
        out["duty_instances"] = {
            r.id: (
                r.township_code,
                r.period_key,
                r.status,
                r.completed_at,
                r.evidence_id,
                r.flagged_at,
                r.overdue_since,
                r.due_at,
                r.alert_after,
            )
            for r in s.scalars(select(DutyInstance))
        }
        out["flags"] = {r.id: (r.township_code, r.subject, r.raised_at, r.resolved_at) for r in s.scalars(select(Flag))}
        out["notifications"] = {
            r.id: (r.township_code, r.dedup_key, r.status, r.attempts, r.sent_at, r.message_id, r.next_attempt_at)
            for r in s.scalars(select(Notification))
        }
        out["messages"] = {r.id: (None, r.person_id, r.title, r.body, r.status) for r in s.scalars(select(Message))}
        out["outbox"] = {r.id: (None, r.recipient, r.title, r.body) for r in s.scalars(select(OutboxMessage))}
    return out


def _latest_artifacts(*keys: str) -> dict[str, Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=list(keys)))
        )
    return {a.key: a for a in found}


def _check_artifacts(city_board_rows: int) -> None:
    import json

    arts = _latest_artifacts("board", "board-summary", "duty-i03-party-meeting")
    assert set(arts) == {"board", "board-summary", "duty-i03-party-meeting"}
    table = arts["board"].data
    rows = json.loads(table) if isinstance(table, str) else table
    # The board table sums the items per township and item; together they are every board row.
    assert set(rows[0]) >= {"乡镇", "事项", "类别", "单位数", "项数", "最早应完成", "最长逾期天数"}
    assert sum(int(r["项数"]) for r in rows) == city_board_rows
    md = str(arts["board-summary"].data)
    assert md.startswith("# 洮南市脱贫攻坚挂图作战（百日会战·全市）") and "| 瓦房镇 | 1 | 0 | 1 |" in md
    assert "逾期未完成 2 项" in str(arts["duty-i03-party-meeting"].description)


def _changed(
    before: dict[str, dict[Any, tuple[Any, ...]]], after: dict[str, dict[Any, tuple[Any, ...]]]
) -> dict[str, set[Any]]:
    """Per table: the townships of rows added, removed or changed (None for rows without one)."""
    out: dict[str, set[Any]] = {}
    for table in before:
        b, a = before[table], after[table]
        towns = {(a.get(i) or b.get(i))[0] for i in set(a) | set(b) if a.get(i) != b.get(i)}  # type: ignore[index]
        if towns:
            out[table] = towns
    return out


@pytest.mark.prefect
def test_a_township_rerun_changes_only_that_township_and_sends_nothing_twice(prefect_server: None, app_db: str) -> None:
    phase_1 = _phase_1()
    with session_scope() as s:
        load_catalog(s, SPINE, now=shanghai(2018, 3, 1, 9))
    minutes_file(None, shanghai(2018, 3, 29, 16), "on-time", exclude=frozenset(MISSING))
    names = _names()
    code = {v: k for k, v in names.items()}

    # 3/30 18:00: the meeting of 3/16–3/31 was due Friday 3/30 17:30. The city-wide run flags the
    # two townships without minutes and reminds their secretaries.
    city = phase_1(as_of=shanghai(2018, 3, 30, 18), campaign="spine-2018")
    assert city["duties"] == ["i03-party-meeting"] and city["board_rows"] == 2
    before = _rows()
    _check_artifacts(city_board_rows=2)
    assert {t for t, *_ in before["flags"].values()} == {code["瓦房镇"], code["那金镇"]}
    assert {r for _, r, *_ in before["outbox"].values()} == {"那金镇乡镇党委书记", "瓦房镇乡镇党委书记"}

    # 瓦房镇's minutes turn up: received 3/30 17:00 but imported after the run. Re-run 瓦房镇 only.
    minutes_file({WAFANG}, shanghai(2018, 3, 30, 17), "late-wafang")
    rerun = phase_1(as_of="2018-03-30T18:00", township=WAFANG, campaign="spine-2018")
    assert rerun["township"] == code[WAFANG] and rerun["board_rows"] == 0
    after = _rows()
    assert _changed(before, after) == {"duty_instances": {code[WAFANG]}, "flags": {code[WAFANG]}}
    (inst,) = [v for v in after["duty_instances"].values() if v[0] == code[WAFANG] and v[1] == "2018-03H2"]
    assert inst[2] == "done" and inst[3] == shanghai(2018, 3, 30, 17)
    (flag,) = [v for v in after["flags"].values() if v[0] == code[WAFANG]]
    assert flag[3] == shanghai(2018, 3, 30, 18)  # resolved by the re-run, kept for the record

    # 4/9 09:00 (five working days later) re-run 那金镇: its 市级包保领导 hears of it;
    # 瓦房镇 is not touched; the same re-run again sends nothing.
    before = after
    phase_1(as_of=shanghai(2018, 4, 9, 9), township="那金", campaign="spine-2018")
    after = _rows()
    changed = _changed(before, after)
    assert set().union(*changed.values()) <= {code["那金镇"], None}
    assert {
        t for t, *_ in (after["notifications"][i] for i in set(after["notifications"]) - set(before["notifications"]))
    } == {code["那金镇"]}
    new_outbox = [after["outbox"][i] for i in sorted(set(after["outbox"]) - set(before["outbox"]))]
    assert new_outbox and all("那金镇" in r for _, r, *_ in new_outbox)
    again = after
    phase_1(as_of=shanghai(2018, 4, 9, 9), township="那金镇", campaign="spine-2018")
    assert _rows()["outbox"] == again["outbox"] and _rows()["notifications"] == again["notifications"]
    with session_scope() as s:  # every lock released
        assert s.scalar(select(RunLockRow.name)) is None


@pytest.mark.prefect
def test_a_rerun_of_a_township_in_progress_waits_or_refuses(
    prefect_server: None, app_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.common

    phase_1 = _phase_1()
    with session_scope() as s:
        load_catalog(s, SPINE, now=shanghai(2018, 3, 1, 9))
    code = {v: k for k, v in _names().items()}
    other = RunLock([f"spine-2018:town:{code[WAFANG]}"], "百日会战（仅 瓦房镇）@2018-03-30（另一运行）")
    other.acquire(0)

    # Refuses (after the configured wait) with a message naming the run in progress.
    monkeypatch.setattr(flows.common, "LOCK_WAIT_SECONDS", 0.0)
    with pytest.raises(RunLocked, match="另一运行"):
        phase_1(as_of=shanghai(2018, 3, 30, 18), township=WAFANG, campaign="spine-2018")
    # A city-wide run needs every township: refused as well. Another township runs meanwhile.
    with pytest.raises(RunLocked):
        phase_1(as_of=shanghai(2018, 3, 30, 18), campaign="spine-2018")
    assert phase_1(as_of=shanghai(2018, 3, 30, 18), township="那金镇", campaign="spine-2018")["duties"]

    # Waits: the holder lets go after 2 s and the re-run then goes ahead.
    monkeypatch.setattr(flows.common, "LOCK_WAIT_SECONDS", 60.0)
    released: list[float] = []

    def let_go() -> None:
        time.sleep(2)
        released.append(time.monotonic())
        other.release()

    t = threading.Thread(target=let_go)
    t.start()
    result = phase_1(as_of=shanghai(2018, 3, 30, 18), township=WAFANG, campaign="spine-2018")
    done = time.monotonic()
    t.join()
    assert result["duties"] == ["i03-party-meeting"] and released and released[0] < done


@pytest.mark.prefect
def test_two_reruns_of_the_same_township_at_once_do_not_interleave(
    prefect_server: None, app_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.common

    phase_1 = _phase_1()
    with session_scope() as s:
        load_catalog(s, SPINE, now=shanghai(2018, 3, 1, 9))
    spans: list[tuple[str, float]] = []
    real_acquire, real_release = flows.common.RunLock.acquire, flows.common.RunLock.release

    def acquire(self: RunLock, wait: float | None = None) -> None:
        real_acquire(self, wait)
        spans.append(("in", time.monotonic()))

    def release(self: RunLock) -> None:
        spans.append(("out", time.monotonic()))
        real_release(self)

    monkeypatch.setattr(flows.common.RunLock, "acquire", acquire)
    monkeypatch.setattr(flows.common.RunLock, "release", release)
    results: list[Any] = []

    def run() -> None:
        results.append(phase_1(as_of=shanghai(2018, 3, 30, 18), township=WAFANG, campaign="spine-2018"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 2
    assert [k for k, _ in spans] == ["in", "out", "in", "out"]  # one after the other, never both inside
    with session_scope() as s:
        assert s.scalar(select(RunLockRow.name)) is None
        sent = s.scalars(select(Notification.dedup_key)).all()
    assert len(sent) == len(set(sent)) == 1  # 瓦房镇's secretary, once
