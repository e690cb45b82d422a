"""`/health` says what is down, never how (no exception names), and answers within its timeout (#18 item 4)."""

from __future__ import annotations

import asyncio

import pytest

from labellisation.api import reports
from tests.support.api import Api


async def test_a_database_that_hangs_is_reported_down_within_the_timeout_without_its_error(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hangs() -> None:
        await asyncio.sleep(3600)

    monkeypatch.setattr(api.store, "ping", hangs)
    monkeypatch.setattr(reports, "HEALTH_TIMEOUT", reports.HEALTH_TIMEOUT / 30)
    answered = await asyncio.wait_for(api.call(None, "GET", "/health"), 60)  # a bound against a hang, not a figure
    assert answered.status_code == 503
    assert answered.json() == {"temporal": "ok", "database": "injoignable"}


async def test_an_error_is_logged_not_shown(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuses() -> None:
        raise ConnectionRefusedError("[Errno 111] secret-host.internal:5432")

    monkeypatch.setattr(api.store, "ping", refuses)
    answered = await api.call(None, "GET", "/health")
    assert answered.status_code == 503 and answered.json()["database"] == "injoignable"
    assert "ConnectionRefused" not in answered.text and "secret-host" not in answered.text
