"""Settings come from LABELLISATION_* variables and refuse bad values by name."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from labellisation.settings import Settings, SettingsError, get_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults_serve_the_embedded_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LABELLISATION_TEMPORAL_ADDRESS", "LABELLISATION_DATA_DIR", "LABELLISATION_TASK_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.temporal_address == "127.0.0.1:7233"
    assert settings.task_queue == "labellisation"
    assert settings.data_dir == Path(".data")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELLISATION_TEMPORAL_ADDRESS", "temporal:7233")
    monkeypatch.setenv("LABELLISATION_LOG_FORMAT", "json")
    monkeypatch.setenv("LABELLISATION_MAX_CONCURRENT_ACTIVITIES", "8")
    settings = Settings()
    assert settings.temporal_address == "temporal:7233"
    assert settings.log_format == "json"
    assert settings.max_concurrent_activities == 8


def test_a_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELLISATION_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError) as error:
        Settings()
    assert "log_format" in str(error.value)


def test_get_settings_names_each_bad_variable_but_not_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELLISATION_MAX_CONCURRENT_ACTIVITIES", "0")
    monkeypatch.setenv("LABELLISATION_SMTP_PORT", "s3cr3t-port")
    with pytest.raises(SettingsError) as error:
        get_settings()
    message = str(error.value)
    assert "LABELLISATION_MAX_CONCURRENT_ACTIVITIES" in message
    assert "LABELLISATION_SMTP_PORT" in message
    assert "s3cr3t-port" not in message


@pytest.mark.parametrize(
    "command",
    [
        [str(Path(sys.executable).parent / "labellisation"), "dev", "--data-dir", "unused"],
        [sys.executable, str(ROOT / "worker.py")],
    ],
    ids=["labellisation-dev", "worker"],
)
def test_entry_points_refuse_a_bad_variable_in_one_line(command: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "LABELLISATION_LOG_FORMAT": "xml"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "LABELLISATION_LOG_FORMAT" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "unused").exists(), "nothing may start with a bad setting"
