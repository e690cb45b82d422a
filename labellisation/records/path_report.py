"""Path analytics (#19 item 1, in part): where projects lose time, from the records database's events.

Pure: `path_report` reads each project's events (oldest first) and returns, per step, the days the holder took
(from the step's start, or from a request for changes, to each submission) and the days review took (from each
submission to its decision), as median, quartiles and 90th percentile; the on-time rate (approved with the last
submission on or before the deadline then in force); the requests for changes per project; the review
turnaround in French working days against the 10- and 20-day delays; the three steps where projects lose the
most time; and a funnel of projects per stage. Days are calendar days (a pause is not taken out yet).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select

from labellisation.french_calendar import is_working_day, zone
from labellisation.records.store import RecordStore
from labellisation.records.tables import EventRow, ProjectRow

DAY = 86400.0


class Spread(BaseModel):
    """Days: how many measures, and their median, quartiles and 90th percentile (None without a measure)."""

    count: int
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    p90: float | None = None


class StepFigures(BaseModel):
    step: str
    projects: int
    holder_days: Spread
    review_days: Spread
    on_time_rate: float | None
    changes_per_project: float | None
    review_within_10_working_days: float | None
    review_within_20_working_days: float | None


class StageFunnel(BaseModel):
    stage: str
    started: int
    still_there: int
    passed: int
    abandoned: int
    rejected: int


class PathReport(BaseModel):
    projects: int
    steps: list[StepFigures]
    #: The steps whose projects took the most days (median of holder and review days together), most first.
    slowest_steps: list[str]
    funnel: list[StageFunnel]


@dataclass
class _Step:
    started: datetime | None = None
    due: datetime | None = None
    waiting_since: datetime | None = None  # the holder's clock
    submitted: datetime | None = None  # the review's clock
    holder: float = 0.0
    review: float = 0.0
    reviews: list[int] = field(default_factory=list)
    changes: int = 0
    submissions: int = 0
    approved: bool = False
    on_time: bool | None = None


def spread(values: list[float]) -> Spread:
    if not values:
        return Spread(count=0)
    ordered = sorted(values)
    if len(ordered) == 1:
        only = round(ordered[0], 2)
        return Spread(count=1, median=only, q1=only, q3=only, p90=only)
    quartiles = statistics.quantiles(ordered, n=4, method="inclusive")
    deciles = statistics.quantiles(ordered, n=10, method="inclusive")
    return Spread(
        count=len(ordered), median=round(statistics.median(ordered), 2), q1=round(quartiles[0], 2),
        q3=round(quartiles[2], 2), p90=round(deciles[8], 2),
    )  # fmt: skip


def working_days_between(start: datetime, end: datetime) -> int:
    """French working days after `start`'s day up to `end`'s day (Paris): a decision the next working day is 1."""
    day, last, count = start.astimezone(zone()).date(), end.astimezone(zone()).date(), 0
    while day < last:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


Event = tuple[str, str | None, datetime, dict[str, object]]  # kind, step, at, data


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / DAY


def _walk(events: Iterable[Event]) -> tuple[dict[str, _Step], list[str], dict[str, str], str | None]:
    """One project's steps, the stages it started in order, how each ended (passed...), its last stage."""
    steps: dict[str, _Step] = {}
    stages: list[str] = []
    ends: dict[str, str] = {}
    for kind, step_id, at, data in events:
        step = steps.setdefault(step_id, _Step()) if step_id else None
        if kind == "stage_started":
            stages.append(str(data.get("stage")))
        elif kind == "stage_completed":
            ends[str(data.get("stage"))] = "passed"
        elif kind in ("project_abandoned", "project_rejected") and stages:
            ends.setdefault(stages[-1], "abandoned" if kind == "project_abandoned" else "rejected")
        elif step is None:
            continue
        elif kind == "step_started":
            step.started = step.waiting_since = at
            step.due = _moment(data.get("due_at"))
        elif kind == "deadline_moved":
            step.due = _moment(data.get("due_at")) or step.due
        elif kind == "step_submitted":
            if step.waiting_since is not None:
                step.holder += _days(step.waiting_since, at)
            step.waiting_since, step.submitted = None, at
            step.submissions += 1
        elif kind in ("step_approved", "changes_requested", "step_rejected") and step.submitted is not None:
            step.review += _days(step.submitted, at)
            step.reviews.append(working_days_between(step.submitted, at))
            if kind == "step_approved":
                step.approved = True
                step.on_time = step.due is None or step.submitted <= step.due
            elif kind == "changes_requested":
                step.changes += 1
                step.waiting_since = at
            step.submitted = None
    for kind, _step, _at, _data in events:
        if kind == "step_rejected" and stages:
            ends.setdefault(stages[-1], "rejected")
    return steps, stages, ends, stages[-1] if stages else None


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def path_report(projects: dict[str, list[Event]], step_order: list[str], stage_order: list[str]) -> PathReport:
    """The figures over `projects` (each one's events, oldest first); steps and stages in the process's order."""
    per_step: dict[str, list[_Step]] = {}
    funnel = {stage: StageFunnel(stage=stage, started=0, still_there=0, passed=0, abandoned=0, rejected=0)
              for stage in stage_order}  # fmt: skip
    for events in projects.values():
        walked, stages, ends, _last = _walk(events)
        for step_id, one in walked.items():
            per_step.setdefault(step_id, []).append(one)
        for stage in dict.fromkeys(stages):
            row = funnel.setdefault(stage, StageFunnel(stage=stage, started=0, still_there=0, passed=0,
                                                       abandoned=0, rejected=0))  # fmt: skip
            row.started += 1
            outcome = ends.get(stage, "still_there")
            setattr(row, outcome, getattr(row, outcome) + 1)
    figures = []
    for step_id in [s for s in step_order if s in per_step] + sorted(set(per_step) - set(step_order)):
        found = per_step[step_id]
        decided = [s for s in found if s.approved]
        reviews = [r for s in found for r in s.reviews]
        figures.append(StepFigures(
            step=step_id, projects=len(found),
            holder_days=spread([s.holder for s in found if s.submissions]),
            review_days=spread([s.review for s in found if s.reviews]),
            on_time_rate=round(sum(bool(s.on_time) for s in decided) / len(decided), 3) if decided else None,
            changes_per_project=round(sum(s.changes for s in found) / len(found), 3),
            review_within_10_working_days=round(sum(r <= 10 for r in reviews) / len(reviews), 3) if reviews else None,
            review_within_20_working_days=round(sum(r <= 20 for r in reviews) / len(reviews), 3) if reviews else None,
        ))  # fmt: skip
    lost = sorted(
        ((f.holder_days.median or 0) + (f.review_days.median or 0), f.step) for f in figures if f.holder_days.count
    )
    return PathReport(
        projects=len(projects),
        steps=figures,
        slowest_steps=[step for _, step in reversed(lost)][:3],
        funnel=[funnel[stage] for stage in stage_order if stage in funnel]
        + [row for stage, row in funnel.items() if stage not in stage_order],
    )


def start_year(events: list[Event]) -> int | None:
    return next((at.astimezone(zone()).year for kind, _s, at, _d in events if kind == "project_started"), None)


async def report_events(
    store: RecordStore, regions: list[str] | None, region: str | None, process: str | None
) -> dict[str, list[Event]]:
    """Each project's events (oldest first) for the report, the projects filtered by region(s) and process."""
    query = select(EventRow.project_id, EventRow.kind, EventRow.step, EventRow.at, EventRow.data).join(
        ProjectRow, ProjectRow.project_id == EventRow.project_id
    )
    if regions is not None:
        query = query.where(ProjectRow.region.in_(regions))
    if region is not None:
        query = query.where(ProjectRow.region == region)
    if process is not None:
        query = query.where(ProjectRow.process == process)
    found: dict[str, list[Event]] = {}
    async with store.engine.connect() as connection:
        rows = await connection.execute(query.order_by(EventRow.project_id, EventRow.seq))
        for project_id, kind, step, at, data in rows:
            found.setdefault(project_id, []).append((kind, step, at, data))
    return found
