"""The status body: the same projection for the query, the API and the CLI."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field

from labellisation.path.deadlines import days_overdue, next_deadline
from labellisation.path.reminders import next_reminder
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
    pause: PauseView | None = None
    planned_opening: date
    cohorts: list[Cohort] = Field(default_factory=list)
    updated_at: datetime
    history: list[Event] | None = None
    #: `workflow`: the project's workflow answered; `records`: rebuilt from the records database, the
    #: workflow being gone (Temporal's retention), so no reminder is planned any more.
    source: str = "workflow"


def _next_reminder(project: Project) -> NextReminder | None:
    planned = next_reminder(project)
    return NextReminder(at=planned.at, kind=planned.kind.value, to=planned.to.value) if planned else None


def project_status(project: Project, now: datetime, include_history: bool = False) -> ProjectStatus:
    labels = {step.id: step.label for stage in project.process.stages for step in stage.steps}
    stage = project.process.stages[project.stage_index]
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
                days_overdue=0 if project.pause else days_overdue(s, now),
            )
            for s in project.steps
        ],
        next_due_at=next_deadline(project),
        next_reminder=_next_reminder(project),
        pause=PauseView(**project.pause.model_dump()) if project.pause else None,
        planned_opening=project.profile.planned_opening,
        cohorts=list(project.cohorts),
        updated_at=project.updated_at,
        history=list(project.events) if include_history else None,
    )
