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
    from labellisation.path.news import SendNews, SendRemindersWithNews
    from labellisation.path.reminders import (
        PlannedReminder,
        ReminderSent,
        Role,
        SendReminders,
        catch_up_moment,
        planned_reminders,
        send_request,
    )
    from labellisation.path.state import Project
    from labellisation.path.transitions import mark_delivery_failed, mark_reminder_sent

from workflows.refusals import delivery_refusal

#: Patch: reminders due at the same moment sent together, not one after another.
PATCH_REMINDERS_TOGETHER = "reminders-together"
#: Patch: reminders to the same reader due at the same moment go out as one e-mail listing each (#17 item 3).
PATCH_REMINDERS_MERGED = "reminders-merged"
#: Patch: a reminder found late (a catch-up) outside office hours waits for the next working morning (#17 item 3).
PATCH_CATCH_UP = "catch-up-mornings"
#: How long one send may take, and how it is retried while the SMTP server is down.
SEND_TIMEOUT = timedelta(minutes=1)
SEND_RETRIES = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(hours=1))
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
        #: Hold a late reminder found at night until the next working morning (runs with `catch-up-mornings`).
        self.catch_up = False
        #: The news sender's `take` (runs with `news-mornings`): the news due for a reader goes in their e-mail.
        self.take_news: Callable[[Project, Role, datetime], SendNews | None] | None = None
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
        if self.catch_up:
            return [r for r in self.planned(project) if catch_up_moment(project, r, now) <= now]
        return list(takewhile(lambda r: r.at <= now, self.planned(project)))  # sorted by `at`

    def next_at(self, project: Project, now: datetime) -> datetime | None:
        """When the next reminder not yet due goes out (a catch-up held until the next working morning: then)."""
        if self.catch_up:
            moments = (catch_up_moment(project, r, now) for r in self.planned(project))
            return min((moment for moment in moments if moment > now), default=None)
        return min((r.at for r in self.planned(project) if r.at > now), default=None)

    async def run(
        self, current: Callable[[], Project], replace: Callable[[Project], None], wake: Callable[[], None]
    ) -> None:
        """Send forever (until cancelled).

        `current` gives the project as it stands, `replace` keeps it once a reminder is marked
        sent, and `wake` tells the main loop, once the whole batch is marked.
        """
        together = workflow.patched(PATCH_REMINDERS_TOGETHER)
        merged = together and workflow.patched(PATCH_REMINDERS_MERGED)
        while True:
            await workflow.wait_condition(lambda: bool(self.due(current(), workflow.now())))
            due = self.due(current(), workflow.now())[: REMINDERS_AT_ONCE if together else 1]
            self.sending = True
            groups = _by_reader(due) if merged else [[reminder] for reminder in due]
            news = [self._news_for(current(), group) if merged else None for group in groups]
            # Scheduled here, in order, in this activation (as one `execute_activity` was before).
            sending = [self._start(current(), group, extra) for group, extra in zip(groups, news, strict=True)]
            for group, extra, handle in zip(groups, news, sending, strict=True):
                try:
                    sent = await handle
                except ActivityError as error:
                    refusal = delivery_refusal(error)
                    if refusal is None:
                        raise
                    refused, reason = refusal
                    if extra is not None:  # the news it carried was refused with it
                        replace(
                            mark_delivery_failed(
                                current(), extra.news_id, "news", None, extra.to.value, refused, reason, workflow.now()
                            )
                        )
                    for r in group:
                        replace(
                            mark_delivery_failed(
                                current(),
                                r.reminder_id,
                                r.kind.value,
                                r.step,
                                r.to.value,
                                refused,
                                reason,
                                workflow.now(),
                            )
                        )
                    continue
                for r in group:
                    replace(mark_reminder_sent(current(), r.reminder_id, r.kind.value, r.step, sent.to, workflow.now()))
            self.sending = False
            wake()

    def _news_for(self, project: Project, group: list[PlannedReminder]) -> SendNews | None:
        return self.take_news(project, group[0].to, workflow.now()) if self.take_news is not None else None

    def _start(
        self, project: Project, group: list[PlannedReminder], news: SendNews | None
    ) -> workflow.ActivityHandle[ReminderSent]:
        """One reminder alone (`send_reminder`), several to the same reader as one e-mail (`send_reminders`), or
        with the news due for that reader (`send_reminders_with_news`)."""
        requests = [send_request(project, reminder, workflow.now()) for reminder in group]
        for request in requests:
            request.report_refusals = self.report_refusals
        if news is not None:
            return workflow.start_activity_method(
                NotificationActivities.send_reminders_with_news,
                SendRemindersWithNews(requests=requests, news=news),
                start_to_close_timeout=SEND_TIMEOUT,
                retry_policy=SEND_RETRIES,
            )
        if len(requests) == 1:
            return workflow.start_activity_method(
                NotificationActivities.send_reminder,
                requests[0],
                start_to_close_timeout=SEND_TIMEOUT,
                retry_policy=SEND_RETRIES,
            )
        return workflow.start_activity_method(
            NotificationActivities.send_reminders,
            SendReminders(requests=requests),
            start_to_close_timeout=SEND_TIMEOUT,
            retry_policy=SEND_RETRIES,
        )


def _by_reader(due: list[PlannedReminder]) -> list[list[PlannedReminder]]:
    """The reminders due together, grouped by whom they go to (holder, reviewers, coordinator), in order."""
    groups: dict[str, list[PlannedReminder]] = {}
    for reminder in due:
        groups.setdefault(reminder.to.value, []).append(reminder)
    return list(groups.values())
