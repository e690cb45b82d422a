"""The event recorder: every accepted event of a project, written to the records database.

Workflow code (deterministic): it runs beside the main loop as its own task.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordsActivities
    from labellisation.path.limits import record_batch_end
    from labellisation.path.state import Project
    from labellisation.records.schema import RecordEvents, project_record

#: Events per record activity before the size bound (runs started before that patch keep this rule).
RECORD_BATCH = 200
#: Patch: record batches bounded in bytes too (labellisation/path/limits.py).
PATCH_RECORD_BATCH_BYTES = "record-batch-bytes"


class EventRecorder:
    """Writes the run's events in order, in batches; owns how many of them the database holds.

    While the database is down the activity retries with backoff and the project goes on
    accepting commands.
    """

    def __init__(self, recorded: int) -> None:
        #: How many of the current project's events the records database holds.
        self.recorded = recorded

    def caught_up(self, project: Project) -> bool:
        return self.recorded == len(project.events)

    async def run(self, current: Callable[[], Project]) -> None:
        """Record forever (until cancelled); `current` gives the project as it stands."""
        by_size = workflow.patched(PATCH_RECORD_BATCH_BYTES)
        while True:
            await workflow.wait_condition(lambda: self.recorded < len(current().events))
            project = current()
            if by_size:
                end = record_batch_end(project.events, self.recorded)
            else:
                end = min(len(project.events), self.recorded + RECORD_BATCH)
            batch = RecordEvents(project=project_record(project), events=project.events[self.recorded : end])
            await workflow.execute_activity_method(
                RecordsActivities.record_events,
                batch,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)),
            )
            self.recorded = end
