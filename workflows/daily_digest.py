"""« Votre point du jour » (#17 item 3): started by the Temporal Schedule `point-du-jour` at 09:00 Paris, Monday to
Friday; one activity sends each person who chose it one e-mail listing what waits for them.

Workflow code (deterministic): the day is the workflow's own clock, in Paris.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from labellisation.contract import WORKFLOW_DAILY_DIGEST
    from labellisation.french_calendar import zone
    from labellisation.mail.digest import DailyDigestsSent, SendDailyDigests

from workflows.reminder_sender import SEND_RETRIES

#: Long enough for every person's digest on one worker; a retry skips the digests already sent.
DIGESTS_TIMEOUT = timedelta(minutes=30)


@workflow.defn(name=WORKFLOW_DAILY_DIGEST)
class DailyDigestWorkflow:
    @workflow.run
    async def run(self) -> DailyDigestsSent:
        day = workflow.now().astimezone(zone()).date()
        return await workflow.execute_activity_method(
            NotificationActivities.send_daily_digests,
            SendDailyDigests(day=day),
            start_to_close_timeout=DIGESTS_TIMEOUT,
            retry_policy=SEND_RETRIES,
        )
