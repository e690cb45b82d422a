"""Settings: environment variables prefixed `LABELLISATION_`, validated at start."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Defaults serve the embedded one-machine stack (`labellisation dev`)."""

    model_config = SettingsConfigDict(env_prefix="LABELLISATION_", extra="ignore")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "labellisation"
    data_dir: Path = Path(".data")
    log_format: Literal["console", "json"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_concurrent_activities: int = Field(default=50, ge=1, le=1000)
    max_concurrent_workflow_tasks: int = Field(default=50, ge=1, le=1000)
    max_cached_workflows: int = Field(default=1000, ge=0, le=100_000)
    #: SQLAlchemy async URL; default: a SQLite file under the data dir.
    database_url: str | None = None

    def records_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir}/records.db"


@lru_cache
def get_settings() -> Settings:
    return Settings()
