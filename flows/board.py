"""Publishing the board as Prefect artifacts (a table and a markdown summary)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.common import RunScope
from storage.db import session_scope
from tasks.board import board, summary


def publish_board(scope: RunScope, as_of: dt.datetime, phase_name: str) -> pd.DataFrame:
    with session_scope() as s:
        df = board(s, scope.campaign_id, as_of, scope.township, scope.plan.campaign.timezone)
    key = "board" if scope.township is None else f"board-{scope.township}"
    title = f"{scope.plan.campaign.city}脱贫攻坚挂图作战（{phase_name}）"
    records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in df.to_dict(orient="records")]
    create_table_artifact(key=key, table=records, description=title)
    create_markdown_artifact(key=f"{key}-summary", markdown=summary(df, as_of, title), description=title)
    return df
