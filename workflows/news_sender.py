"""The news sender: people hear of events at once (labellisation/path/news.py), one e-mail per audience per batch.

Workflow code (deterministic): it runs beside the main loop as its own task, as the reminder sender does.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from labellisation.path.news import event_number, news_requests
    from labellisation.path.state import Project
    from labellisation.path.transitions import mark_delivery_failed

from workflows.refusals import delivery_refusal
from workflows.reminder_sender import SEND_RETRIES, SEND_TIMEOUT

#: Patch: news e-mails of events. Runs started before it send none (their next run, after continue-as-new, does).
PATCH_NEWS = "news-emails"


class NewsSender:
    """Owns which of the project's events have been announced: those numbered below `announced`.

    Every event changes `next_event_number`, so the events not yet announced are the project's events numbered
    from `announced` on. A new run (continue-as-new) starts with every earlier event announced: the run before it
    settled its news first. While the SMTP server is down the activities retry with backoff; the events of a
    batch count as announced once every e-mail of it went out.
    """

    def __init__(self, announced: int) -> None:
        self.announced = announced
        #: False in runs from before the patch `news-emails`: they send nothing and are always caught up. Set by
        #: the workflow when its run starts.
        self.enabled = False

    def caught_up(self, project: Project) -> bool:
        return not self.enabled or self.announced >= project.next_event_number

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
            project = current()
            end = project.next_event_number
            batch = [e for e in project.events if self.announced <= event_number(e) < end]
            requests = news_requests(project, batch)
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
            if refused_any:
                wake()
