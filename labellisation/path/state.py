"""What a project is at one moment: profile, steps, pause, cohorts, events."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from labellisation.process import ProcessDefinition

ProjectId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class StepStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"


#: Steps whose deadline is the holder's to meet.
AWAITING_HOLDER = frozenset({StepStatus.IN_PROGRESS, StepStatus.CHANGES_REQUESTED})
#: Steps that are started and not yet decided for good.
OPEN_STEP = AWAITING_HOLDER | {StepStatus.SUBMITTED}


class ProjectState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    REJECTED = "rejected"
    ABANDONED = "abandoned"


FINISHED = frozenset({ProjectState.COMPLETED, ProjectState.REJECTED, ProjectState.ABANDONED})


class EventKind(StrEnum):
    PROJECT_STARTED = "project_started"
    STAGE_STARTED = "stage_started"
    STEP_STARTED = "step_started"
    STEP_SUBMITTED = "step_submitted"
    STEP_APPROVED = "step_approved"
    CHANGES_REQUESTED = "changes_requested"
    STEP_REJECTED = "step_rejected"
    STAGE_COMPLETED = "stage_completed"
    PROJECT_COMPLETED = "project_completed"
    DEADLINE_MOVED = "deadline_moved"
    DEADLINE_PASSED = "deadline_passed"
    PROJECT_PAUSED = "project_paused"
    PROJECT_RESUMED = "project_resumed"
    PROJECT_ABANDONED = "project_abandoned"
    COHORT_RECORDED = "cohort_recorded"
    REMINDER_SENT = "reminder_sent"
    SIGNAL_REFUSED = "signal_refused"
    PLANNED_OPENING_CHANGED = "planned_opening_changed"
    PROFILE_UPDATED = "profile_updated"
    PROJECT_MIGRATED = "project_migrated"
    #: An e-mail the mail server refused for good (a 5xx reply): not sent again; the coordinators are told.
    DELIVERY_FAILED = "delivery_failed"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Holder(_Model):
    name: ShortText
    email: EmailStr


class ProjectProfile(_Model):
    """Who and what the school is; given by the coordinator at start."""

    project_id: ProjectId
    name: ShortText
    region: ShortText
    department: ShortText
    city: ShortText
    academy: ShortText | None = None
    trades: list[ShortText] = Field(min_length=1, max_length=20)
    diplomas: list[ShortText] = Field(default_factory=list, max_length=20)
    capacity: int | None = Field(default=None, ge=1, le=500)
    holder: Holder
    planned_opening: date


class Document(_Model):
    title: ShortText
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]


class StepState(_Model):
    id: str
    stage: str
    status: StepStatus = StepStatus.NOT_STARTED
    started_at: datetime | None = None
    due_at: datetime | None = None
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    #: When the current due_at was set (stage start, deadline moved, resume): reminders count from it.
    due_set_at: datetime | None = None
    #: The DEADLINE_PASSED event was emitted for the current due_at.
    deadline_noted: bool = False
    submissions: int = 0
    documents: list[Document] = Field(default_factory=list)


class Pause(_Model):
    since: datetime
    reason: str
    review_on: date


class PausedSpan(_Model):
    """A pause that ended (fair clocks): the clocks counted nothing from `since` to `until`.

    `days` is what resume gave back to the open clocks: the days from the pause's day to the resume's
    (Paris dates with a working-day calendar), or the exact paused time in days without a calendar.
    """

    since: datetime
    until: datetime
    days: float


class Cohort(_Model):
    """Outcomes of one cohort of young people (DOMAIN.md, amorçage)."""

    label: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z _/-]{0,39}$")]
    enrolled: int = Field(ge=0, le=1000)
    dropouts: int = Field(ge=0, le=1000)
    presented: int = Field(ge=0, le=1000)
    passed: int = Field(ge=0, le=1000)
    positive_exits: int = Field(ge=0, le=1000)
    job_offers: int = Field(ge=0, le=100000)


class Event(_Model):
    """One accepted fact about a project; `event_id` is deterministic."""

    event_id: str
    at: datetime
    kind: EventKind
    step: str | None = None
    actor: str | None = None
    comment: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Decided(_Model):
    """What a `decision_id` was used for, so a retry is recognised."""

    step: str
    decision: str


class Project(_Model):
    """The whole state of a project, carried through continue-as-new."""

    profile: ProjectProfile
    process: ProcessDefinition
    state: ProjectState = ProjectState.ACTIVE
    stage_index: int = 0
    steps: list[StepState]
    pause: Pause | None = None
    cohorts: list[Cohort] = Field(default_factory=list)
    decisions: dict[str, Decided] = Field(default_factory=dict)
    #: Ids of the reminders already sent (each goes out once); also of the e-mails refused for good.
    sent_reminders: set[str] = Field(default_factory=set)
    #: The addresses a mail server refused for good: the coordinators are told of the first refusal of each.
    refused_addresses: set[str] = Field(default_factory=set)
    events: list[Event] = Field(default_factory=list)
    next_event_number: int = 1
    started_at: datetime
    updated_at: datetime
    #: Which rules the clocks follow (labellisation/path/clocks.py): 1, those a project had before the
    #: fair clocks (absent from older payloads); 2, the fair clocks (README, "Rules of the clocks"). Chosen
    #: when the project is built, never changed: a running project keeps the rules it started with.
    clock_rules: int = Field(default=1, ge=1)
    #: The pauses that ended, oldest first (fair clocks): clocks started before one are moved past it.
    pauses: list[PausedSpan] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def find_step(self, step_id: str) -> StepState | None:
        return next((step for step in self.steps if step.id == step_id), None)

    def current_stage_id(self) -> str:
        return self.process.stages[self.stage_index].id
