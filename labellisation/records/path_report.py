"""Path analytics (#19 item 1): where projects lose time, from the records database.

The report adds up each project's measures (labellisation/records/path_measures.py: the clock rules,
paused time counting for nobody) and returns, per step, the days the holder took (from the step's start, or from
a request for changes, to each submission) and the days review took (from each submission to its decision), as
median, quartiles and 90th percentile; the on-time rate (approved with the last submission on or before the
deadline then in force); the requests for changes per project; the review turnaround in French working days
against the 10- and 20-day delays; the three steps where projects lose the most time; a funnel of projects per
stage; and the on-time rate per region. Days are calendar days of running clocks.

`path_report` adds up measures in Python (the reference, and for tests); `path_report_of` gets the same figures
from the `step_measures` and `stage_measures` rows in SQL (counts and sums grouped by step and region; the days
themselves, two numbers a row, for the quantiles), as `GET /reports/path` and « Pilotage » do: 10,000 projects
never come through Python one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, select

from labellisation.records.path_measures import Event, ProjectMeasures
from labellisation.records.store import RecordStore
from labellisation.records.tables import EventRow, ProjectRow, StageMeasureRow, StepMeasureRow

__all__ = ["Event", "PathReport", "Spread", "StepFigures", "path_report", "path_report_of", "report_events"]


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


class RegionOnTime(BaseModel):
    """A region's steps approved, and the share approved with the last submission on time."""

    region: str
    approved: int
    on_time_rate: float | None


class PathReport(BaseModel):
    projects: int
    steps: list[StepFigures]
    #: The steps whose projects took the most days (median of holder and review days together), most first.
    slowest_steps: list[str]
    funnel: list[StageFunnel]
    #: Per region (slug), the on-time rate over every step approved; regions by slug.
    on_time_by_region: list[RegionOnTime] = []


#: The quantiles of a Spread, as (i, n) for the i-th n-quantile, "inclusive" as `statistics.quantiles` says:
#: the value at position i*(len-1)/n of the sorted values, interpolated between its two neighbours.
QUANTILES = {"q1": (1, 4), "median": (2, 4), "q3": (3, 4), "p90": (9, 10)}


def spread_of(count: int, value_at: Callable[[int], float]) -> Spread:
    """The Spread of `count` sorted values, `value_at(k)` the k-th (0-based): only the values
    on either side of each quantile's position are read."""
    if count == 0:
        return Spread(count=0)
    figures: dict[str, float] = {}
    for name, (i, n) in QUANTILES.items():
        j, delta = divmod(i * (count - 1), n)
        low = value_at(j)
        figures[name] = round(low if delta == 0 else (low * (n - delta) + value_at(j + 1) * delta) / n, 2)
    return Spread(count=count, **figures)


def spread(values: list[float]) -> Spread:
    ordered = sorted(values)
    return spread_of(len(ordered), ordered.__getitem__)


@dataclass
class _StepSums:
    """One step over the projects: what its figures are made of."""

    projects: int = 0
    changes: int = 0
    approved: int = 0
    on_time: int = 0
    reviews: int = 0
    within_10: int = 0
    within_20: int = 0


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _report(
    projects: int,
    sums: dict[str, _StepSums],
    spreads: dict[tuple[str, str], Spread],
    funnel: dict[tuple[str, str], int],
    regions: dict[str, tuple[int, int]],
    step_order: list[str],
    stage_order: list[str],
) -> PathReport:
    """The report from its sums: per step, its spreads by (step, "holder" / "review"), the funnel's counts by
    (stage, outcome), and per region (approved, on time)."""
    figures = []
    for step_id in [s for s in step_order if s in sums] + sorted(set(sums) - set(step_order)):
        found = sums[step_id]
        figures.append(StepFigures(
            step=step_id, projects=found.projects,
            holder_days=spreads.get((step_id, "holder"), Spread(count=0)),
            review_days=spreads.get((step_id, "review"), Spread(count=0)),
            on_time_rate=_share(found.on_time, found.approved),
            changes_per_project=_share(found.changes, found.projects),
            review_within_10_working_days=_share(found.within_10, found.reviews),
            review_within_20_working_days=_share(found.within_20, found.reviews),
        ))  # fmt: skip
    lost = sorted(
        ((f.holder_days.median or 0) + (f.review_days.median or 0), f.step) for f in figures if f.holder_days.count
    )
    stages = stage_order + sorted({k[0] for k in funnel} - set(stage_order))  # every stage, zeros too
    outcomes = ("still_there", "passed", "abandoned", "rejected")
    return PathReport(
        projects=projects,
        steps=figures,
        slowest_steps=[step for _, step in reversed(lost)][:3],
        funnel=[
            StageFunnel(
                stage=stage,
                started=sum(funnel.get((stage, o), 0) for o in outcomes),
                **{o: funnel.get((stage, o), 0) for o in outcomes},
            )
            for stage in stages
        ],
        on_time_by_region=[
            RegionOnTime(region=region, approved=approved, on_time_rate=_share(on_time, approved))
            for region, (approved, on_time) in sorted(regions.items())
        ],
    )


