"""From the plan to Prefect: which dates each duty has work on, schedules and deployments."""
