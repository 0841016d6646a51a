"""Prefect flows: one per phase of the plan, one generic duty flow run per recurring duty."""
