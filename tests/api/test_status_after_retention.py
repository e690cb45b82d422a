"""`GET /projects/{id}` once Temporal has deleted the project's workflow (retention): the records answer.

On the real dev server (the one of `make run`), which deletes a workflow as retention does
(`DeleteWorkflowExecution`); the time-skipping test server cannot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import workflow_id
from tests.support.api import DOCS, PROJECT, Api, api, profile
from tests.support.servers import start_dev_server

__all__ = ["api"]  # the API over the dev server below

P = f"/projects/{PROJECT}"
STEP_FIELDS = ("id", "label", "stage", "status", "started_at", "due_at", "submitted_at", "decided_at", "days_overdue")


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Here the `api` fixture runs over the real dev server."""
    async with await start_dev_server() as env:
        yield env


async def delete_workflow(client: Client, project_id: str) -> None:
    """What the namespace's retention does to a closed workflow; returns once the server no longer knows it."""
    execution = WorkflowExecution(workflow_id=workflow_id(project_id))
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(namespace=client.namespace, workflow_execution=execution)
    )
    for _ in range(600):  # the deletion runs in the background (about 30 s here): bounded wait
        try:
            await client.get_workflow_handle(workflow_id(project_id)).describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return
            raise
        await asyncio.sleep(0.1)
    raise AssertionError("the server never deleted the workflow")


def steps(status: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: s[k] for k in STEP_FIELDS} for s in status["steps"]]


async def test_a_project_whose_workflow_is_gone_is_shown_from_the_records(api: Api) -> None:
    assert not api.env.supports_time_skipping  # the dev server
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    path = f"{P}/steps/opportunity_study"
    assert (await api.call("holder", "POST", f"{path}/submissions", DOCS)).status_code == 200
    changes = {"decision": "request_changes", "comment": "Chiffrer les besoins", "decision_id": "ret-1"}
    assert (await api.call("reviewer", "POST", f"{path}/decisions", changes)).status_code == 200
    assert (await api.call("coordinator", "POST", f"{P}/abandon", {"reason": "Porteur dissous"})).status_code == 200
    await api.env.client.get_workflow_handle(workflow_id(PROJECT)).result()
    history = await api.history()
    before = (await api.call("coordinator", "GET", P)).json()
    assert before["source"] == "workflow" and before["state"] == "abandoned"

    await delete_workflow(api.env.client, PROJECT)

    response = await api.call("holder", "GET", P)
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["source"] == "records"
    for key in ("project_id", "name", "region", "process", "process_version", "state", "current_stage",
                "current_stage_label", "planned_opening", "pause", "cohorts", "next_due_at"):  # fmt: skip
        assert after[key] == before[key], key
    assert steps(after) == steps(before)
    study = after["steps"][0]
    assert (study["status"], study["submitted_at"] is not None, study["decided_at"] is not None) == (
        "changes_requested", True, True,
    )  # fmt: skip
    assert after["next_reminder"] is None
    assert (await api.call("coordinator", "GET", f"{P}/history")).json() == history
    refused = await api.call("coordinator", "PUT", f"{P}/planned-opening", {"planned_opening": "2029-03-15",
                                                                            "reason": "r"})  # fmt: skip
    assert (refused.status_code, refused.json()) == (
        409, {"detail": "le projet est terminé (abandonné) : il n'accepte plus de commande"},
    )  # fmt: skip
    unknown = await api.call("coordinator", "GET", "/projects/edp-inconnue")
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "projet inconnu : 'edp-inconnue'"})
