"""SchoolCreationWorkflow: one durable workflow per school project.

A thin loop around the pure path model: wait for a message or the next
deadline, apply, publish search attributes, repeat. No clock, environment or
I/O here: time is `workflow.now()`, the process definition comes in the input
or from an activity, whose result history keeps.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from labellisation.contract import (
        ACTIVITY_LOAD_PROCESS,
        QUERY_STATUS,
        SA_NEXT_DUE_AT,
        SA_REGION,
        SA_STAGE,
        SA_STATE,
        SIGNAL_DECIDE,
        WORKFLOW_NAME,
        LoadProcess,
        ProjectOutcome,
        StartProject,
        Update,
    )
    from labellisation.path.commands import (
        AbandonProject,
        Command,
        DecideStep,
        MoveDeadline,
        PauseProject,
        RecordCohort,
        ResumeProject,
        SubmitStep,
    )
    from labellisation.path.deadlines import next_deadline, next_wakeup
    from labellisation.path.limits import oversized, record_batch_end, without_recorded_events
    from labellisation.path.reminders import (
        ACTIVITY_SEND_REMINDER,
        PlannedReminder,
        ReminderSent,
        planned_reminders,
        send_request,
    )
    from labellisation.path.state import Project
    from labellisation.path.status import ProjectStatus, StatusRequest, project_status
    from labellisation.path.transitions import (
        Refusal,
        apply,
        mark_reminder_sent,
        note_deadlines,
        record_refused_signal,
        start_project,
    )
    from labellisation.process import ProcessDefinition
    from labellisation.records.schema import ACTIVITY_RECORD_EVENTS, RecordedEvents, RecordEvents, project_record

_UNSET = object()
#: Events per record activity before the size bound (runs started before that patch keep this rule).
RECORD_BATCH = 200
#: Patch: record batches bounded in bytes too (labellisation/path/limits.py).
PATCH_RECORD_BATCH_BYTES = "record-batch-bytes"
#: Patch: reminders due at the same moment sent together, not one after another.
PATCH_REMINDERS_TOGETHER = "reminders-together"
#: At most this many reminder e-mails in flight for one project.
REMINDERS_AT_ONCE = 10
STARTING = "le projet est en cours de démarrage : réessayez dans un instant"


def _refused(refusal: Refusal) -> ApplicationError:
    return ApplicationError(refusal.message, type=refusal.code.value, non_retryable=True)


@workflow.defn(name=WORKFLOW_NAME)
class SchoolCreationWorkflow:
    @workflow.init
    def __init__(self, start: StartProject) -> None:
        self._project: Project | None = start.project
        if self._project is None and start.process is not None:
            self._project = start_project(start.profile, start.process, workflow.now(), start.actor)
        self._early_signals: list[DecideStep] = []
        self._changed = False
        self._published: dict[str, object] = {}
        self._recorded = start.recorded_events
        self._sending = False
        self._planned: tuple[Project | None, list[PlannedReminder]] = (None, [])

    @workflow.run
    async def run(self, start: StartProject) -> ProjectOutcome:
        if self._project is None:
            process = start.process or await self._load_process(start.process_id)
            self._project = start_project(start.profile, process, workflow.now(), start.actor)
            workflow.logger.info("project started", extra={"project_id": start.profile.project_id})
        for signal in self._early_signals:
            self.decide_signal(signal)
        recorder = asyncio.create_task(self._record_events())
        notifier = asyncio.create_task(self._send_reminders())
        project = self._current()
        while not project.finished:
            self._project = project = note_deadlines(project, workflow.now())
            self._publish(project)
            if self._should_continue_as_new(start):
                await self._settle(recorder, notifier)
                carried = without_recorded_events(self._current(), self._recorded)
                workflow.continue_as_new(
                    start.model_copy(update={"project": carried, "process": None, "recorded_events": 0})
                )
            await self._wait_for_message_or(self._next_wake())
            project = self._current()
        self._publish(project)
        await self._settle(recorder, notifier)
        workflow.logger.info("project finished", extra={"state": project.state.value})
        return ProjectOutcome(project_id=project.profile.project_id, state=project.state)

    # -- updates: one validator and one handler per command ---------------------------

    @workflow.update(name=Update.SUBMIT)
    async def submit(self, command: SubmitStep) -> ProjectStatus:
        return await self._accept(command)

    @submit.validator
    def _check_submit(self, command: SubmitStep) -> None:
        self._check(command)

    @workflow.update(name=Update.DECIDE)
    async def decide(self, command: DecideStep) -> ProjectStatus:
        return await self._accept(command)

    @decide.validator
    def _check_decide(self, command: DecideStep) -> None:
        self._check(command)

    @workflow.update(name=Update.MOVE_DEADLINE)
    async def move_deadline(self, command: MoveDeadline) -> ProjectStatus:
        return await self._accept(command)

    @move_deadline.validator
    def _check_move_deadline(self, command: MoveDeadline) -> None:
        self._check(command)

    @workflow.update(name=Update.PAUSE)
    async def pause(self, command: PauseProject) -> ProjectStatus:
        return await self._accept(command)

    @pause.validator
    def _check_pause(self, command: PauseProject) -> None:
        self._check(command)

    @workflow.update(name=Update.RESUME)
    async def resume(self, command: ResumeProject) -> ProjectStatus:
        return await self._accept(command)

    @resume.validator
    def _check_resume(self, command: ResumeProject) -> None:
        self._check(command)

    @workflow.update(name=Update.ABANDON)
    async def abandon(self, command: AbandonProject) -> ProjectStatus:
        return await self._accept(command)

    @abandon.validator
    def _check_abandon(self, command: AbandonProject) -> None:
        self._check(command)

    @workflow.update(name=Update.RECORD_COHORT)
    async def record_cohort(self, command: RecordCohort) -> ProjectStatus:
        return await self._accept(command)

    @record_cohort.validator
    def _check_record_cohort(self, command: RecordCohort) -> None:
        self._check(command)

    # -- the decision as a signal, and the status query ----------------------------------

    @workflow.signal(name=SIGNAL_DECIDE)
    def decide_signal(self, command: DecideStep) -> None:
        """Same rules as the update; a refusal is kept in the history, nothing else changes."""
        if self._project is None:
            self._early_signals.append(command)
            return
        result = apply(self._project, command, workflow.now())
        if isinstance(result, Refusal):
            workflow.logger.info("signal refused", extra={"step": command.step, "reason": result.message})
            result = record_refused_signal(self._project, command, result, workflow.now())
        self._project = result
        self._changed = True

    @workflow.query(name=QUERY_STATUS)
    def status(self, request: StatusRequest | None = None) -> ProjectStatus:
        if self._project is None:
            raise ApplicationError(STARTING, type="conflict", non_retryable=True)
        request = request or StatusRequest()
        now = max(workflow.now(), request.as_of) if request.as_of else workflow.now()
        return project_status(self._project, now, include_history=request.include_history)

    # -- helpers --------------------------------------------------------------------------

    def _current(self) -> Project:
        assert self._project is not None
        return self._project

    def _check(self, command: Command) -> None:
        # Validators do not run on replay: a bound checked here never refuses an old history's update.
        too_large = oversized(command)
        if too_large is not None:
            raise ApplicationError(too_large, type="invalid", non_retryable=True)
        if self._project is None:
            return  # still loading its definition: the handler waits, then checks
        result = apply(self._project, command, workflow.now())
        if isinstance(result, Refusal):
            raise _refused(result)

    async def _accept(self, command: Command) -> ProjectStatus:
        await workflow.wait_condition(lambda: self._project is not None)
        result = apply(self._current(), command, workflow.now())
        if isinstance(result, Refusal):  # only when it arrived while the project was starting
            raise _refused(result)
        self._project = result
        self._changed = True
        workflow.logger.info("command accepted", extra={"command": type(command).__name__})
        return project_status(result, workflow.now())

    async def _record_events(self) -> None:
        """Write every accepted event to the records database, in order, in batches.

        Runs beside the main loop: while the database is down the activity
        retries with backoff and the project goes on accepting commands.
        """
        by_size = workflow.patched(PATCH_RECORD_BATCH_BYTES)
        while True:
            await workflow.wait_condition(lambda: self._recorded < len(self._current().events))
            project = self._current()
            if by_size:
                end = record_batch_end(project.events, self._recorded)
            else:
                end = min(len(project.events), self._recorded + RECORD_BATCH)
            batch = RecordEvents(project=project_record(project), events=project.events[self._recorded : end])
            await workflow.execute_activity(
                ACTIVITY_RECORD_EVENTS,
                batch,
                result_type=RecordedEvents,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)),
            )
            self._recorded = end

    async def _send_reminders(self) -> None:
        """Send each reminder once it is due, beside the main loop.

        Reminders due at the same moment (the steps of one stage share their deadline) go out
        together, up to REMINDERS_AT_ONCE; runs started before that patch send one at a time.
        While the SMTP server is down the activities retry with backoff; a reminder is marked
        sent (and its event recorded) only once it went out.
        """
        together = workflow.patched(PATCH_REMINDERS_TOGETHER)
        while True:
            await workflow.wait_condition(lambda: bool(self._due_reminders()))
            due = self._due_reminders()[: REMINDERS_AT_ONCE if together else 1]
            self._sending = True
            # Scheduled here, in order, in this activation (as one `execute_activity` was before).
            sending = [self._start_sending(reminder) for reminder in due]
            for reminder, handle in zip(due, sending, strict=True):
                sent = await handle
                self._project = mark_reminder_sent(
                    self._current(), reminder.reminder_id, reminder.kind.value, reminder.step, sent.to, workflow.now()
                )
            self._sending = False
            self._changed = True

    def _start_sending(self, reminder: PlannedReminder) -> workflow.ActivityHandle[ReminderSent]:
        return workflow.start_activity(
            ACTIVITY_SEND_REMINDER,
            send_request(self._current(), reminder, workflow.now()),
            result_type=ReminderSent,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(hours=1)),
        )

    def _planned_reminders(self) -> list[PlannedReminder]:
        """`planned_reminders` of the current project, computed once per version of it.

        The path model is copy-on-write (every change is a new Project), so the object's identity
        names its version. The wait condition of `_send_reminders` runs after every event of every
        activation: recomputing every series there was the workflow's largest CPU cost.
        """
        project = self._current()
        if self._planned[0] is not project:
            self._planned = (project, planned_reminders(project))
        return self._planned[1]

    def _due_reminders(self) -> list[PlannedReminder]:
        now = workflow.now()
        return list(takewhile(lambda r: r.at <= now, self._planned_reminders()))  # sorted by `at`

    def _next_wake(self) -> datetime | None:
        """The next deadline to note or reminder to send, whichever comes first."""
        project, now = self._current(), workflow.now()
        upcoming = [r.at for r in self._planned_reminders() if r.at > now]
        candidates = [t for t in (next_wakeup(project), min(upcoming, default=None)) if t is not None]
        return min(candidates, default=None)

    async def _settle(self, *background: asyncio.Task[None]) -> None:
        """Before closing or continuing as new: handlers and reminders done, every event recorded."""
        await workflow.wait_condition(
            lambda: (
                workflow.all_handlers_finished() and not self._sending and self._recorded == len(self._current().events)
            )
        )
        for task in background:
            task.cancel()

    async def _load_process(self, process_id: str) -> ProcessDefinition:
        definition: ProcessDefinition = await workflow.execute_activity(
            ACTIVITY_LOAD_PROCESS,
            LoadProcess(process_id=process_id),
            result_type=ProcessDefinition,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=5),
        )
        return definition

    async def _wait_for_message_or(self, wake_at: datetime | None) -> None:
        """Sleep until a message changes the project or the next deadline passes."""
        self._changed = False
        timeout = None if wake_at is None else max(wake_at - workflow.now(), timedelta(seconds=1))
        try:
            await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        except TimeoutError:
            pass  # the deadline passed: the loop notes it

    def _should_continue_as_new(self, start: StartProject) -> bool:
        info = workflow.info()
        if info.is_continue_as_new_suggested():
            return True
        limit = start.max_history_events
        return limit is not None and info.get_current_history_length() >= limit

    def _publish(self, project: Project) -> None:
        """Upsert the search attributes that changed since the last upsert."""
        updates: list[SearchAttributeUpdate[Any]] = []
        keywords = {
            SA_STAGE: project.current_stage_id(),
            SA_REGION: project.profile.region,
            SA_STATE: project.state.value,
        }
        for key, value in keywords.items():
            if self._published.get(key.name, _UNSET) != value:
                self._published[key.name] = value
                updates.append(key.value_set(value))
        due = next_deadline(project)
        if self._published.get(SA_NEXT_DUE_AT.name, _UNSET) != due:
            self._published[SA_NEXT_DUE_AT.name] = due
            updates.append(SA_NEXT_DUE_AT.value_unset() if due is None else SA_NEXT_DUE_AT.value_set(due))
        if updates:
            workflow.upsert_search_attributes(updates)
