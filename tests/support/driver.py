"""A small driver that talks to a project workflow like a user would."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

from labellisation.contract import QUERY_STATUS, WORKFLOW_NAME, ProjectOutcome, StartProject, Update, workflow_id
from labellisation.path.commands import DecideStep, SubmitStep
from labellisation.path.state import Document, Event, ProjectProfile
from labellisation.path.status import ProjectStatus, StatusRequest
from labellisation.process import load_process
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.worker_app import build_worker

DOCUMENT = Document(title="Étude d'opportunité, version finale", url="https://docs.example.org/etude.pdf")


EndedActivity = Literal[
    "activity_task_completed_event_attributes",
    "activity_task_failed_event_attributes",
    "activity_task_timed_out_event_attributes",
    "activity_task_canceled_event_attributes",
]
#: The history fields of an activity that ended, one way or another.
ENDED_ACTIVITY_FIELDS: tuple[EndedActivity, ...] = (
    "activity_task_completed_event_attributes",
    "activity_task_failed_event_attributes",
    "activity_task_timed_out_event_attributes",
    "activity_task_canceled_event_attributes",
)


@dataclass
class ProjectDriver:
    handle: WorkflowHandle[Any, Any]

    @classmethod
    async def start(
        cls,
        client: Client,
        task_queue: str,
        profile: ProjectProfile,
        *,
        process: str = "fnep",
        snapshot: bool = True,
        max_history_events: int | None = None,
    ) -> ProjectDriver:
        start = StartProject(
            profile=profile,
            process_id=process,
            process=load_process(process) if snapshot else None,
            max_history_events=max_history_events,
        )
        handle = await client.start_workflow(
            WORKFLOW_NAME, start, id=workflow_id(profile.project_id), task_queue=task_queue, result_type=ProjectOutcome
        )
        return cls(handle)

    async def update(self, name: Update, command: Any) -> ProjectStatus:
        for attempt in range(20):
            try:
                status: ProjectStatus = await self.handle.execute_update(name, command, result_type=ProjectStatus)
                return status
            except RPCError as error:
                # The server refuses updates for a moment after a failed workflow task (a worker died
                # mid-task): retry, as the API does.
                if "Workflow Task in failed state" not in error.message or attempt == 19:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    async def submit(self, step: str, actor: str = "porteur@edp-belfort.fr") -> ProjectStatus:
        return await self.update(Update.SUBMIT, SubmitStep(actor=actor, step=step, documents=[DOCUMENT]))

    async def decide(
        self, step: str, decision: str = "approve", comment: str = "", decision_id: str | None = None
    ) -> ProjectStatus:
        command = DecideStep(
            actor="relecteur@fnep.fr", step=step, decision=decision, comment=comment, decision_id=decision_id
        )
        return await self.update(Update.DECIDE, command)

    async def pass_step(self, step: str) -> ProjectStatus:
        await self.submit(step)
        return await self.decide(step, "approve")

    async def status(self, include_history: bool = False, as_of: datetime | None = None) -> ProjectStatus:
        request = StatusRequest(include_history=include_history, as_of=as_of)
        status: ProjectStatus = await self.handle.query(QUERY_STATUS, request, result_type=ProjectStatus)
        return status

    async def recorded(self, store: RecordStore) -> list[Event]:
        """Wait (bounded) until the records database holds every event of the project.

        The workflow keeps only the events of its current run (earlier runs' are in the
        database alone), so the database must end with exactly those.
        """
        for _ in range(200):
            status = await self.status(include_history=True)
            in_workflow = status.history or []
            history = await store.history(status.project_id)
            if history[len(history) - len(in_workflow) :] == in_workflow and history:
                return history
            await asyncio.sleep(0.05)
        raise AssertionError("the records database never caught up with the workflow")

    async def quiet(self) -> None:
        """Wait (bounded) until no activity of the project is pending: its records written, its e-mails sent."""
        for _ in range(200):
            if not await self.pending_activities():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the project's activities never finished")

    async def pending_activities(self) -> int:
        """Activities scheduled and not yet ended, read from the history (the Java time-skipping server cannot
        describe a workflow with a datetime search attribute)."""
        events = (await self.handle.fetch_history()).events
        scheduled = {e.event_id for e in events if e.HasField("activity_task_scheduled_event_attributes")}
        ended = {
            getattr(e, field).scheduled_event_id for e in events for field in ENDED_ACTIVITY_FIELDS if e.HasField(field)
        }
        return len(scheduled - ended)

    async def history_length(self) -> int:
        history = await self.handle.fetch_history()
        return len(history.events)


def running(client: Client, task_queue: str, store: RecordStore, settings: Settings | None = None) -> Worker:
    """A worker; without settings its reminders go to 127.0.0.1:1025, so tests pass a mailbox's."""
    return build_worker(client, task_queue, store=store, settings=settings)
