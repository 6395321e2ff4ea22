"""Every knob of okr-rollout, read from OKR_ROLLOUT_* environment variables (nothing else reads env)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OKR_ROLLOUT_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./okr-rollout.db",
        description="SQLAlchemy URL; SQLite in a local file by default, postgresql+psycopg://... to scale out.",
    )
    playbooks_dir: Path = Field(default=PROJECT_ROOT / "playbooks", description="Where playbook YAML files live.")
    max_body_bytes: int = Field(default=1024 * 1024, description="Requests with a larger body get 413.")
    idempotency_ttl_hours: int = Field(default=24, description="How long Idempotency-Key replays are kept.")
    page_size_default: int = 50
    page_size_max: int = 500
    sqlite_busy_timeout_ms: int = Field(default=15_000, description="How long SQLite waits for the write lock.")
    host: str = "127.0.0.1"
    port: int = 8000


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
