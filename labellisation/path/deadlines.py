"""Deadlines: when each step is due, and when the workflow must wake next."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from labellisation.durations import Duration
from labellisation.path.state import AWAITING_HOLDER, Project, ProjectProfile, StepState
from labellisation.process import DateAnchor, ProcessDefinition, StepDefinition

#: A date given by a person ("due on 15 March") means the end of that day.
_END_OF_DAY = time(23, 59, 59)


def end_of_day(day: date, timezone: str) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=ZoneInfo(timezone))


def anchor_date(profile: ProjectProfile, anchor: DateAnchor) -> date:
    if anchor is DateAnchor.PLANNED_OPENING:
        return profile.planned_opening
    raise ValueError(f"unknown anchor {anchor}")  # pragma: no cover - enum is closed


def compute_due(
    definition: StepDefinition, started_at: datetime, profile: ProjectProfile, process: ProcessDefinition
) -> datetime:
    """The deadline of a step that starts at `started_at`."""
    if definition.due is not None:
        base = end_of_day(anchor_date(profile, definition.due.anchor), process.timezone)
        return Duration.parse(definition.due.offset).add_to(base)
    assert definition.duration is not None  # guaranteed by the definition's validator
    return Duration.parse(definition.duration).add_to(started_at)


def next_deadline(project: Project) -> datetime | None:
    """The earliest deadline the holder still has to meet (None while paused)."""
    if project.pause is not None or project.finished:
        return None
    dues = [s.due_at for s in project.steps if s.status in AWAITING_HOLDER and s.due_at is not None]
    return min(dues, default=None)


def next_wakeup(project: Project) -> datetime | None:
    """When the workflow must wake up with no message: the next unnoted deadline."""
    if project.pause is not None or project.finished:
        return None
    pending = [s.due_at for s in project.steps if s.due_at is not None and _deadline_pending(s)]
    return min(pending, default=None)


def _deadline_pending(step: StepState) -> bool:
    return step.status in AWAITING_HOLDER and step.due_at is not None and not step.deadline_noted


def days_overdue(step: StepState, now: datetime) -> int:
    """Whole days past the deadline, for steps still awaiting the holder."""
    if step.status not in AWAITING_HOLDER or step.due_at is None or now <= step.due_at:
        return 0
    return (now - step.due_at).days
