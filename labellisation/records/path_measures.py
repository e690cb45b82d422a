"""One project's path measures, from its events, by the clock rules: what the path analytics add up (#19).

Pure: `measure` walks a project's events (oldest first). A step's holder clock runs from its start, and from each
request for changes, until the next submission; its review clock from each submission to its decision; while the
project is paused neither runs (DOMAIN.md "Who holds the clock": paused time counts for nobody). Review turnaround
is counted in French working days over the same running time. A step is on time when approved with its last
submission on or before the deadline then in force. Stages keep how they ended (passed, abandoned, rejected).

The records store keeps each project's measures up to date as events arrive (`step_measures` and
`stage_measures` tables), so that the report adds them up in SQL instead of reading every event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from labellisation.french_calendar import is_working_day, zone

DAY = 86400.0
Event = tuple[str, str | None, datetime, dict[str, object]]  # kind, step, at, data
#: The event kinds the measures read: the store refreshes a project's measures only when one of these arrives
#: (a profile update may move the project to another region, which the measures rows copy).
MEASURED_KINDS = frozenset({
    "project_started", "stage_started", "stage_completed", "step_started", "step_submitted", "step_approved",
    "changes_requested", "step_rejected", "deadline_moved", "project_paused", "project_resumed",
    "project_abandoned", "profile_updated",
})  # fmt: skip


def working_days_between(start: datetime, end: datetime) -> int:
    """French working days after `start`'s day up to `end`'s day (Paris): a decision the next working day is 1."""
    day, last, count = start.astimezone(zone()).date(), end.astimezone(zone()).date(), 0
    while day < last:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / DAY


@dataclass
class StepMeasure:
    """One step of one project: days each side held it, the review turnarounds, the loops, the outcome."""

    holder: float = 0.0
    review: float = 0.0
    #: Working days of each review, submission to decision, paused days left out.
    reviews: list[int] = field(default_factory=list)
    changes: int = 0
    submissions: int = 0
    approved: bool = False
    on_time: bool | None = None
    # The walk's running clocks, not kept.
    due: datetime | None = None
    holder_since: datetime | None = None
    review_since: datetime | None = None
    submitted: datetime | None = None
    review_working: int = 0


@dataclass
class ProjectMeasures:
    steps: dict[str, StepMeasure] = field(default_factory=dict)
    #: The stages the project started, in order, each once.
    stages: list[str] = field(default_factory=list)
    #: How each stage ended: passed, abandoned or rejected; a stage absent here is still under way.
    ends: dict[str, str] = field(default_factory=dict)
    start_year: int | None = None

    def step_rows(self, project_id: str) -> list[dict[str, Any]]:
        """The `step_measures` rows of this project."""
        return [
            {"project_id": project_id, "step": step_id, "start_year": self.start_year,
             "holder_days": step.holder if step.submissions else None,
             "review_days": step.review if step.reviews else None, "reviews": len(step.reviews),
             "reviews_within_10": sum(r <= 10 for r in step.reviews),
             "reviews_within_20": sum(r <= 20 for r in step.reviews),
             "changes": step.changes, "approved": step.approved, "on_time": bool(step.approved and step.on_time)}
            for step_id, step in self.steps.items()
        ]  # fmt: skip

    def stage_rows(self, project_id: str) -> list[dict[str, Any]]:
        """The `stage_measures` rows of this project."""
        return [
            {"project_id": project_id, "stage": stage, "start_year": self.start_year,
             "outcome": self.ends.get(stage, "still_there")}
            for stage in self.stages
        ]  # fmt: skip


class _Walk:
    def __init__(self) -> None:
        self.found = ProjectMeasures()
        self.paused_at: datetime | None = None

    def pause(self, at: datetime) -> None:
        if self.paused_at is not None:
            return
        self.paused_at = at
        for step in self.found.steps.values():
            if step.holder_since is not None:
                step.holder += _days(step.holder_since, at)
                step.holder_since = at  # stopped: restarted at the resume
            if step.review_since is not None:
                step.review += _days(step.review_since, at)
                step.review_working += working_days_between(step.review_since, at)
                step.review_since = at

    def resume(self, at: datetime) -> None:
        if self.paused_at is None:
            return
        self.paused_at = None
        for step in self.found.steps.values():
            if step.holder_since is not None:
                step.holder_since = at
            if step.review_since is not None:
                step.review_since = at

    def _elapsed(self, at: datetime) -> datetime:
        """The end of a clock's running time: `at`, or the pause's start while paused."""
        return self.paused_at if self.paused_at is not None and self.paused_at < at else at

    def step_event(self, kind: str, step: StepMeasure, at: datetime, data: dict[str, object]) -> None:
        if kind == "step_started":
            step.holder_since = at
            step.due = _moment(data.get("due_at"))
        elif kind == "deadline_moved":
            step.due = _moment(data.get("due_at")) or step.due
        elif kind == "step_submitted":
            if step.holder_since is not None:
                step.holder += max(0.0, _days(step.holder_since, self._elapsed(at)))
            step.holder_since, step.submitted, step.review_since = None, at, at
            step.review_working = 0
            step.submissions += 1
        elif kind in ("step_approved", "changes_requested", "step_rejected") and step.submitted is not None:
            if step.review_since is not None:
                end = self._elapsed(at)
                step.review += max(0.0, _days(step.review_since, end))
                step.review_working += working_days_between(step.review_since, end) if end > step.review_since else 0
            step.reviews.append(step.review_working)
            if kind == "step_approved":
                step.approved = True
                step.on_time = step.due is None or step.submitted <= step.due
            elif kind == "changes_requested":
                step.changes += 1
                step.holder_since = at
            step.submitted = step.review_since = None

    def event(self, kind: str, step_id: str | None, at: datetime, data: dict[str, object]) -> None:
        found = self.found
        if kind == "project_started":
            found.start_year = at.astimezone(zone()).year
        elif kind == "stage_started":
            stage = str(data.get("stage"))
            if stage not in found.stages:
                found.stages.append(stage)
        elif kind == "stage_completed":
            found.ends[str(data.get("stage"))] = "passed"
        elif kind in ("project_abandoned", "project_rejected") and found.stages:
            found.ends.setdefault(found.stages[-1], "abandoned" if kind == "project_abandoned" else "rejected")
        elif kind == "project_paused":
            self.pause(at)
        elif kind == "project_resumed":
            self.resume(at)
        elif step_id is not None:
            self.step_event(kind, found.steps.setdefault(step_id, StepMeasure()), at, data)
            if kind == "step_rejected" and found.stages:
                found.ends.setdefault(found.stages[-1], "rejected")


def measure(events: Iterable[Event]) -> ProjectMeasures:
    """The measures of one project from its events, oldest first (other kinds than MEASURED_KINDS are ignored)."""
    walk = _Walk()
    for kind, step_id, at, data in events:
        walk.event(kind, step_id, at, data)
    return walk.found


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
