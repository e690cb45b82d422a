"""Sending commands to project workflows and reading their status, with readable errors."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import QueryRejectCondition, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from labellisation.api.errors import REFUSAL_STATUS, ApiError
from labellisation.contract import (
    QUERY_MIGRATION_PLAN,
    QUERY_STATUS,
    WORKFLOW_NAME,
    StartProject,
    Update,
    workflow_id,
)
from labellisation.log_setup import get_logger
from labellisation.overview import static_details, static_summary
from labellisation.path.migration import MigrationPlan
from labellisation.path.state import Event, ProjectProfile
from labellisation.path.status import ProjectStatus, StatusRequest
from labellisation.path.transitions import STATE_LABELS
from labellisation.process import ProcessDefinition, ProcessDefinitionError, load_process
from labellisation.records.rebuilt import status_from_records
from labellisation.records.schema import ProjectRecord
from labellisation.records.store import RecordStore

#: "Workflow Task in failed state": a worker died mid-task; the next worker picks it up within seconds.
NOT_READY_RETRIES = 10
#: How long a command, a start or a status read waits for a worker to answer before the API says 503 (a worker
#: answers in milliseconds; none does when every worker is down or the task queue is misnamed).
COMMAND_DEADLINE = timedelta(seconds=10)
#: What the 503 tells clients to wait before trying again.
RETRY_AFTER = "30"
#: The gRPC statuses of a call that ran out of time or was cut.
_TIMED_OUT = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)
#: How long `GET /history` waits for the workflow's not-yet-recorded events before answering with the records alone.
EVENTS_QUERY_TIMEOUT = timedelta(seconds=2)

log = get_logger("labellisation.api")


def no_worker(what: str) -> ApiError:
    """503: no worker answered within COMMAND_DEADLINE; `what` says what became of the request."""
    message = f"aucun worker ne répond pour l'instant : {what} ; réessayez dans un moment"
    log.warning("no worker answered", deadline_seconds=COMMAND_DEADLINE.total_seconds())
    return ApiError(503, message, headers={"Retry-After": RETRY_AFTER})


async def _missing(store: RecordStore, project_id: str) -> ApiError:
    record = await store.project(project_id)
    if record is None:
        return ApiError(404, f"projet inconnu : {project_id!r}")
    return ApiError(409, f"le projet est terminé ({STATE_LABELS[record.state]}) : il n'accepte plus de commande")


async def start_workflow(
    client: Client, start: StartProject, task_queue: str, search_attributes: TypedSearchAttributes
) -> ProjectStatus:
    """Start a project's workflow and return the status it built, in one round trip.

    Update-with-start: the `started` update travels with the start and is answered in the
    workflow's first task. Temporal's UI shows it under the school's name and city (its static
    summary). An id already running is refused (conflict policy FAIL): Temporal's
    server says so with WorkflowAlreadyStartedError, the Java time-skipping test server with a
    bare ALREADY_EXISTS.
    """
    project_id = start.profile.project_id
    operation: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        WORKFLOW_NAME,
        start,
        id=workflow_id(project_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        search_attributes=search_attributes,
        static_summary=static_summary(start.profile),
        static_details=static_details(start.profile, start.process_id),
    )
    try:
        status: ProjectStatus = await client.execute_update_with_start_workflow(
            Update.STARTED, start_workflow_operation=operation, result_type=ProjectStatus, rpc_timeout=COMMAND_DEADLINE
        )
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise no_worker(f"le projet {project_id!r} est enregistré et démarrera à son retour") from None
    except (WorkflowAlreadyStartedError, RPCError) as error:
        if isinstance(error, RPCError) and error.status in _TIMED_OUT:
            raise no_worker(f"le projet {project_id!r} n'a peut-être pas été enregistré") from None
        if isinstance(error, RPCError) and error.status is not RPCStatusCode.ALREADY_EXISTS:
            raise
        # The operation keeps the same error for `workflow_handle()`: read it, or asyncio logs it as never retrieved.
        with contextlib.suppress(WorkflowAlreadyStartedError, RPCError):
            await operation.workflow_handle()
        raise ApiError(409, f"le projet {project_id!r} existe déjà") from None
    return status


def started_record(profile: ProjectProfile, status: ProjectStatus) -> ProjectRecord:
    """A just-started project's portfolio row, from the status its start answered: the row its recorder's first
    batch writes (`labellisation.records.schema.project_record`), without the project itself."""
    return ProjectRecord(
        project_id=status.project_id, name=profile.name, region=profile.region, department=profile.department,
        city=profile.city, academy=profile.academy, process=status.process, process_version=status.process_version,
        state=status.state, current_stage=status.current_stage, next_due_at=status.next_due_at,
        planned_opening=profile.planned_opening, holder_email=str(profile.holder.email),
        updated_at=status.updated_at, profile=profile.model_dump(mode="json"),
    )  # fmt: skip


async def list_at_once(store: RecordStore, profile: ProjectProfile, status: ProjectStatus) -> None:
    """Write a project's portfolio row as its start is answered, so that the lists show it at once; the workflow's
    first record batch, a moment later, would otherwise be the first to write it. Never the cause of a failed
    start: the project has started, and with the records database unreachable its recorder writes the row later."""
    try:
        await store.introduce(started_record(profile, status))
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        log.warning("records unreachable: the new project is listed once its recorder writes it",
                    project_id=status.project_id, error=type(error).__name__)  # fmt: skip


async def send_command(
    client: Client, store: RecordStore, project_id: str, update: Update, command: Any, update_id: str | None = None
) -> ProjectStatus:
    handle = client.get_workflow_handle(workflow_id(project_id))
    try:
        status: ProjectStatus = await _execute_update(handle, update, command, update_id)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type in REFUSAL_STATUS:
            raise ApiError(REFUSAL_STATUS[cause.type], cause.message) from None
        raise
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise no_worker("la commande n'a pas encore été traitée (elle le sera à son retour)") from None
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise await _missing(store, project_id) from None
        if error.status in _TIMED_OUT:
            raise no_worker("la commande n'a pas encore été traitée (elle le sera à son retour)") from None
        raise
    return status


async def _execute_update(handle: WorkflowHandle[Any, Any], update: Update, command: Any, update_id: str | None) -> Any:
    """Retry the moment after a worker died mid-task, when the server refuses updates (not ready)."""
    for attempt in range(NOT_READY_RETRIES):
        try:
            return await handle.execute_update(
                update, command, id=update_id, result_type=ProjectStatus, rpc_timeout=COMMAND_DEADLINE
            )
        except RPCError as error:
            if error.status is not RPCStatusCode.FAILED_PRECONDITION or attempt == NOT_READY_RETRIES - 1:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


async def read_status(client: Client, store: RecordStore, project_id: str) -> ProjectStatus:
    """The workflow's status; once the workflow is gone (retention), the status rebuilt from the records."""
    handle = client.get_workflow_handle(workflow_id(project_id))
    now = datetime.now(UTC)
    try:
        status: ProjectStatus = await handle.query(
            QUERY_STATUS, StatusRequest(as_of=now), result_type=ProjectStatus, rpc_timeout=COMMAND_DEADLINE
        )
    except RPCError as error:
        if error.status in _TIMED_OUT:
            raise no_worker("l'état du projet ne peut pas être lu") from None
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        record = await store.project(project_id)
        if record is None:
            raise ApiError(404, f"projet inconnu : {project_id!r}") from None
        return status_from_records(record, await store.history(project_id), _shipped(record.process), now)
    return status


