"""The reminder and escalation policy of a process definition (DOMAIN.md defaults).

Every delay is an ISO 8601 duration. With the `fr_working_days` calendar the
review delays count working days (P10D = ten working days) and reminders go
out on working mornings (README, "Rules of the clocks"); with `none` they are
plain durations, which is what the `demo` process uses to fit a path into minutes.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from labellisation.durations import validate_duration

IsoDuration = Annotated[str, AfterValidator(validate_duration)]


class ReminderPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Remind the holder this long before a step is due.
    before_due: list[IsoDuration] = Field(default_factory=lambda: ["P30D", "P7D"], max_length=10)
    #: Once overdue, remind the holder at this interval.
    overdue_every: IsoDuration = "P7D"
    #: Overdue this long: escalate to the coordinator.
    escalate_after: IsoDuration = "P21D"
    #: Overdue this long: tell the coordinator a pause is advised.
    pause_advised_after: IsoDuration = "P45D"
    #: A submission undecided this long reminds the reviewers (working days with a calendar).
    review_reminder_after: IsoDuration = "P10D"
    #: ... and this long escalates to the coordinator.
    review_escalation_after: IsoDuration = "P20D"
    #: Changes requested and nothing resubmitted this long: remind the holder.
    changes_pending_after: IsoDuration = "P14D"
    #: After a request for changes the holder has at least this long before the step is overdue: it is due
    #: again at the later of its deadline and this delay (projects started with the fair clocks, README).
    changes_delay: IsoDuration = "P14D"
    #: While paused, the review reminder repeats at this interval after the review date until resume or
    #: abandon (working days with a calendar; projects started with the fair clocks).
    pause_review_every: IsoDuration = "P10D"
    #: Local time of day reminders go out, with a working-day calendar.
    send_at: time = time(9, 0)