def path_report(
    projects: dict[str, ProjectMeasures],
    step_order: list[str],
    stage_order: list[str],
    regions: dict[str, str] | None = None,
) -> PathReport:
    """The figures over `projects` (each one's measures), in Python; steps and stages in the process's order;
    `regions` (project id to region slug) gives the on-time rate per region."""
    sums: dict[str, _StepSums] = {}
    values: dict[tuple[str, str], list[float]] = {}
    funnel: dict[tuple[str, str], int] = {}
    per_region: dict[str, tuple[int, int]] = {}
    for project_id, measured in projects.items():
        for row in measured.step_rows(project_id):
            found = sums.setdefault(row["step"], _StepSums())
            found.projects += 1
            found.changes += row["changes"]
            found.approved += row["approved"]
            found.on_time += row["on_time"]
            found.reviews += row["reviews"]
            found.within_10 += row["reviews_within_10"]
            found.within_20 += row["reviews_within_20"]
            for side in ("holder", "review"):
                if row[f"{side}_days"] is not None:
                    values.setdefault((row["step"], side), []).append(row[f"{side}_days"])
            region = (regions or {}).get(project_id)
            if region is not None:
                approved, on_time = per_region.get(region, (0, 0))
                per_region[region] = (approved + row["approved"], on_time + row["on_time"])
        for row in measured.stage_rows(project_id):
            funnel[(row["stage"], row["outcome"])] = funnel.get((row["stage"], row["outcome"]), 0) + 1
    spreads = {key: spread(found) for key, found in values.items()}
    return _report(len(projects), sums, spreads, funnel, per_region, step_order, stage_order)


async def path_report_of(
    store: RecordStore,
    step_order: list[str],
    stage_order: list[str],
    regions: Sequence[str] | None,
    region: str | None = None,
    process: str | None = None,
    year: int | None = None,
) -> PathReport:
    """The same figures as `path_report`, added up in SQL from the measures rows of the projects of `regions`
    (None: every region), `region`, `process` and year of start."""
    step, stage = StepMeasureRow, StageMeasureRow

    def where(query: Any, table: Any) -> Any:
        for column, value in ((table.region, region), (table.process, process), (table.start_year, year)):
            if value is not None:
                query = query.where(column == value)
        return query.where(table.region.in_(list(regions))) if regions is not None else query

    def counted(flag: Any) -> Any:
        return func.sum(case((flag, 1), else_=0))

    async with store.engine.connect() as connection:
        projects = (
            await connection.execute(where(select(func.count(func.distinct(stage.project_id))), stage))
        ).scalar_one()
        sums: dict[str, _StepSums] = {}
        per_region: dict[str, tuple[int, int]] = {}
        for row in await connection.execute(where(select(
            step.step, func.count(), func.sum(step.changes), counted(step.approved), counted(step.on_time),
            func.sum(step.reviews), func.sum(step.reviews_within_10), func.sum(step.reviews_within_20), step.region,
        ), step).group_by(step.step, step.region)):  # fmt: skip
            found = sums.setdefault(row[0], _StepSums())
            for name, value in zip(_StepSums.__dataclass_fields__, row[1:8], strict=True):
                setattr(found, name, getattr(found, name) + int(value or 0))
            approved, on_time = per_region.get(row[8], (0, 0))
            per_region[row[8]] = (approved + int(row[3] or 0), on_time + int(row[4] or 0))
        values: dict[tuple[str, str], list[float]] = {}
        for side, column in (("holder", step.holder_days), ("review", step.review_days)):
            days = where(select(step.step, column), step).where(column.is_not(None))
            for step_id, value in (await connection.execute(days)).all():  # one number a row: fast at 100,000
                values.setdefault((step_id, side), []).append(value)
        funnel = {(row[0], row[1]): row[2] for row in await connection.execute(
            where(select(stage.stage, stage.outcome, func.count()), stage).group_by(stage.stage, stage.outcome)
        )}  # fmt: skip
    spreads = {key: spread(found) for key, found in values.items()}
    return _report(projects, sums, spreads, funnel, per_region, step_order, stage_order)


async def report_events(
    store: RecordStore,
    regions: Sequence[str] | None,
    region: str | None,
    process: str | None,
    kinds: Sequence[str] | None = None,
    states: Sequence[str] | None = None,
) -> dict[str, list[Event]]:
    """Each project's events (oldest first), the projects filtered by region(s), process and state, the events
    by kind."""
    query = select(EventRow.project_id, EventRow.kind, EventRow.step, EventRow.at, EventRow.data).join(
        ProjectRow, ProjectRow.project_id == EventRow.project_id
    )
    if regions is not None:
        query = query.where(ProjectRow.region.in_(list(regions)))
    if region is not None:
        query = query.where(ProjectRow.region == region)
    if process is not None:
        query = query.where(ProjectRow.process == process)
    if kinds is not None:
        query = query.where(EventRow.kind.in_(list(kinds)))
    if states is not None:
        query = query.where(ProjectRow.state.in_(list(states)))
    found: dict[str, list[Event]] = {}
    async with store.engine.connect() as connection:
        rows = await connection.execute(query.order_by(EventRow.project_id, EventRow.seq))
        for project_id, kind, step, at, data in rows:
            found.setdefault(project_id, []).append((kind, step, at, data))
    return found
