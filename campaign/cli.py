"""`campaign`: the command line for operators and admins."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from campaign.cli_common import CampaignOpt, fail, now
from campaign.clock import parse_as_of
from campaign.settings import SettingsError, get_settings

app = typer.Typer(help="洮南市脱贫攻坚决胜年 campaign orchestrator.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
plan_app = typer.Typer(help="The plan catalog: validate, load, export.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(plan_app, name="plan")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database (DATABASE_URL) to the latest schema."""
    from storage.migrate import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@plan_app.command("validate")
def plan_validate(file: Path) -> None:
    """Check a catalog file; print every problem with its place in the file."""
    from plan.load import CatalogError, load_plan_file

    try:
        plan, digest = load_plan_file(file)
    except CatalogError as exc:
        fail(str(exc))
        return
    typer.echo(
        f"{file}: OK — {plan.campaign.name}: {len(plan.phases)} phases, {len(plan.items())} work items, "
        f"{len(plan.duties())} duties, {len(plan.indicators())} indicators (sha256 {digest[:12]})"
    )


@plan_app.command("load")
def plan_load(file: Path) -> None:
    """Load a catalog (idempotent; a changed catalog becomes a new version, history kept)."""
    from plan.directory import DirectoryError
    from plan.load import CatalogError
    from storage.catalog import load_catalog
    from storage.db import session_scope

    try:
        with session_scope() as s:
            r = load_catalog(s, file, now())
    except (CatalogError, DirectoryError) as exc:
        fail(str(exc))
        return
    typer.echo(f"{r.campaign}: version {r.version}" + ("" if r.changed else " (unchanged)"))


@plan_app.command("export")
def plan_export(
    campaign: CampaignOpt = None, as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = True
) -> None:
    """Print the loaded plan as JSON, for other tools."""
    from storage.catalog import current_plan
    from storage.db import session_scope

    with session_scope() as s:
        c, plan = current_plan(s, campaign or get_settings().CAMPAIGN)
        doc: dict[str, Any] = {"version": c.current_version, "plan": plan.model_dump(mode="json")}
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))


@app.command()
def status(
    township: Annotated[str | None, typer.Option(help="Township name, short name or code")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date or time (Asia/Shanghai); default now")] = None,
    campaign: CampaignOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The 挂图作战 board: overdue and below-target items per township."""
    from storage.catalog import current_plan
    from storage.db import session_scope
    from tasks.board import board
    from tasks.units import UnknownTownship, resolve_township

    when = parse_as_of(as_of) or now()
    with session_scope() as s:
        c, plan = current_plan(s, campaign or get_settings().CAMPAIGN)
        try:
            town = resolve_township(s, plan, township)
        except UnknownTownship as exc:
            fail(str(exc))
            return
        df = board(s, c.id, when, town, plan.campaign.timezone)
    if as_json:
        typer.echo(df.to_json(orient="records", force_ascii=False))
    elif df.empty:
        typer.echo(f"截至 {when:%Y-%m-%d %H:%M}，没有逾期或未达标事项。")
    else:
        typer.echo(f"截至 {when:%Y-%m-%d %H:%M}：{len(df)} 项")
        typer.echo(df.to_string(index=False))


@app.command()
def rerun(
    phase: Annotated[str, typer.Option(help="Phase number or key")],
    township: Annotated[str | None, typer.Option(help="Only this township (name or code)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date or time; default now")] = None,
    campaign: CampaignOpt = None,
) -> None:
    """Re-run a phase flow (optionally for one township) in this process.

    When `make run` is up, the run is recorded on its server and shows in the UI; otherwise
    Prefect starts a temporary server for the run.
    """
    from campaign.up import use_local_server_if_running

    use_local_server_if_running()
    import flows.phases as phases
    from storage.catalog import current_plan
    from storage.db import session_scope

    with session_scope() as s:
        _, plan = current_plan(s, campaign or get_settings().CAMPAIGN)
    from flows.common import RunLocked

    number = plan.phase(phase).number
    fn = vars(phases)[f"phase_{number}"]
    try:
        result = fn(as_of=parse_as_of(as_of) or now(), township=township, campaign=campaign)
    except RunLocked as exc:
        fail(str(exc))
        return
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))


@app.command()
def demo(
    seed: int = 2018,
    campaign: CampaignOpt = None,
) -> None:
    """Seed demo data: 贫困村 flags and some submitted minutes (fixed random seed)."""
    from storage.db import session_scope
    from tasks.demo import seed_demo

    with session_scope() as s:
        summary = seed_demo(s, campaign or get_settings().CAMPAIGN, seed)
    typer.echo(summary)


@app.command()
def up(
    port: int = 4200,
    demo_data: Annotated[bool, typer.Option("--demo/--no-demo", help="Seed demo data")] = True,
) -> None:
    """Migrate, load the plan, start the local Prefect server and serve every deployment (Ctrl-C stops)."""
    from campaign.up import main as up_main

    raise typer.Exit(up_main(port, demo_data))


def _register_subcommands() -> None:
    from campaign.cli_events import register as register_events
    from campaign.cli_import import register as register_import
    from campaign.cli_notify import register as register_notify
    from campaign.cli_schedules import register as register_schedules

    register_import(app)
    register_schedules(app)
    register_events(app)
    register_notify(app)


_register_subcommands()


def main() -> None:
    try:
        app()
    except SettingsError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
