"""`GET /projects/{id}/history` read right after a command shows it, though the records database lags behind.

The workflow records its events in the background, a moment after answering: the history adds the
workflow's events the records database does not hold yet. Here that moment is held open (the records
activity waits until the test lets it write), so the lag is real whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from labellisation.records.schema import RecordEvents
from tests.support.api import DOCS, OTHER, PROJECT, Api, profile
from tests.support.driver import ProjectDriver, running
from tests.support.profiles import make_profile

STEP = "opportunity_study"
DECISION = {"decision": "approve", "comment": "Très bon dossier", "decision_id": "fnep-2026-17"}


@pytest.fixture
async def records_gate(api: Api, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[asyncio.Event]:
    """While cleared, the records activity waits: the records database holds nothing new until it is set again."""
    gate = asyncio.Event()
    gate.set()
    record = api.store.record

    async def record_when_open(request: RecordEvents) -> int:
        await gate.wait()
        return await record(request)

    monkeypatch.setattr(api.store, "record", record_when_open)
    try:
        yield gate
    finally:
        gate.set()  # the worker stops only once its activities are done


async def history(api: Api, project_id: str = PROJECT) -> list[dict[str, Any]]:
    response = await api.call("coordinator", "GET", f"/projects/{project_id}/history")
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def test_a_decision_is_in_the_history_read_right_after_it(api: Api, records_gate: asyncio.Event) -> None:
    started = await api.call("coordinator", "POST", "/projects", profile())
    assert started.status_code == 201, started.text
    submitted = await api.call("holder", "POST", f"/projects/{PROJECT}/steps/{STEP}/submissions", DOCS)
    assert submitted.status_code == 200, submitted.text
    driver = ProjectDriver(api.env.client.get_workflow_handle(f"school-{PROJECT}"))
    before = await driver.recorded(api.store)
    records_gate.clear()
    decided = await api.call("reviewer", "POST", f"/projects/{PROJECT}/steps/{STEP}/decisions", DECISION)
    assert decided.status_code == 200, decided.text
    assert await api.store.history(PROJECT) == before  # the lag is real: the decision is not recorded yet

    events = await history(api)  # one read, no retry
    assert [e["event_id"] for e in events[: len(before)]] == [e.event_id for e in before]
    approved = [e for e in events if e["kind"] == "step_approved"]
    assert [(e["step"], e["actor"], e["comment"]) for e in approved] == [
        (STEP, "Romain Relecteur <romain@fnep.fr>", "Très bon dossier")
    ]

    records_gate.set()
    recorded = await driver.recorded(api.store)
    assert [e.event_id for e in recorded] == [e["event_id"] for e in events]
    assert await history(api) == events  # once recorded: the same events, none twice


async def test_without_a_worker_the_history_is_the_records_within_seconds(api: Api) -> None:
    queue = "worker-stopped-soon"
    async with running(api.env.client, queue, api.store):
        driver = await ProjectDriver.start(api.env.client, queue, make_profile(OTHER), process="demo")
        await driver.pass_step(STEP)
        recorded = await driver.recorded(api.store)
    # The workflow is open and nobody answers its query: the records alone, after a short wait.
    began = time.monotonic()
    events = await history(api, OTHER)
    assert time.monotonic() - began < 5
    assert [e["event_id"] for e in events] == [e.event_id for e in recorded]


async def test_an_unknown_project_has_no_history(api: Api) -> None:
    response = await api.call("coordinator", "GET", "/projects/edp-inconnu/history")
    assert response.status_code == 404
    assert response.json() == {"detail": "projet inconnu : 'edp-inconnu'"}
