"""The clocks of a project: which rules they follow, the calendar they count in, and what pauses give back.

A project keeps the clock rules it was built with (`Project.clock_rules`), so a running project never
changes behaviour under a new deployment:

- 1 (`FIRST_CLOCK_RULES`): the rules before the fair clocks, kept byte for byte for projects started
  before them (their workflow histories must replay);
- 2 (`FAIR_CLOCKS`): the rules of the README's "Rules of the clocks" (issue #14): a clock runs only while
  the step is in the hands of the party it measures and the project is active; deadlines end a day;
  reminders before a deadline never come after their day; the calendar follows the project's department.

The workflow gives new projects `LATEST_CLOCK_RULES` behind the patch `fair-clocks`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from labellisation.durations import Duration
from labellisation.french_calendar import add_working_days, is_alsace_moselle, is_working_day, next_send_time, zone
from labellisation.path.state import EventKind, Project
from labellisation.process import Calendar

FIRST_CLOCK_RULES = 1
FAIR_CLOCKS = 2
LATEST_CLOCK_RULES = FAIR_CLOCKS

#: The events that finish a project: its clocks stop then.
_FINISHING = frozenset({EventKind.PROJECT_COMPLETED, EventKind.STEP_REJECTED, EventKind.PROJECT_ABANDONED})
_DAY = timedelta(days=1)


def fair(project: Project) -> bool:
    return project.clock_rules >= FAIR_CLOCKS


@dataclass(frozen=True)
class WorkCalendar:
    """How one project counts time: in Paris days on working mornings, or in exact instants (`demo`)."""

    calendar: Calendar
    timezone: str
    send_at: time
    alsace_moselle: bool = False

    @property
    def name(self) -> str:
        """What the status shows: `none`, `fr_working_days` or `fr_working_days_alsace_moselle`."""
        if self.calendar is Calendar.NONE:
            return Calendar.NONE.value
        return f"{self.calendar.value}_alsace_moselle" if self.alsace_moselle else self.calendar.value

    @property
    def counts_days(self) -> bool:
        """A working-day calendar counts whole days; without one (`demo`) every instant is exact."""
        return self.calendar is not Calendar.NONE

    def day(self, moment: datetime) -> date:
        return moment.astimezone(zone(self.timezone)).date()

    def end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, time(23, 59, 59), tzinfo=zone(self.timezone))

    def shift(self, moment: datetime, duration: Duration) -> datetime:
        """`moment` moved by `duration`: on the local clock with a calendar (23:59:59 stays 23:59:59)."""
        return duration.add_to(moment.astimezone(zone(self.timezone)) if self.counts_days else moment)

    def shift_days(self, moment: datetime, days: float) -> datetime:
        """`moment` moved by whole local days with a calendar, by exact days without one."""
        if not self.counts_days:
            return moment + days * _DAY
        local = moment.astimezone(zone(self.timezone))
        return datetime.combine(local.date() + timedelta(days=round(days)), local.time(), tzinfo=zone(self.timezone))

    def days_between(self, start: datetime, end: datetime) -> float:
        """What a pause from `start` to `end` gives back: the days from its day to the end's, or exact days."""
        if not self.counts_days:
            return (end - start) / _DAY
        return float((self.day(end) - self.day(start)).days)

    def earlier_day(self, first: datetime, second: datetime) -> bool:
        """`first` falls on a day before `second`'s (before `second` itself, without a calendar)."""
        return self.day(first) < self.day(second) if self.counts_days else first < second

    def working(self, day: date) -> bool:
        return is_working_day(day, self.alsace_moselle)

    def morning(self, day: date) -> datetime:
        return datetime.combine(day, self.send_at, tzinfo=zone(self.timezone))

    def on_or_before(self, nominal: datetime) -> datetime:
        """A reminder that must not be late: `send_at` on the last working day on or before `nominal`'s day."""
        if not self.counts_days:
            return nominal
        day = self.day(nominal)
        while not self.working(day):
            day -= _DAY
        return self.morning(day)

    def on_or_after(self, nominal: datetime) -> datetime:
        """A reminder about a day that came: `send_at` on the first working day on or after `nominal`'s day."""
        if not self.counts_days:
            return nominal
        day = self.day(nominal)
        while not self.working(day):
            day += _DAY
        return self.morning(day)

    def next_send_time(self, moment: datetime) -> datetime:
        """The first working morning at or after `moment` (the rule of the review reminders)."""
        return next_send_time(moment, self.calendar, self.timezone, self.send_at, alsace_moselle=self.alsace_moselle)

    def after(self, start: datetime, delay: Duration) -> datetime:
        """`start` + `delay`, counting working days when the calendar has them and the delay is whole days."""
        if self.counts_days and delay.days and not delay.seconds:
            shifted = add_working_days(
                start, delay.days, self.calendar, self.timezone, alsace_moselle=self.alsace_moselle
            )
            return Duration(years=delay.years, months=delay.months).add_to(shifted)
        return delay.add_to(start)

    def started_days(self, since: datetime, now: datetime) -> int:
        """Days started after `since` up to `now`: 1 on the first day after it (local dates with a calendar)."""
        if now <= since:
            return 0
        if self.counts_days:
            return max(1, (self.day(now) - self.day(since)).days)
        return math.ceil((now - since) / _DAY)


def work_calendar(project: Project) -> WorkCalendar:
    """The project's calendar: its process's, with Alsace-Moselle's holidays for its departments (fair clocks)."""
    process = project.process
    local = fair(project) and process.calendar is not Calendar.NONE and is_alsace_moselle(project.profile.department)
    return WorkCalendar(process.calendar, process.timezone, process.reminders.send_at, local)


def clocks_stopped_at(project: Project) -> datetime | None:
    """When the clocks stopped: the pause's start while paused, the end of a finished project; None if running."""
    if project.pause is not None:
        return project.pause.since
    if project.finished:
        return next((e.at for e in reversed(project.events) if e.kind in _FINISHING), project.updated_at)
    return None


def held_since(project: Project, moment: datetime) -> datetime:
    """Where a clock started at `moment` stands once the pauses since are taken out (fair clocks).

    A pause that began after `moment` gives back its days; one under way at `moment` (a decision taken
    during a pause) moves the start to the resume's day: the holder's clock starts when the project resumes.
    """
    calendar = work_calendar(project)
    origin = moment
    for span in project.pauses:
        if span.until <= moment:
            continue
        if span.since >= moment:
            origin = calendar.shift_days(origin, span.days)
        else:
            origin = calendar.shift_days(origin, calendar.days_between(moment, span.until))
    return origin
