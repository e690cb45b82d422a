"""The status body: the same projection for the query, the API and the CLI."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field

from labellisation.path.clocks import work_calendar
from labellisation.path.deadlines import next_deadline, step_days_overdue
from labellisation.path.reminders import planned_reminders
from labellisation.path.state import Cohort, Event, Project, ProjectState, StepStatus


class StepView(BaseModel):
    id: str
    label: str
    stage: str
    status: StepStatus
    started_at: datetime | None
    due_at: datetime | None
    submitted_at: datetime | None
    decided_at: datetime | None
    days_overdue: int


class NextReminder(BaseModel):
    at: datetime
    kind: str
    to: str


class UpcomingReminder(BaseModel):
    """The next reminder of one series: when, what kind, about which step (None: the whole project), to whom."""

    at: datetime
    kind: str
    step: str | None
    to: str


class PauseView(BaseModel):
    since: datetime
    reason: str
    review_on: date


class StatusRequest(BaseModel):
    """Arguments of the `status` query; all optional."""

    include_history: bool = False
    #: The caller's clock. A query sees the workflow's time of its last task, which
    #: lags behind while nothing happens: days overdue are counted up to `as_of`.
    as_of: AwareDatetime | None = None


class ProjectStatus(BaseModel):
    project_id: str
    name: str
    region: str
    process: str
    process_version: int
    state: ProjectState
    current_stage: str
    current_stage_label: str
    steps: list[StepView]
    next_due_at: datetime | None
    next_reminder: NextReminder | None = None
    #: The next reminder of every series, soonest first (`next_reminder` is the first).
    upcoming_reminders: list[UpcomingReminder] = Field(default_factory=list)
    #: The calendar the clocks count in: `none`, `fr_working_days` or `fr_working_days_alsace_moselle`
    #: (with the fair clocks, a project in the Moselle, Bas-Rhin or Haut-Rhin also rests on Good Friday and
    #: 26 December).
    calendar: str | None = None
    #: The rules its clocks follow (labellisation/path/clocks.py): 1, or 2 for the fair clocks.
    clock_rules: int | None = None
    pause: PauseView | None = None
    planned_opening: date
    cohorts: list[Cohort] = Field(default_factory=list)
    updated_at: datetime
    history: list[Event] | None = None
    #: `workflow`: the project's workflow answered; `records`: rebuilt from the records database, the
    #: workflow being gone (Temporal's retention), so no reminder is planned any more.
    source: str = "workflow"


def project_status(project: Project, now: datetime, include_history: bool = False) -> ProjectStatus:
    labels = {step.id: step.label for stage in project.process.stages for step in stage.steps}
    stage = project.process.stages[project.stage_index]
    planned = planned_reminders(project)
    upcoming = [UpcomingReminder(at=r.at, kind=r.kind.value, step=r.step, to=r.to.value) for r in planned]
    return ProjectStatus(
        project_id=project.profile.project_id,
        name=project.profile.name,
        region=project.profile.region,
        process=project.process.id,
        process_version=project.process.version,
        state=project.state,
        current_stage=stage.id,
        current_stage_label=stage.label,
        steps=[
            StepView(
                id=s.id,
                label=labels[s.id],
                stage=s.stage,
                status=s.status,
                started_at=s.started_at,
                due_at=s.due_at,
                submitted_at=s.submitted_at,
                decided_at=s.decided_at,
                days_overdue=step_days_overdue(project, s, now),
            )
            for s in project.steps
        ],
        next_due_at=next_deadline(project),
        next_reminder=NextReminder(at=planned[0].at, kind=planned[0].kind.value, to=planned[0].to.value)
        if planned
        else None,
        upcoming_reminders=upcoming,
        calendar=work_calendar(project).name,
        clock_rules=project.clock_rules,
        pause=PauseView(**project.pause.model_dump()) if project.pause else None,
        planned_opening=project.profile.planned_opening,
        cohorts=list(project.cohorts),
        updated_at=project.updated_at,
        history=list(project.events) if include_history else None,
    )
