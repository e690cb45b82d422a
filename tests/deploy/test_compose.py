"""The production compose file: it parses, and every service gets what it needs.

No Docker engine runs on these machines: the file is checked, never started here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from labellisation.settings import Settings

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
#: What the worker and the API cannot run without in production.
REQUIRED = {
    "LABELLISATION_TEMPORAL_ADDRESS", "LABELLISATION_TEMPORAL_NAMESPACE", "LABELLISATION_DATABASE_URL",
    "LABELLISATION_SMTP_HOST", "LABELLISATION_SMTP_PORT", "LABELLISATION_MAIL_FROM", "LABELLISATION_REVIEWERS_EMAIL",
    "LABELLISATION_COORDINATOR_EMAIL", "LABELLISATION_PUBLIC_BASE_URL",
}  # fmt: skip


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed (make test does)")
def test_docker_compose_accepts_the_file() -> None:
    result = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_service_the_readme_names_exists() -> None:
    services = set(compose()["services"])
    assert services == {
        "postgresql", "temporal", "temporal-admin", "temporal-ui", "mailpit", "db-upgrade", "worker", "api",
    }  # fmt: skip
    readme = (ROOT / "README.md").read_text()
    for service in services:
        assert f"`{service}`" in readme, f"the README does not explain {service}"


@pytest.mark.parametrize("service", ["worker", "api", "db-upgrade"])
def test_the_app_services_get_every_setting_they_need(service: str) -> None:
    env = compose()["services"][service]["environment"]
    assert set(env) >= REQUIRED
    known = {f"LABELLISATION_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= known, f"unknown settings: {set(env) - known}"
    assert "postgresql+asyncpg://" in env["LABELLISATION_DATABASE_URL"]


def test_start_order_and_scale() -> None:
    services = compose()["services"]
    assert services["worker"]["deploy"]["replicas"] == 2
    for app in ("worker", "api"):
        assert services[app]["depends_on"]["db-upgrade"]["condition"] == "service_completed_successfully"
        assert services[app]["depends_on"]["temporal-admin"]["condition"] == "service_completed_successfully"
    assert services["temporal"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    admin = " ".join(services["temporal-admin"]["command"])
    for attribute in ("SchoolStage=Keyword", "SchoolRegion=Keyword", "SchoolState=Keyword", "SchoolNextDueAt=Datetime"):
        assert attribute in admin
    assert "--retention" in admin


def test_no_secret_is_hard_coded_except_marked_local_defaults() -> None:
    for line in COMPOSE.read_text().splitlines():
        if "PASSWORD" in line and ":-" in line and "local-only" in line:
            assert "${" in line  # overridable from the environment
