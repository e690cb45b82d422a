"""A background task of the project (recorder, reminders, news) that stops on an error its code did not expect
fails the workflow task, visibly and retried, instead of leaving the project to go on without it."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import ApplicationError

from labellisation.records.schema import RecordEvents
from labellisation.records.store import RecordStore
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile

BROKEN = "les événements ne peuvent pas être enregistrés"
UNSENDABLE = "l'intention d'envoi ne peut pas être écrite"


class RefusesEveryBatch(RecordStore):
    """A records database that refuses every batch for good: the record activity fails without retrying."""

    async def record(self, request: RecordEvents) -> int:
        raise ApplicationError(BROKEN, type="Broken", non_retryable=True)


class RefusesEveryIntent(RecordStore):
    """A records database that records events but refuses, for good, the intent written before each e-mail."""

    async def record_attempt(self, email_key: str, project_id: str | None) -> int:
        raise ApplicationError(UNSENDABLE, type="Broken", non_retryable=True)


async def workflow_task_failures(handle: WorkflowHandle[object, object]) -> list[str]:
    """The messages of the workflow task failures in the history, waiting up to 10 s for the first."""
    failures: list[str] = []
    for _ in range(100):
        history = await handle.fetch_history()
        failures = [
            e.workflow_task_failed_event_attributes.failure.message
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        ]
        if failures:
            break
        await asyncio.sleep(0.1)
    return failures


async def test_a_recorder_that_stops_fails_the_workflow_task_and_not_the_project(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    store = RefusesEveryBatch(sqlite_store.engine)
    async with running(client, task_queue, store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        failures = await workflow_task_failures(project.handle)  # the activity fails at once, then the next task
        description = await project.handle.describe()
    assert failures, "the workflow task should fail when the recorder stops"
    assert "recorder stopped" in failures[0] and BROKEN in failures[0], failures[0]
    assert description.status == WorkflowExecutionStatus.RUNNING  # the project is kept, for a fixed worker to carry on


async def test_a_sender_that_stops_fails_the_workflow_task(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    # The project's first e-mail is its « Nouvelle phase » news, sent at once (office hours): its intent refused
    # for good, the news sender stops.
    store = RefusesEveryIntent(sqlite_store.engine)
    async with running(client, task_queue, store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        failures = await workflow_task_failures(project.handle)
        description = await project.handle.describe()
    assert failures, "the workflow task should fail when the news sender stops"
    assert "news sender stopped" in failures[0] and UNSENDABLE in failures[0], failures[0]
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert mailbox.messages() == []  # the intent comes first: nothing went out
