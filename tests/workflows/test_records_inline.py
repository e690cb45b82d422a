"""A reminder's event recorded in the workflow task that marked it (#20 part 1, patch `sent-recorded-inline`): a
local activity, one attempt; when it fails the batch goes the usual way, an activity retried with backoff."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.exc import OperationalError
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import ACTIVITY_RECORD_EVENTS
from labellisation.path.state import EventKind
from labellisation.records.schema import RecordEvents
from labellisation.records.store import RecordStore
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile

#: Past the `fnep` process's first reminder (its first step is due in six months, reminded 30 days before).
PAST_THE_FIRST_REMINDERS = timedelta(days=160)
LOCAL_ACTIVITY_MARKER = "core_local_activity"


def local_activity(event: HistoryEvent) -> str | None:
    """The activity type a local activity's marker names (`record_events`); None for another event."""
    attributes = event.marker_recorded_event_attributes
    if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED or attributes.marker_name != LOCAL_ACTIVITY_MARKER:
        return None
    return str(json.loads(attributes.details["data"].payloads[0].data)["activity_type"])


class InlineUnreachable(RecordStore):
    """A records database the local activity cannot reach, while the activity can."""

    inline_attempts = 0

    async def record(self, request: RecordEvents) -> int:
        if activity.info().is_local:
            self.inline_attempts += 1
            raise OperationalError("INSERT INTO events", {}, ConnectionResetError("connection reset by peer"))
        return await super().record(request)


async def reminders_path(
    client: Client, task_queue: str, store: RecordStore, mailbox: Mailbox, env: WorkflowEnvironment
) -> tuple[int, int, list[str]]:
    """A project left until its first reminders went out and every event is recorded: how many reminders the
    workflow marked sent, how many of those events the records database holds, and its history's activities
    scheduled and markers recorded, in order."""
    async with running(client, task_queue, store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        await env.sleep(PAST_THE_FIRST_REMINDERS)
        await project.recorded(store)
        await project.quiet()
        status = await project.status(include_history=True)
        history = await project.handle.fetch_history()
    sent = [e for e in status.history or [] if e.kind is EventKind.REMINDER_SENT]
    in_records = {e.event_id for e in await store.history(status.project_id)}
    kinds = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            kinds.append(f"activity {event.activity_task_scheduled_event_attributes.activity_type.name}")
        elif (local := local_activity(event)) is not None:
            kinds.append(f"local {local}")
    return len(sent), sum(e.event_id in in_records for e in sent), kinds


async def test_a_sent_reminders_event_is_recorded_without_an_activity_task(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    sent, recorded, kinds = await reminders_path(client, task_queue, sqlite_store, mailbox, time_skipping_env)
    assert sent >= 1 and recorded == sent
    sends = [i for i, kind in enumerate(kinds) if kind.startswith("activity send_reminder")]
    assert sends
    for i in sends:  # what the workflow did next: record the reminder's event inline
        assert kinds[i + 1] == f"local {ACTIVITY_RECORD_EVENTS}", kinds[i:]


async def test_when_the_inline_record_fails_the_event_is_recorded_by_the_activity(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    store = InlineUnreachable(sqlite_store.engine)
    sent, recorded, kinds = await reminders_path(client, task_queue, store, mailbox, time_skipping_env)
    assert sent >= 1 and recorded == sent
    assert store.inline_attempts == kinds.count(f"local {ACTIVITY_RECORD_EVENTS}") >= sent
    sends = [i for i, kind in enumerate(kinds) if kind.startswith("activity send_reminder")]
    for i in sends:  # one attempt inline, then the usual activity
        assert kinds[i + 1 : i + 3] == [f"local {ACTIVITY_RECORD_EVENTS}", f"activity {ACTIVITY_RECORD_EVENTS}"]
