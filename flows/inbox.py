"""The inbox flow: import every township file waiting in var/inbox/ (logic in tasks.imports.inbox)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE

from campaign.clock import AsOf, resolve_as_of
from campaign.settings import get_settings
from storage.db import session_scope
from tasks.imports.inbox import InboxReport, process_inbox


@task(name="导入收件箱文件", cache_policy=NONE)
def import_inbox(campaign: str, now: dt.datetime) -> InboxReport:
    # No automatic retry: a file that failed half-way is still in the inbox and the next run
    # takes it again (its import is idempotent).
    return process_inbox(get_settings().inbox_dir, session_scope, campaign=campaign, now=now)


@flow(name="收取上报材料", log_prints=False)
def inbox_flow(campaign: str | None = None, as_of: AsOf = None) -> dict[str, Any]:
    """Import the inbox; the import time is the run's scheduled start (or ``as_of``)."""
    log = get_run_logger()
    when = resolve_as_of(as_of)
    code = campaign or get_settings().CAMPAIGN
    report = import_inbox(code, when)
    for r in report.results:
        (log.info if r.accepted else log.warning)("%s", r.summary())
    if report.results:
        create_table_artifact(
            key="inbox-imports",
            table=[
                {"文件": r.file, "结果": r.status, "报表": r.report_name or "", "行数": r.rows, "问题数": len(r.issues)}
                for r in report.results
            ],
            description=f"{when:%Y-%m-%d %H:%M} 收取上报材料：接收 {len(report.accepted)} 份，退回 {len(report.rejected)} 份",
        )
    return {
        "as_of": when.isoformat(),
        "accepted": [r.file for r in report.accepted],
        "rejected": {r.file: len(r.issues) for r in report.rejected},
        "moved": {k: str(v) for k, v in report.moved.items()},
    }
