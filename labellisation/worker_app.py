"""Building the worker: which workflows and activities run on the task queue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.notifications import NotificationActivities
from activities.process_definitions import ProcessDefinitions
from activities.records import RecordsActivities
from labellisation.contract import TASK_QUEUE
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from workflows.daily_digest import DailyDigestWorkflow
from workflows.school_creation import SchoolCreationWorkflow

WORKFLOWS = [SchoolCreationWorkflow, DailyDigestWorkflow]
#: Pure libraries our models use while decoding payloads inside the sandbox; and our workflow modules.
#:
#: `workflows` is passed through (#20 part 3): the sandbox otherwise imports `workflows/school_creation.py` and
#: its helper modules again for every workflow it builds (each new project, and each project brought back
#: after leaving the sticky cache): over a third of the worker's CPU per new project. Safe because
#: those modules hold no state a workflow writes: constants, patch names, classes whose state lives on their
#: instances (one per workflow run). What it gives up: the sandbox no longer wraps the modules *they* import
#: (`datetime`, ...) to refuse a non-deterministic call made in `workflows/`, as it already did not for the
#: pure model they call (`labellisation.path`, passed through by the workflows' imports); the builtins
#: (`open`, ...) stay restricted. tests/test_architecture.py keeps `os`, `time`, `random` out of `workflows/`.
_RESTRICTIONS = SandboxRestrictions.default.with_passthrough_modules(
    "email_validator", "idna", "yaml", "dateutil", "workflows"
)
#: How long the server waits for this worker to pick up a task on its own (sticky) queue before handing it to any
#: worker. The SDK's 10 s equals the API's COMMAND_DEADLINE: after a worker was killed, a status read of a project
#: it held waited the whole 10 s for it and answered 503 (bench part `cold`). 3 s leaves the replay 7 s.
STICKY_QUEUE_TIMEOUT = timedelta(seconds=3)


def sandbox_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=_RESTRICTIONS)


def build_worker(
    client: Client,
    task_queue: str = TASK_QUEUE,
    *,
    store: RecordStore,
    settings: Settings | None = None,
    executor: ThreadPoolExecutor | None = None,
) -> Worker:
    settings = settings or Settings()
    definitions = ProcessDefinitions()
    records = RecordsActivities(store)
    notifications = NotificationActivities(store, settings)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            definitions.load_process_definition,
            records.record_events,
            notifications.send_reminder,
            notifications.send_reminders,
            notifications.send_reminders_with_news,
            notifications.send_news,
            notifications.send_daily_digests,
        ],
        activity_executor=executor or ThreadPoolExecutor(max_workers=settings.max_concurrent_activities),
        workflow_runner=sandbox_runner(),
        max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_cached_workflows=settings.max_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=30),
        sticky_queue_schedule_to_start_timeout=STICKY_QUEUE_TIMEOUT,
    )
