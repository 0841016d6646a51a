"""Core of the campaign orchestrator: settings, the working-day calendar, periods, the CLI."""
