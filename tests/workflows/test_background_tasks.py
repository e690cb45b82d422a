"""A background task of the project (recorder, reminders, news) that stops on an error its code did not expect
fails the workflow task, visibly and retried, instead of leaving the project to go on without it."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError

from labellisation.records.schema import RecordEvents
from labellisation.records.store import RecordStore
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile

BROKEN = "les événements ne peuvent pas être enregistrés"


class RefusesEveryBatch(RecordStore):
    """A records database that refuses every batch for good: the record activity fails without retrying."""

    async def record(self, request: RecordEvents) -> int:
        raise ApplicationError(BROKEN, type="Broken", non_retryable=True)


async def test_a_recorder_that_stops_fails_the_workflow_task_and_not_the_project(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    store = RefusesEveryBatch(sqlite_store.engine)
    async with running(client, task_queue, store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        failures: list[str] = []
        for _ in range(100):  # the activity fails at once, then the next workflow task
            history = await project.handle.fetch_history()
            failures = [
                e.workflow_task_failed_event_attributes.failure.message
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            ]
            if failures:
                break
            await asyncio.sleep(0.1)
        description = await project.handle.describe()
    assert failures, "the workflow task should fail when the recorder stops"
    assert "recorder stopped" in failures[0] and BROKEN in failures[0], failures[0]
    assert description.status == WorkflowExecutionStatus.RUNNING  # the project is kept, for a fixed worker to carry on
