"""No worker answers (all down, or a misnamed task queue): the API says 503 with `Retry-After` after its deadline,
instead of waiting for ever (#18 item 4). On the real dev server, whose updates and queries wait for a worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from labellisation.api import commands
from labellisation.api.app import create_app
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.tokens import ApiUser, UserRole, create_token
from tests.support.api import profile
from tests.support.driver import running
from tests.support.mailbox import Mailbox
from tests.support.servers import start_dev_server

#: A bound against a hang, not a speed figure: the deadline below is 1 s.
HANG = 60


@dataclass
class NoWorkerApi:
    http: httpx.AsyncClient
    env: WorkflowEnvironment
    settings: Settings


@pytest.fixture
async def no_worker_api(
    sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[NoWorkerApi]:
    monkeypatch.setattr(commands, "COMMAND_DEADLINE", timedelta(seconds=1))
    settings = mailbox.settings.model_copy(update={"task_queue": task_queue, "default_process": "demo"})
    coordinator = ApiUser(role=UserRole.COORDINATOR, name="Claire", email="claire@fnep.fr")
    headers = {"Authorization": f"Bearer {await create_token(sqlite_store, coordinator)}"}
    async with await start_dev_server() as env:
        app = create_app(settings, client=env.client, store=sqlite_store)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=headers) as http:
            yield NoWorkerApi(http, env, settings)


async def test_with_no_worker_a_start_a_command_and_a_status_read_answer_503_then_work_once_one_is_back(
    no_worker_api: NoWorkerApi, sqlite_store: RecordStore
) -> None:
    http, env, settings = no_worker_api.http, no_worker_api.env, no_worker_api.settings
    started = await asyncio.wait_for(http.post("/projects", json=profile()), HANG)
    assert started.status_code == 503, started.text
    assert started.headers["Retry-After"] == "30"
    assert started.json()["detail"].startswith("aucun worker ne répond pour l'instant : le projet 'edp-belfort'")

    status = await asyncio.wait_for(http.get("/projects/edp-belfort"), HANG)
    assert status.status_code == 503 and status.headers["Retry-After"] == "30", status.text

    async with running(env.client, settings.task_queue, sqlite_store, settings):  # a worker comes back
        for _ in range(100):  # the start waited for it: the project is there
            status = await http.get("/projects/edp-belfort")
            if status.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert status.status_code == 200, status.text
        assert status.json()["current_stage"] == "opportunity"

    # gone again: a command is not lost, it waits for the next worker
    pause = {"reason": "Attente du vote de la Région", "review_on": "2030-01-15"}
    paused = await asyncio.wait_for(http.post("/projects/edp-belfort/pause", json=pause), HANG)
    assert paused.status_code == 503, paused.text
    assert "la commande n'a pas encore été traitée" in paused.json()["detail"]
    async with running(env.client, settings.task_queue, sqlite_store, settings):
        for _ in range(100):
            status = await http.get("/projects/edp-belfort")
            if status.status_code == 200 and status.json()["state"] == "paused":
                break
            await asyncio.sleep(0.1)
    assert status.json()["state"] == "paused", status.text
