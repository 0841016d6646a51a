"""The notifier's settings, read once per run (tests and the CLI pass their own)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

# A 'sending' claim whose lease was not renewed for this long belongs to a dead run. Renewed
# (wall clock) right before each person's messages go out, so only a crash leaves one behind.
LEASE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class NotifyConfig:
    contacts_file: Path | None = None  # None: every message goes to the local outbox
    drill_url: str | None = None  # drill mode: every message goes to this one Apprise URL
    concurrency: int = 8  # recipients sent to at once
    timeout: float = 8.0  # Apprise's per-service deadline; connect/read timeouts are set below it
    storage_path: Path | None = None  # Apprise persistent store (WeCom access tokens)
    lease: dt.timedelta = LEASE

    @property
    def drill(self) -> bool:
        return bool(self.drill_url)

    @classmethod
    def from_settings(cls, **overrides: object) -> NotifyConfig:
        from campaign.settings import get_settings

        s = get_settings()
        cfg = cls(
            contacts_file=s.CONTACTS_FILE,
            drill_url=s.DRILL_URL.get_secret_value() or None,
            concurrency=s.NOTIFY_CONCURRENCY,
            timeout=s.NOTIFY_TIMEOUT_SECONDS,
            storage_path=s.VAR_DIR / "apprise",
        )
        return replace(cfg, **overrides) if overrides else cfg  # type: ignore[arg-type]
