"""The reminder sender: each planned reminder goes out once it is due.

Workflow code (deterministic): it runs beside the main loop as its own task.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import takewhile

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from labellisation.path.reminders import (
        PlannedReminder,
        ReminderSent,
        planned_reminders,
        send_request,
    )
    from labellisation.path.state import Project
    from labellisation.path.transitions import mark_delivery_failed, mark_reminder_sent

from workflows.refusals import delivery_refusal

#: Patch: reminders due at the same moment sent together, not one after another.
PATCH_REMINDERS_TOGETHER = "reminders-together"
#: At most this many reminder e-mails in flight for one project.
REMINDERS_AT_ONCE = 10


class ReminderSender:
    """Owns the reminders planned for the project as it stands, and whether a batch is on its way.

    Reminders due at the same moment (the steps of one stage share their deadline) go out
    together, up to REMINDERS_AT_ONCE; runs started before that patch send one at a time.
    While the SMTP server is down the activities retry with backoff; a reminder is marked
    sent (and its event recorded) only once it went out.
    """

    def __init__(self) -> None:
        #: True from the moment a batch is scheduled until every reminder of it is marked sent.
        self.sending = False
        #: Ask the activity to end on a permanent refusal rather than retry (runs with the patch `news-emails`).
        self.report_refusals = False
        #: `planned_reminders` of one version of the project: (its `next_event_number`, the list).
        self._planned: tuple[int, list[PlannedReminder]] | None = None

    def planned(self, project: Project) -> list[PlannedReminder]:
        """`planned_reminders(project)`, computed once per version of the project.

        Every change to a project emits an event, so `next_event_number` names its version.
        The wait condition of `run` is evaluated after every event of every activation:
        recomputing every series there was the workflow's largest CPU cost.
        """
        version = project.next_event_number
        if self._planned is None or self._planned[0] != version:
            self._planned = (version, planned_reminders(project))
        return self._planned[1]

    def due(self, project: Project, now: datetime) -> list[PlannedReminder]:
        return list(takewhile(lambda r: r.at <= now, self.planned(project)))  # sorted by `at`

    def next_at(self, project: Project, now: datetime) -> datetime | None:
        """When the next reminder not yet due goes out."""
        return min((r.at for r in self.planned(project) if r.at > now), default=None)

    async def run(
        self, current: Callable[[], Project], replace: Callable[[Project], None], wake: Callable[[], None]
    ) -> None:
        """Send forever (until cancelled).

        `current` gives the project as it stands, `replace` keeps it once a reminder is marked
        sent, and `wake` tells the main loop, once the whole batch is marked.
        """
        together = workflow.patched(PATCH_REMINDERS_TOGETHER)
        while True:
            await workflow.wait_condition(lambda: bool(self.due(current(), workflow.now())))
            due = self.due(current(), workflow.now())[: REMINDERS_AT_ONCE if together else 1]
            self.sending = True
            # Scheduled here, in order, in this activation (as one `execute_activity` was before).
            sending = [self._start(current(), reminder) for reminder in due]
            for reminder, handle in zip(due, sending, strict=True):
                try:
                    sent = await handle
                except ActivityError as error:
                    refusal = delivery_refusal(error)
                    if refusal is None:
                        raise
                    refused, reason = refusal
                    kind, audience = reminder.kind.value, reminder.to.value
                    failed = mark_delivery_failed(
                        current(), reminder.reminder_id, kind, reminder.step, audience, refused, reason, workflow.now()
                    )
                    replace(failed)
                    continue
                replace(
                    mark_reminder_sent(
                        current(), reminder.reminder_id, reminder.kind.value, reminder.step, sent.to, workflow.now()
                    )
                )
            self.sending = False
            wake()

    def _start(self, project: Project, reminder: PlannedReminder) -> workflow.ActivityHandle[ReminderSent]:
        request = send_request(project, reminder, workflow.now())
        if self.report_refusals:
            request.report_refusals = True
        return workflow.start_activity_method(
            NotificationActivities.send_reminder,
            request,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(hours=1)),
        )
