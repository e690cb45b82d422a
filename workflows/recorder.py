"""The event recorder: every accepted event of a project, written to the records database.

Workflow code (deterministic): it runs beside the main loop as its own task.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordsActivities
    from labellisation.path.limits import record_batch_end
    from labellisation.path.state import EventKind, Project
    from labellisation.records.schema import RecordEvents, project_record

from workflows.refusals import cancelled

#: Events per record activity before the size bound (runs started before that patch keep this rule).
RECORD_BATCH = 200
#: Patch: record batches bounded in bytes too (labellisation/path/limits.py).
PATCH_RECORD_BATCH_BYTES = "record-batch-bytes"
#: Patch: a batch of the senders' events only is recorded first by a local activity (#20 part 1).
PATCH_SENT_RECORDED_INLINE = "sent-recorded-inline"
#: What the reminder sender adds once an e-mail went out or was refused: no command waits on their record.
SENDERS_EVENTS = frozenset({EventKind.REMINDER_SENT, EventKind.DELIVERY_FAILED})
#: The activity's timeouts and retries (as a local activity: one attempt, within the workflow task's timeout).
RECORD_TIMEOUT = timedelta(seconds=30)
RECORD_RETRIES = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))
INLINE_TIMEOUT = timedelta(seconds=5)


class EventRecorder:
    """Writes the run's events in order, in batches; owns how many of them the database holds.

    While the database is down the activity retries with backoff and the project goes on
    accepting commands.

    With the patch `sent-recorded-inline`, a batch made only of the senders' events (an e-mail sent or refused)
    is tried once as a local activity: it runs in the workflow task that marked the e-mail, so a reminder costs
    one activity task and one workflow task fewer (the Monday burst). When that attempt fails, the batch goes
    the usual way. A batch with a command's events never waits in the workflow task: the command's answer would.
    """

    def __init__(self, recorded: int) -> None:
        #: How many of the current project's events the records database holds.
        self.recorded = recorded

    def caught_up(self, project: Project) -> bool:
        return self.recorded == len(project.events)

    async def run(self, current: Callable[[], Project]) -> None:
        """Record forever (until cancelled); `current` gives the project as it stands."""
        by_size = workflow.patched(PATCH_RECORD_BATCH_BYTES)
        inline = workflow.patched(PATCH_SENT_RECORDED_INLINE)
        while True:
            await workflow.wait_condition(lambda: self.recorded < len(current().events))
            project = current()
            if by_size:
                end = record_batch_end(project.events, self.recorded)
            else:
                end = min(len(project.events), self.recorded + RECORD_BATCH)
            batch = RecordEvents(project=project_record(project), events=project.events[self.recorded : end])
            if not (inline and all(e.kind in SENDERS_EVENTS for e in batch.events) and await self._inline(batch)):
                await workflow.execute_activity_method(
                    RecordsActivities.record_events,
                    batch,
                    start_to_close_timeout=RECORD_TIMEOUT,
                    retry_policy=RECORD_RETRIES,
                )
            self.recorded = end

    @staticmethod
    async def _inline(batch: RecordEvents) -> bool:
        """One attempt as a local activity: whether the batch was recorded."""
        try:
            await workflow.execute_local_activity_method(
                RecordsActivities.record_events,
                batch,
                schedule_to_close_timeout=INLINE_TIMEOUT,  # a wait for a free slot counted too
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except FailureError as error:
            if cancelled(error):  # the recorder itself cancelled: not a failure to record
                raise
            return False  # the records database did not answer: the usual way, retried with backoff
        return True
