"""What every `campaign` command module shares: the clock at the edge, failing with a message."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, NoReturn

import typer

from campaign.clock import TZ, parse_as_of

CampaignOpt = Annotated[str | None, typer.Option("--campaign", help="Campaign code (default: settings CAMPAIGN)")]


def now() -> dt.datetime:
    # The CLI is the edge of the system: the one place a wall-clock time is taken.
    return dt.datetime.now(TZ)


def when(value: str | None) -> dt.datetime:
    """A time given on the command line (Asia/Shanghai; a bare date is its 09:00), else now."""
    return parse_as_of(value) or now()


def fail(msg: str) -> NoReturn:
    typer.echo(msg, err=True)
    raise typer.Exit(2)
