"""Settings come from LABELLISATION_* variables and refuse bad values by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from labellisation.settings import Settings


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
