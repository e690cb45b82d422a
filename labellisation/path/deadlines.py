"""Deadlines: when each step is due, and when the workflow must wake next."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from labellisation.durations import Duration
from labellisation.path.clocks import (
    FAIR_CLOCKS,
    FIRST_CLOCK_RULES,
    WorkCalendar,
    clocks_stopped_at,
    fair,
    work_calendar,
)
from labellisation.path.state import AWAITING_HOLDER, Project, ProjectProfile, StepState
from labellisation.process import Calendar, DateAnchor, ProcessDefinition, StepDefinition

#: A date given by a person ("due on 15 March") means the end of that day.
_END_OF_DAY = time(23, 59, 59)


def end_of_day(day: date, timezone: str) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=ZoneInfo(timezone))


def anchor_date(profile: ProjectProfile, anchor: DateAnchor) -> date:
    if anchor is DateAnchor.PLANNED_OPENING:
        return profile.planned_opening
    raise ValueError(f"unknown anchor {anchor}")  # pragma: no cover - enum is closed


def compute_due(
    definition: StepDefinition,
    started_at: datetime,
    profile: ProjectProfile,
    process: ProcessDefinition,
    clock_rules: int = FIRST_CLOCK_RULES,
) -> datetime:
    """The deadline of a step that starts at `started_at`.

    Anchored on a project date: the end of that day, moved by the offset (the same for every clock rule).
    From a duration: the start instant moved by it (clock rules 1); with the fair clocks and a working-day
    calendar, the end (23:59:59) of the day the duration reaches.
    """
    if definition.due is not None:
        base = end_of_day(anchor_date(profile, definition.due.anchor), process.timezone)
        return Duration.parse(definition.due.offset).add_to(base)
    assert definition.duration is not None  # guaranteed by the definition's validator
    duration = Duration.parse(definition.duration)
    if clock_rules >= FAIR_CLOCKS and process.calendar is not Calendar.NONE:
        calendar = WorkCalendar(process.calendar, process.timezone, process.reminders.send_at)
        return calendar.end_of_day(calendar.day(calendar.shift(started_at, duration)))
    return duration.add_to(started_at)


def next_deadline(project: Project) -> datetime | None:
    """The earliest deadline the holder still has to meet (None while paused)."""
    if project.pause is not None or project.finished:
        return None
    dues = [s.due_at for s in project.steps if s.status in AWAITING_HOLDER and s.due_at is not None]
    return min(dues, default=None)


def next_wakeup(project: Project) -> datetime | None:
    """When the workflow must wake up with no message: the next unnoted deadline (the second after it with the
    fair clocks, where a deadline is the last second allowed)."""
    if project.pause is not None or project.finished:
        return None
    pending = [s.due_at for s in project.steps if s.due_at is not None and _deadline_pending(s)]
    earliest = min(pending, default=None)
    return earliest + timedelta(seconds=1) if earliest is not None and fair(project) else earliest


def deadline_passed(project: Project, due: datetime, now: datetime) -> bool:
    """Whether `due` has passed at `now`: from the deadline instant on (clock rules 1), after it (fair clocks)."""
    return due < now if fair(project) else due <= now


def _deadline_pending(step: StepState) -> bool:
    return step.status in AWAITING_HOLDER and step.due_at is not None and not step.deadline_noted


def days_overdue(step: StepState, now: datetime) -> int:
    """Whole days past the deadline, for steps still awaiting the holder (clock rules 1)."""
    if step.status not in AWAITING_HOLDER or step.due_at is None or now <= step.due_at:
        return 0
    return (now - step.due_at).days


def step_days_overdue(project: Project, step: StepState, now: datetime) -> int:
    """How late a step is at `now`, by the project's clock rules.

    Rules 1: whole days past the deadline (0 on the first late day), still counting once the project is
    over, 0 while paused. Fair clocks: the days started since the deadline (1 on the first late day),
    counted only while the step awaits the holder and the project runs: frozen at its pause or its end.
    """
    if not fair(project):
        return 0 if project.pause is not None else days_overdue(step, now)
    if step.status not in AWAITING_HOLDER or step.due_at is None:
        return 0
    stopped = clocks_stopped_at(project)
    return work_calendar(project).started_days(step.due_at, min(now, stopped) if stopped is not None else now)


def changes_delay_end(project: Project, now: datetime) -> datetime:
    """Fair clocks: the earliest a step sent back for changes at `now` may be due again.

    The process's `changes_delay` from the request (from the pause's start when the request comes during a
    pause: resume gives the paused days back), ending a day with a working-day calendar.
    """
    calendar = work_calendar(project)
    start = project.pause.since if project.pause is not None else now
    end = calendar.shift(start, Duration.parse(project.process.reminders.changes_delay))
    return calendar.end_of_day(calendar.day(end)) if calendar.counts_days else end
