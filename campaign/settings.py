"""One settings object for the whole system.

Values come from the environment (prefix-free names such as ``DATABASE_URL``), from a ``.env``
file, or for secrets from ``<NAME>_FILE`` pointing at a file that holds the value (Docker/K8s
secrets style). A bad value stops start-up with a message naming the setting.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR = PROJECT_ROOT / "var"

# Settings that may hold credentials; each may also be given as <NAME>_FILE.
SECRET_SETTINGS = ("DATABASE_URL", "DRILL_URL", "CONTACT_SECRETS")


class SettingsError(RuntimeError):
    """Raised when a setting is invalid; the message names the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=True)

    DATABASE_URL: SecretStr = Field(
        default=SecretStr(""),
        description="SQLAlchemy URL. Empty means the embedded SQLite file var/campaign.db.",
    )
    VAR_DIR: Path = Field(default=DEFAULT_VAR, description="Where the embedded database, inbox and caches live.")
    CATALOG: Path = Field(
        default=PROJECT_ROOT / "catalog" / "taonan-2018.yaml", description="The plan catalog loaded by default."
    )
    CAMPAIGN: str = Field(default="taonan-2018", description="Campaign code used when a command names none.")
    CONTACTS_FILE: Path | None = Field(
        default=None, description="Apprise-style contact directory (YAML). None: every message goes to the outbox."
    )
    DRILL_URL: SecretStr = Field(
        default=SecretStr(""), description="Drill mode: send every message to this one Apprise URL, marked 【演练】."
    )
    NOTIFY_CONCURRENCY: int = Field(default=8, ge=1, le=64, description="Recipients sent to at once.")
    NOTIFY_TIMEOUT_SECONDS: float = Field(default=8.0, gt=0, le=60, description="Per-channel connect/read timeout.")
    SQLITE_BUSY_TIMEOUT_MS: int = Field(default=30000, ge=0)

    @field_validator("DATABASE_URL")
    @classmethod
    def _url_scheme(cls, v: SecretStr) -> SecretStr:
        raw = v.get_secret_value()
        if raw and not raw.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        return v

    @property
    def database_url(self) -> str:
        raw = self.DATABASE_URL.get_secret_value()
        if raw:
            if raw.startswith("postgresql://"):
                raw = "postgresql+psycopg://" + raw.removeprefix("postgresql://")
            return raw
        return f"sqlite:///{self.VAR_DIR / 'campaign.db'}"

    @property
    def inbox_dir(self) -> Path:
        return self.VAR_DIR / "inbox"


def _resolve_file_secrets(env: dict[str, str]) -> dict[str, str]:
    """Turn NAME_FILE=path into NAME=<content> for the secret settings, without logging values."""
    out: dict[str, str] = {}
    for name in SECRET_SETTINGS:
        path = env.get(f"{name}_FILE")
        if path and not env.get(name):
            try:
                out[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from exc
    return out


def load_settings(**overrides: object) -> Settings:
    try:
        from_files = _resolve_file_secrets(dict(os.environ))
        return Settings(**{**from_files, **overrides})  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"setting {name}: {err['msg']}")
        raise SettingsError("; ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
