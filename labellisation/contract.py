"""The Temporal contract: names users and scripts rely on, and the payloads.

Change a name here only with a migration note in the README.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from temporalio.common import SearchAttributeKey

from labellisation.path.state import Project, ProjectProfile, ProjectState, ShortText
from labellisation.process import ProcessDefinition

TASK_QUEUE = "labellisation"
WORKFLOW_NAME = "SchoolCreationWorkflow"
WORKFLOW_ID_PREFIX = "school-"


def workflow_id(project_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{project_id}"


class Update(StrEnum):
    """Update names: every command a person sends, and `started`, the status once the project is built."""

    SUBMIT = "submit"
    DECIDE = "decide"
    MOVE_DEADLINE = "move_deadline"
    PAUSE = "pause"
    RESUME = "resume"
    ABANDON = "abandon"
    RECORD_COHORT = "record_cohort"
    CHANGE_PLANNED_OPENING = "change_planned_opening"
    UPDATE_PROFILE = "update_profile"
    #: Payload: the whole definition of the new version (the workflow reads no file; the API loads it).
    MIGRATE = "migrate"
    #: No payload, changes nothing: waits until the project is built and returns its status.
    #: `POST /projects` sends it with the start (update-with-start), so the 201 needs no polling.
    STARTED = "started"


#: The reviewer's decision, also accepted as a signal (same payload as the update).
SIGNAL_DECIDE = "decide"
QUERY_STATUS = "status"
#: A migration's dry run: argument the new definition, answer `MigrationPlan` (labellisation/path/migration.py).
QUERY_MIGRATION_PLAN = "migration_plan"

# Activity names: the worker registers them (activities/), the workflow schedules them through the
# typed methods of those classes. History and running workers hold these strings: never rename one.
# Payloads: LoadProcess (below) -> ProcessDefinition (labellisation/process.py);
# RecordEvents -> RecordedEvents (labellisation/records/schema.py);
# SendReminder -> ReminderSent (labellisation/path/reminders.py).
ACTIVITY_LOAD_PROCESS = "load_process_definition"
ACTIVITY_RECORD_EVENTS = "record_events"
ACTIVITY_SEND_REMINDER = "send_reminder"
ACTIVITY_SEND_NEWS = "send_news"
ACTIVITY_SEND_REMINDERS = "send_reminders"
#: Reminders and news to the same reader about the same project at the same moment, as one e-mail (#17 item 3).
ACTIVITY_SEND_REMINDERS_WITH_NEWS = "send_reminders_with_news"
#: « Votre point du jour »: each working morning, one e-mail per person who chose it, across their projects (#17).
ACTIVITY_SEND_DAILY_DIGESTS = "send_daily_digests"
WORKFLOW_DAILY_DIGEST = "DailyDigestWorkflow"
#: The Temporal Schedule that starts it at 09:00 Paris, Monday to Friday (the activity skips public holidays), and
#: the id of the workflow it starts.
DIGEST_SCHEDULE_ID = "point-du-jour"
#: The error type of a send the mail server refused for good; its details: {"refused": [...], "reason": "550 ..."}.
DELIVERY_REFUSED = "delivery_refused"

SA_STAGE = SearchAttributeKey.for_keyword("SchoolStage")
SA_REGION = SearchAttributeKey.for_keyword("SchoolRegion")
SA_STATE = SearchAttributeKey.for_keyword("SchoolState")
SA_NEXT_DUE_AT = SearchAttributeKey.for_datetime("SchoolNextDueAt")
#: The school's name and city, set at the start: a column of Temporal UI's workflow list (which does not show the
#: static summary), and a filter (`SchoolName STARTS_WITH "École de Production de Lyon"`).
SA_NAME = SearchAttributeKey.for_keyword("SchoolName")
SEARCH_ATTRIBUTES = (SA_STAGE, SA_REGION, SA_STATE, SA_NEXT_DUE_AT, SA_NAME)


class StartProject(BaseModel):
    """Workflow input. `process` is the snapshot; when absent, `process_id` is loaded once."""

    model_config = ConfigDict(extra="forbid")

    profile: ProjectProfile
    process_id: str = "fnep"
    process: ProcessDefinition | None = None
    actor: ShortText = "coordination FNEP"
    #: The state carried through continue-as-new; None for a new project.
    project: Project | None = None
    #: How many of the project's events the records database already holds.
    recorded_events: int = Field(default=0, ge=0)
    #: Continue as new once the run's history reaches this many events (None: when Temporal suggests).
    max_history_events: int | None = Field(default=None, ge=100)


class LoadProcess(BaseModel):
    process_id: str


class ProjectOutcome(BaseModel):
    project_id: str
    state: ProjectState
