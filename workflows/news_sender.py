"""The news sender: people hear of events at once (labellisation/path/news.py), one e-mail per audience per batch.

Workflow code (deterministic): it runs beside the main loop as its own task, as the reminder sender does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from labellisation.path.news import SendNews, event_number, news_requests
    from labellisation.path.reminders import Role, office_moment
    from labellisation.path.state import Project
    from labellisation.path.transitions import mark_delivery_failed

from workflows.refusals import delivery_refusal
from workflows.reminder_sender import SEND_RETRIES, SEND_TIMEOUT

#: Patch: news e-mails of events. Runs started before it send none (their next run, after continue-as-new, does).
PATCH_NEWS = "news-emails"
#: Patch: news found outside office hours waits for the next working morning, and news due with reminders to the
#: same reader goes out in their e-mail (#17 item 3).
PATCH_NEWS_MORNINGS = "news-mornings"


class NewsSender:
    """Owns which of the project's events have been announced: those numbered below `announced`.

    Every event changes `next_event_number`, so the events not yet announced are the project's events numbered
    from `announced` on. A new run (continue-as-new) starts with every earlier event announced: the run before it
    settled its news first. While the SMTP server is down the activities retry with backoff; the events of a
    batch count as announced once every e-mail of it went out.

    With `mornings` (the patch `news-mornings`), news found outside office hours waits for the next working
    morning (`office_moment`), and the news due for a reader who has reminders due at the same moment is
    `take`n by the reminder sender into their e-mail: one e-mail per reader per project per morning.
    """

    def __init__(self, announced: int) -> None:
        self.announced = announced
        #: False in runs from before the patch `news-emails`: they send nothing and are always caught up. Set by
        #: the workflow when its run starts.
        self.enabled = False
        #: Hold news found at night until the next working morning; let reminders carry it (`news-mornings`).
        self.mornings = False
        #: Whether reminders are due or on their way (set by the workflow with `mornings`): news waits for them.
        self.reminders_busy: Callable[[], bool] = lambda: False
        #: When the news not yet announced goes out (None: no news pending, or not yet looked at).
        self.held_until: datetime | None = None
        #: The audiences whose news a reminder e-mail carried: their events numbered below this are announced.
        self.taken: dict[Role, int] = {}
        #: True while a batch of news e-mails is on its way: nothing of it may be taken.
        self.sending = False

    def caught_up(self, project: Project) -> bool:
        return not self.enabled or self.announced >= project.next_event_number

    def take(self, project: Project, to: Role, now: datetime) -> SendNews | None:
        """The news due now for `to`, carried by a reminder e-mail to the same reader: counted as announced."""
        if not (self.enabled and self.mornings) or self.sending or self.caught_up(project):
            return None
        due_at = self.held_until if self.held_until is not None else office_moment(project, now)
        if due_at > now:
            return None
        end = project.next_event_number
        request = next((r for r in self._requests(project, end) if r.to is to), None)
        if request is not None:
            self.taken[to] = end
        return request

    def _requests(self, project: Project, end: int) -> list[SendNews]:
        """The e-mails of the events from `announced` (or, for an audience a reminder e-mail carried news to, from
        there) to `end`, one per audience."""
        if not self.taken:
            batch = [e for e in project.events if self.announced <= event_number(e) < end]
            return news_requests(project, batch)
        found: list[SendNews] = []
        for role in Role:
            start = self.taken.get(role, self.announced)
            batch = [e for e in project.events if start <= event_number(e) < end]
            found += [r for r in news_requests(project, batch) if r.to is role]
        return found

    async def _hold(self, current: Callable[[], Project]) -> None:
        """Wait for office hours (`office_moment`), then while reminders are due or on their way."""
        now = workflow.now()
        self.held_until = office_moment(current(), now)
        if self.held_until > now:
            await workflow.sleep(self.held_until - now)
        await workflow.wait_condition(lambda: not self.reminders_busy())

    async def run(
        self, current: Callable[[], Project], replace: Callable[[Project], None], wake: Callable[[], None]
    ) -> None:
        """Announce forever (until cancelled), when `enabled` (the run's decision on the patch `news-emails`).

        `current` gives the project as it stands; an e-mail the mail server refused for good is kept with
        `replace` (a `delivery_failed` event, itself news for the coordinators) and `wake` tells the main loop.
        """
        if not self.enabled:
            return
        while True:
            await workflow.wait_condition(lambda: self.announced < current().next_event_number)
            if self.mornings:
                await self._hold(current)
            self.sending = True
            project = current()
            end = project.next_event_number
            requests = self._requests(project, end)
            sending = [
                workflow.start_activity_method(
                    NotificationActivities.send_news,
                    request,
                    start_to_close_timeout=SEND_TIMEOUT,
                    retry_policy=SEND_RETRIES,
                )
                for request in requests
            ]
            refused_any = False
            for request, handle in zip(requests, sending, strict=True):
                try:
                    await handle
                except ActivityError as error:
                    refusal = delivery_refusal(error)
                    if refusal is None:
                        raise
                    refused, reason = refusal
                    now = workflow.now()
                    replace(
                        mark_delivery_failed(
                            current(), request.news_id, "news", None, request.to.value, refused, reason, now
                        )
                    )
                    refused_any = True
            self.announced = end
            self.taken.clear()
            self.held_until = None
            self.sending = False
            if refused_any:
                wake()
