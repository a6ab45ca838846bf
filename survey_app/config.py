"""Settings read from SURVEY_* environment variables (never at import time)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .db import DEFAULT_POOL_SIZE

PLACEHOLDER_SECRET = "change-me"  # noqa: S105  (the value we refuse)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_database_url() -> str:
    return f"sqlite:///{(Path.cwd() / 'var' / 'survey.sqlite3').as_posix()}"


class Settings(BaseSettings):
    """Application settings; each field maps to SURVEY_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="SURVEY_", extra="ignore")

    environment: Literal["development", "demo", "test", "production"] = "development"
    database_url: str = Field(default_factory=default_database_url)
    db_pool_size: int = Field(default=DEFAULT_POOL_SIZE, ge=1)  # connections kept open per worker
    secret_key: str = PLACEHOLDER_SECRET
    base_url: str = "http://127.0.0.1:8000"
    questionnaire_dir: Path = PROJECT_ROOT / "questionnaires"
    static_dir: Path = PROJECT_ROOT / "static"
    audio_dir: Path = Field(default_factory=lambda: Path.cwd() / "var" / "audio")
    default_language: str = "vi"
    max_body_bytes: int = 256 * 1024
    max_upload_bytes: int = 8 * 1024 * 1024  # staff file imports (XLSX, audio) under /admin and /reports
    province_code: str = "14"  # Sơn La
    htmx_cdn_url: str = "https://cdn.jsdelivr.net/npm/htmx.org@2.0.4/dist/htmx.min.js"
    htmx_sri: str = "sha384-HGfztofotfshcF7+8n44JQL2oJmowVChPTg48S+jvZoztPfvwD79OC/LTtG6dMp+"

    # Abuse resistance on public forms (each threshold configurable).
    device_window_hours: float = 12
    submit_burst_limit: int = 30
    submit_burst_minutes: int = 10
    min_completion_seconds: int = 20
    staff_burst_count: int = 5
    staff_burst_minutes: int = 15
    duplicate_burst_count: int = 3
    duplicate_burst_minutes: int = 60
    straight_line_min_items: int = 8
    # Desk kiosks (one shared tablet per desk): minimum seconds between two responses, burst flag.
    kiosk_min_interval_seconds: int = 20
    kiosk_burst_count: int = 10
    kiosk_burst_minutes: int = 10
    kiosk_idle_reset_seconds: int = 120
    # Accounts.
    login_max_failures_account: int = 5
    login_max_failures_client: int = 20
    login_lock_minutes: int = 15
    min_password_length: int = 10
    # Data protection.
    contact_retention_days: int = 180
    rate_event_retention_hours: int = 48

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "SURVEY_SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
