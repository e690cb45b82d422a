"""A reminder found late at night waits for the next working morning (#17 item 3), in the reminder sender the
workflow runs: what it finds due and when it wakes next, with and without the patch `catch-up-mornings`.

The sender's `due` and `next_at` are plain code over the pure model (no Temporal call), so they are exercised
directly: the time-skipping server cannot stand for a worker that is down (it skips no time while a workflow
task waits for one), and a real outage would take hours. The rule itself: tests/labellisation/test_catch_up.py.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.support.office_hours import working_morning_on_or_after
from tests.support.path_helpers import new_project
from workflows.reminder_sender import ReminderSender

PARIS = ZoneInfo("Europe/Paris")


def test_a_reminder_found_at_night_waits_for_the_next_working_morning() -> None:
    project = new_project()
    sender = ReminderSender()
    sender.catch_up = True
    first = sender.planned(project)[0]
    back = first.at.astimezone(PARIS) + timedelta(hours=17)  # the worker is back at 02:00 the next night
    morning = working_morning_on_or_after(back.date())
    assert first not in sender.due(project, back)  # nothing at night
    assert sender.next_at(project, back) == morning  # the workflow wakes then
    assert first in sender.due(project, morning)  # and sends it


def test_runs_without_the_patch_send_a_late_reminder_at_once() -> None:
    project = new_project()
    sender = ReminderSender()
    first = sender.planned(project)[0]
    back = first.at.astimezone(PARIS) + timedelta(hours=17)
    assert sender.due(project, back)[0] == first
