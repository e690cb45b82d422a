"""The HTTP API over a real Temporal test server, worker, records database and SMTP sink (fixture `api`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from labellisation.api.app import create_app
from labellisation.contract import workflow_id
from labellisation.records.store import RecordStore
from labellisation.tokens import ApiUser, UserRole, create_token
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox

PROJECT = "edp-belfort"
OTHER = "edp-lyon"


def profile(project_id: str = PROJECT, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project_id": project_id,
        "name": "École de Production de Belfort",
        "region": "Bourgogne-Franche-Comté",
        "department": "90",
        "city": "Belfort",
        "trades": ["Usinage"],
        "diplomas": ["CAP Conducteur d'installations de production"],
        "holder": {"name": "Association EdP Belfort", "email": "porteur@edp-belfort.fr"},
        "planned_opening": "2028-09-01",
        "process": "demo",
    }
    body.update(changes)
    return body


DOCS = {"documents": [{"title": "Étude", "url": "https://docs.example.org/etude.pdf"}], "comment": "Version finale"}


@dataclass
class Api:
    http: httpx.AsyncClient
    tokens: dict[str, str]
    store: RecordStore
    env: WorkflowEnvironment
    calls: list[str] = field(default_factory=list)

    async def history(self, project_id: str = PROJECT) -> list[dict[str, Any]]:
        """The API's history, in one read (it shows the events not yet recorded too).

        Then it waits until the records database holds them, for the tests that read the portfolio next.
        """
        response = await self.call("coordinator", "GET", f"/projects/{project_id}/history")
        assert response.status_code == 200, response.text
        await ProjectDriver(self.env.client.get_workflow_handle(workflow_id(project_id))).recorded(self.store)
        events: list[dict[str, Any]] = response.json()
        return events

    async def call(self, who: str | None, method: str, path: str, json: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return await self.http.request(method, path, json=json, headers=headers)


@pytest.fixture
async def api(
    time_skipping_env: WorkflowEnvironment, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> AsyncIterator[Api]:
    settings = mailbox.settings.model_copy(update={"task_queue": task_queue, "default_process": "demo"})
    tokens = {
        "coordinator": await create_token(
            sqlite_store, ApiUser(role=UserRole.COORDINATOR, name="Claire Coordination", email="claire@fnep.fr")
        ),
        "reviewer": await create_token(
            sqlite_store, ApiUser(role=UserRole.REVIEWER, name="Romain Relecteur", email="romain@fnep.fr")
        ),
        "holder": await create_token(
            sqlite_store,
            ApiUser(role=UserRole.HOLDER, name="Paul Porteur", email="paul@edp-belfort.fr", projects=[PROJECT]),
        ),
        "other_holder": await create_token(
            sqlite_store,
            ApiUser(role=UserRole.HOLDER, name="Léa Lyon", email="lea@edp-lyon.fr", projects=[OTHER]),
        ),
        "bad": "lab_not-a-real-token",
    }
    app = create_app(settings, client=time_skipping_env.client, store=sqlite_store)
    async with (
        running(time_skipping_env.client, task_queue, sqlite_store, settings),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield Api(http, tokens, sqlite_store, time_skipping_env)