def _shipped(process_id: str) -> ProcessDefinition | None:
    try:
        return load_process(process_id)
    except ProcessDefinitionError:
        return None


async def migration_plan(
    client: Client, store: RecordStore, project_id: str, process: ProcessDefinition
) -> MigrationPlan:
    """The workflow's answer to a migration's dry run: what moving to `process` would change, or why not."""
    handle = client.get_workflow_handle(workflow_id(project_id))
    try:
        plan: MigrationPlan = await handle.query(QUERY_MIGRATION_PLAN, process, result_type=MigrationPlan)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise await _missing(store, project_id) from None
        raise
    except WorkflowQueryFailedError as error:
        raise ApiError(409, str(error)) from None
    return plan


async def workflow_events(client: Client, project_id: str) -> list[Event]:
    """The events of the workflow's current run, oldest first; none when it cannot say.

    The workflow records its events in the background, a moment after answering a command: its
    `status` query shows those not yet in the records database. Only an open workflow is asked (a
    closed one recorded every event before closing), within `EVENTS_QUERY_TIMEOUT`: a workflow gone
    (retention), still starting or with no worker to answer leaves the records alone, never an error.
    """
    handle = client.get_workflow_handle(workflow_id(project_id))
    try:
        status: ProjectStatus = await handle.query(
            QUERY_STATUS,
            StatusRequest(include_history=True),
            result_type=ProjectStatus,
            reject_condition=QueryRejectCondition.NOT_OPEN,
            rpc_timeout=EVENTS_QUERY_TIMEOUT,
        )
    except WorkflowQueryRejectedError:
        return []  # closed: the records hold everything
    except (RPCError, WorkflowQueryFailedError) as error:
        if not (isinstance(error, RPCError) and error.status is RPCStatusCode.NOT_FOUND):
            log.info("history from the records alone", project_id=project_id, reason=type(error).__name__)
        return []
    return status.history or []


async def project_events(client: Client, store: RecordStore, project_id: str) -> list[Event]:
    """Every event of a project, oldest first: the records database's, then the workflow's not yet recorded there
    (they follow a command by a moment). 404 for a project found in neither."""
    recorded, in_workflow = await asyncio.gather(store.history(project_id), workflow_events(client, project_id))
    known = {e.event_id for e in recorded}
    events = recorded + [e for e in in_workflow if e.event_id not in known]
    if not events and await store.project(project_id) is None:
        raise ApiError(404, f"projet inconnu : {project_id!r}")
    return events
