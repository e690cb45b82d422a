"""The Temporal Schedule `point-du-jour`: « Votre point du jour » at 09:00 Paris, Monday to Friday (#17 item 3).

The worker makes sure it exists when it starts (an existing one is left as it is, so an operator's pause in
Temporal UI holds); `temporal schedule describe --schedule-id point-du-jour` shows it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from labellisation.contract import DIGEST_SCHEDULE_ID, WORKFLOW_DAILY_DIGEST

#: A morning missed while the server was down is still sent within this window (a catch-up), not later.
CATCHUP_WINDOW = timedelta(hours=8)


def digest_schedule(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(WORKFLOW_DAILY_DIGEST, id=DIGEST_SCHEDULE_ID, task_queue=task_queue),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    second=[ScheduleRange(0)],
                    minute=[ScheduleRange(0)],
                    hour=[ScheduleRange(9)],
                    day_of_week=[ScheduleRange(1, 5)],  # Monday to Friday; the activity skips public holidays
                    comment="Votre point du jour",
                )
            ],
            time_zone_name="Europe/Paris",
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
    )


async def ensure_digest_schedule(client: Client, task_queue: str) -> bool:
    """Create the schedule if it is missing: True if created, False if it was there."""
    try:
        await client.create_schedule(DIGEST_SCHEDULE_ID, digest_schedule(task_queue))
    except ScheduleAlreadyRunningError:
        return False
    return True
