"""`campaign import` and `campaign template`: township spreadsheets in, blank templates out.

Registered on the main app by ``campaign.cli`` (``register(app)``). Each file is imported in its
own transaction: one rejected file never holds back (or half-writes) another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaign.cli_common import now
from campaign.clock import parse_as_of
from campaign.settings import get_settings

MAX_PRINTED_ISSUES = 500  # the full list goes to --errors-dir (or the inbox's .errors.txt)


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given; a folder stands for the files directly inside it."""
    from tasks.imports.inbox import importable

    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if importable(f)))
        else:
            out.append(p)
    return out


def import_command(
    paths: Annotated[list[Path], typer.Argument(help="Files (.xlsx or .csv) or folders of them")],
    report_type: Annotated[
        str | None, typer.Option("--type", help="Report type key; default: detect from the headers")
    ] = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Campaign code (default: settings CAMPAIGN)")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Import time recorded as received_at; default now")
    ] = None,
    errors_dir: Annotated[
        Path | None, typer.Option("--errors-dir", help="Write <name>.errors.txt here for rejected files")
    ] = None,
) -> None:
    """Import township reports: each file is accepted whole or rejected with every problem listed."""
    from storage.db import session_scope
    from tasks.imports.importer import ImportResult, import_file

    code = campaign or get_settings().CAMPAIGN
    when = parse_as_of(as_of) or now()
    files = _expand(paths)
    if not files:
        typer.echo("没有要导入的文件 / no files to import", err=True)
        raise typer.Exit(2)
    rejected = 0
    for path in files:
        if not path.is_file():
            typer.echo(f"✘ {path}: 文件不存在 / no such file")
            rejected += 1
            continue
        with session_scope() as s:
            result: ImportResult = import_file(s, path, campaign=code, now=when, report_type=report_type)
        mark = "✔" if result.accepted else "✘"
        typer.echo(f"{mark} {result.summary()}  [{result.seconds:.2f}s]")
        for w in result.warnings:
            typer.echo(f"  ! {w}")
        if not result.accepted:
            rejected += 1
            for issue in result.issues[:MAX_PRINTED_ISSUES]:
                typer.echo(f"  - {issue.line()}")
            if len(result.issues) > MAX_PRINTED_ISSUES:
                typer.echo(f"  … 另有 {len(result.issues) - MAX_PRINTED_ISSUES} 处问题未列出 / more not shown")
            if errors_dir is not None:
                errors_dir.mkdir(parents=True, exist_ok=True)
                (errors_dir / f"{path.name}.errors.txt").write_text(result.error_report(), encoding="utf-8-sig")
    if rejected:
        raise typer.Exit(1)


def template_command(
    report_type: Annotated[str, typer.Argument(metavar="TYPE", help="Report type key or name, e.g. village_days")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the .xlsx (default: <名称>.xlsx)")] = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Campaign code (default: settings CAMPAIGN)")
    ] = None,
) -> None:
    """Write an .xlsx template: the headers, one example row and a 说明 sheet explaining each column."""
    from storage.catalog import current_plan
    from storage.db import session_scope
    from tasks.imports.template import find_report_type, write_template

    with session_scope() as s:
        _, plan = current_plan(s, campaign or get_settings().CAMPAIGN)
    try:
        rt = find_report_type(plan, report_type)
    except KeyError as exc:
        typer.echo(str(exc.args[0]), err=True)
        raise typer.Exit(2) from None
    path = write_template(plan, rt.key, out or Path(f"{rt.name}.xlsx"))
    typer.echo(f"{path}: {rt.name}（{rt.key}）模板，{len(rt.columns)} 列")


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("template")(template_command)
