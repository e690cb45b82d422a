"""Catch-up reminders wait for the next working morning (#17 item 3): a reminder found more than an hour late
(the worker was down, a timer fired late) goes out at once in office hours, else the next working morning; a
process without a calendar (`demo`) sends at once. Expected moments are written by hand (Paris time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from labellisation.path.reminders import Kind, PlannedReminder, Role, catch_up_moment
from tests.support.path_helpers import new_project

PARIS = ZoneInfo("Europe/Paris")
#: Tuesday 9 March 2027, 09:00: the reminder's moment.
DUE = datetime(2027, 3, 9, 9, 0, tzinfo=PARIS)


def reminder(at: datetime = DUE) -> PlannedReminder:
    return PlannedReminder(
        reminder_id="r", kind=Kind.OVERDUE, to=Role.HOLDER, step="opportunity_study", nominal=at, at=at
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE + timedelta(minutes=30), DUE),  # on time (within the hour): its own moment
        (datetime(2027, 3, 9, 15, 0, tzinfo=PARIS), DUE),  # late, but in office hours: at once
        (datetime(2027, 3, 10, 2, 0, tzinfo=PARIS), datetime(2027, 3, 10, 9, 0, tzinfo=PARIS)),  # at night
        (datetime(2027, 3, 9, 21, 0, tzinfo=PARIS), datetime(2027, 3, 10, 9, 0, tzinfo=PARIS)),  # in the evening
        (datetime(2027, 3, 13, 11, 0, tzinfo=PARIS), datetime(2027, 3, 15, 9, 0, tzinfo=PARIS)),  # Saturday: Monday
        (datetime(2027, 5, 7, 22, 0, tzinfo=PARIS), datetime(2027, 5, 10, 9, 0, tzinfo=PARIS)),  # Friday night,
        # then a weekend (8 May, a Saturday, is a holiday anyway): Monday
    ],
)
def test_a_late_reminder_goes_out_at_once_in_office_hours_else_the_next_working_morning(
    now: datetime, expected: datetime
) -> None:
    assert catch_up_moment(new_project(), reminder(), now) == expected


def test_a_process_without_a_calendar_sends_at_once() -> None:
    night = datetime(2027, 3, 10, 2, 0, tzinfo=PARIS)
    assert catch_up_moment(new_project("demo"), reminder(), night) == DUE
