"""Serve every deployment of the loaded plan from this process (the embedded default)."""

from __future__ import annotations

from prefect import serve

from campaign.settings import get_settings
from plan.load import load_plan_file


def serve_all() -> None:
    from schedules.deployments import runner_deployments

    plan, _ = load_plan_file(get_settings().CATALOG)
    deployments = runner_deployments(plan)
    print(f"serving {len(deployments)} deployments; Ctrl-C stops everything", flush=True)
    serve(*deployments, print_starting_message=False)
