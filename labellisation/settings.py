"""Settings: environment variables prefixed `LABELLISATION_`, validated at start."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from labellisation.codec import parse_keys
from labellisation.mail.sender import SmtpSettings


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
    #: Each cached project costs about 0.3 MB of worker memory; a project out of the cache replays its run.
    max_cached_workflows: int = Field(default=500, ge=0, le=100_000)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "labellisation@fnep.fr"
    #: Where reviewers' and coordinators' reminders go (set them in production).
    reviewers_email: str = "relecteurs@fnep.fr"
    coordinator_email: str = "coordination@fnep.fr"
    #: Base of the links in e-mails: <public_base_url>/projects/<id>.
    public_base_url: str = "http://127.0.0.1:8000"
    #: Signs the web session cookie (HMAC-SHA256); at least 32 characters, required unless public_base_url is local.
    secret_key: SecretStr | None = None
    #: Prometheus endpoint of the worker's metrics (Temporal SDK and ours); None: off.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    #: The API's Prometheus metrics on a port of their own (internal network); None: at `/metrics` on the API's.
    api_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    #: Process of projects started without one (`fnep` or `demo`).
    default_process: str = "fnep"
    #: Temporal payloads encrypted with AES-GCM: `id:base64-key[,id:base64-key...]`, the first encrypts, all decrypt
    #: (labellisation/codec.py); none: payloads in the clear (the dev stack).
    payload_keys: SecretStr | None = None
    #: Years after a project finished before its holder's personal data is anonymised (`labellisation privacy
    #: purge`, to run daily or monthly); the records of the path stay.
    personal_data_years: int = Field(default=5, ge=1, le=100)
    #: The network's references the cohorts are compared with (#19), and where they come from.
    network_success_rate: float = Field(default=0.93, gt=0, le=1)
    network_job_offers_per_young: float = Field(default=5.0, gt=0, le=100)
    network_references_source: str = (
        "FNEP, chiffres annoncés par les Écoles de Production (93 % de réussite, 5 à 6 offres)"
    )
    #: Requests per minute per caller (token, else session, else address) before 429; 0: no limit (#18).
    api_rate_limit: int = Field(default=1200, ge=0, le=1_000_000)
    #: SQLAlchemy async URL; default: a SQLite file under the data dir.
    database_url: str | None = None

    @field_validator("payload_keys")
    @classmethod
    def _keys_readable(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_keys(value.get_secret_value())  # the message names the key, never its value
        return value

    def smtp(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.smtp_host, port=self.smtp_port, starttls=self.smtp_starttls, use_tls=self.smtp_tls,
            username=self.smtp_user, password=self.smtp_password, mail_from=self.mail_from,
        )  # fmt: skip

    def records_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir}/records.db"


class SettingsError(ValueError):
    """A `LABELLISATION_*` variable has a bad value; the message names the variable, never its value."""


def _describe(error: ValidationError) -> str:
    prefix = Settings.model_config.get("env_prefix", "")
    parts = []
    for item in error.errors():
        name = f"{prefix}{item['loc'][0]}".upper() if item["loc"] else prefix.rstrip("_")
        parts.append(f"{name} : {item['msg'].removeprefix('Value error, ')}")
    return "réglage invalide : " + "; ".join(parts)


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once; a bad variable raises SettingsError (one sentence, no traceback)."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
