"""`campaign schedules …`: prefect.yaml from the catalog, and what each schedule fires on.

Wired into campaign/cli.py with ``register(app)``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer

from campaign.settings import PROJECT_ROOT, get_settings

DEFAULT_OUTPUT = PROJECT_ROOT / "prefect.yaml"

schedules_app = typer.Typer(help="Deployments and schedules generated from the plan catalog.", no_args_is_help=True)

CatalogOpt = Annotated[Path | None, typer.Option("--catalog", help="Catalog file (default: settings CATALOG)")]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Where prefect.yaml lives")]


def _render(catalog: Path | None) -> str:
    from campaign.workdays import UnknownCalendarYear
    from plan.load import CatalogError, load_plan_file
    from schedules.deployments import render_prefect_yaml

    try:
        plan, _ = load_plan_file(catalog or get_settings().CATALOG)
        return render_prefect_yaml(plan)
    except (CatalogError, UnknownCalendarYear) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _warn_unreached(catalog: Path | None) -> None:
    from campaign.workdays import default_calendar
    from plan.load import load_plan_file
    from schedules.rrules import unreached_due_dates

    plan, _ = load_plan_file(catalog or get_settings().CATALOG)
    missed = unreached_due_dates(plan, default_calendar())
    if missed:
        first, last = plan.campaign_window()
        typer.echo(f"注意: {len(missed)} 项职责有到期日在活动期（{first} 至 {last}）之外，阶段流程不会运行：", err=True)
        by_day: dict[str, list[str]] = {}
        for key, days in missed.items():
            for d in days:
                by_day.setdefault(d.isoformat(), []).append(key)
        for day, keys in sorted(by_day.items()):
            typer.echo(f"  {day}: {len(keys)} 项（{'、'.join(keys)}）", err=True)


@schedules_app.command("write")
def write(catalog: CatalogOpt = None, output: OutputOpt = DEFAULT_OUTPUT) -> None:
    """Write prefect.yaml (every deployment, its schedule and parameters) from the catalog."""
    text = _render(catalog)
    old = output.read_text(encoding="utf-8") if output.exists() else None
    if old == text:
        typer.echo(f"{output}: up to date")
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{output}: written ({text.count(chr(10) + '- name: ')} deployments)")
    _warn_unreached(catalog)


@schedules_app.command("check")
def check(catalog: CatalogOpt = None, output: OutputOpt = DEFAULT_OUTPUT) -> None:
    """Fail (exit 1, with a diff) when prefect.yaml is not what the catalog generates."""
    text = _render(catalog)
    if not output.exists():
        typer.echo(f"{output}: missing; run `campaign schedules write`", err=True)
        raise typer.Exit(1)
    old = output.read_text(encoding="utf-8")
    if old != text:
        diff = difflib.unified_diff(old.splitlines(), text.splitlines(), str(output), "generated", lineterm="", n=2)
        typer.echo("\n".join(list(diff)[:200]), err=True)
        typer.echo(f"{output} is out of date with the catalog; run `campaign schedules write`", err=True)
        raise typer.Exit(1)
    typer.echo(f"{output}: up to date")
    _warn_unreached(catalog)


@schedules_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="A duty key, a phase number/key, or 'inbox'")],
    catalog: CatalogOpt = None,
) -> None:
    """Print a deployment's schedule and every date it fires on."""
    from campaign.workdays import default_calendar
    from plan.load import load_plan_file
    from schedules.deployments import deployment_specs
    from schedules.rrules import occurrences

    plan, _ = load_plan_file(catalog or get_settings().CATALOG)
    specs = deployment_specs(plan, default_calendar())
    wanted = None
    for spec in specs:
        number = spec.entrypoint.rsplit("_", 1)[-1]
        if (
            (spec.kind == "duty" and spec.name == name)
            or (spec.kind == "inbox" and name == "inbox")
            or (spec.kind == "phase" and (name == number or f"phase:{name}" in spec.tags))
        ):
            wanted = spec
    if wanted is None:
        typer.echo(f"no deployment '{name}'", err=True)
        raise typer.Exit(2)
    typer.echo(f"{wanted.full_name}  ({wanted.entrypoint})")
    for s in wanted.schedules:
        typer.echo(f"[{'active' if s.active else 'inactive'}] {s.timezone}")
        if s.rrule is None:
            typer.echo(f"  every {s.interval_seconds}s from {s.anchor_date}")
            continue
        typer.echo("  " + s.rrule.replace("\n", "\n  "))
        days = occurrences(s.rrule, s.timezone)
        typer.echo(f"  {len(days)} occurrences: " + ", ".join(f"{d:%m-%d}" for d in days))
    if not wanted.schedules:
        typer.echo("(no schedule)")


def register(app: typer.Typer) -> None:
    app.add_typer(schedules_app, name="schedules")


if __name__ == "__main__":  # until wired into `campaign`: python -m campaign.cli_schedules write|check|show
    schedules_app()
