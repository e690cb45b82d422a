"""SchoolCreationWorkflow: one durable workflow per school project.

A thin loop around the pure path model: wait for a message or the next
deadline, apply, publish search attributes and the UI's current details,
repeat. No clock, environment or I/O here: time is `workflow.now()`, the
process definition comes in the input or from an activity, whose result
history keeps.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.process_definitions import ProcessDefinitions
    from labellisation.contract import (
        QUERY_MIGRATION_PLAN,
        QUERY_STATUS,
        SIGNAL_DECIDE,
        WORKFLOW_NAME,
        LoadProcess,
        ProjectOutcome,
        StartProject,
        Update,
    )
    from labellisation.path.clocks import FAIR_CLOCKS, FIRST_CLOCK_RULES
    from labellisation.path.commands import (
        AbandonProject,
        ChangePlannedOpening,
        Command,
        DecideStep,
        MigrateProject,
        MoveDeadline,
        PauseProject,
        RecordCohort,
        ResumeProject,
        SubmitStep,
        UpdateProfile,
    )
    from labellisation.path.deadlines import next_wakeup
    from labellisation.path.limits import oversized, without_recorded_events
    from labellisation.path.migration import MigrationPlan, plan_migration
    from labellisation.path.state import Project
    from labellisation.path.status import ProjectStatus, StatusRequest, project_status
    from labellisation.path.transitions import (
        Refusal,
        apply,
        note_deadlines,
        record_refused_signal,
        start_project,
    )
    from labellisation.process import ProcessDefinition

from workflows.background import BackgroundTasks
from workflows.news_sender import PATCH_NEWS, PATCH_NEWS_MORNINGS, NewsSender
from workflows.recorder import EventRecorder
from workflows.reminder_sender import PATCH_CATCH_UP, ReminderSender
from workflows.search_publisher import SearchPublisher
from workflows.ui_details import DetailsPublisher

STARTING = "le projet est en cours de démarrage : réessayez dans un instant"


#: Patch: projects built from here on follow the fair clocks (README, "Rules of the clocks"). Decided once,
#: when the project is built; the rules are then part of the project (`Project.clock_rules`), carried
#: through continue-as-new, so the pure model, not the workflow, branches on them.
PATCH_FAIR_CLOCKS = "fair-clocks"


def _new_project_clock_rules() -> int:
    """The clock rules of a project built now: the fair clocks, except when replaying a run from before the patch."""
    return FAIR_CLOCKS if workflow.patched(PATCH_FAIR_CLOCKS) else FIRST_CLOCK_RULES


def _refused(refusal: Refusal) -> ApplicationError:
    return ApplicationError(refusal.message, type=refusal.code.value, non_retryable=True)


@workflow.defn(name=WORKFLOW_NAME)
class SchoolCreationWorkflow:
    @workflow.init
    def __init__(self, start: StartProject) -> None:
        self._project: Project | None = start.project
        if self._project is None and start.process is not None:
            self._project = start_project(
                start.profile, start.process, workflow.now(), start.actor, clock_rules=_new_project_clock_rules()
            )
        self._early_signals: list[DecideStep] = []
        #: Set by every change from outside the main loop: wakes it.
        self._changed = False
        self._recorder = EventRecorder(start.recorded_events)
        self._reminders = ReminderSender()
        # A carried project's events were announced by the run before (it settled its news first).
        self._news = NewsSender(start.project.next_event_number if start.project is not None else 0)
        self._search = SearchPublisher()
        self._details = DetailsPublisher()
        self._background = BackgroundTasks()

    @workflow.run
    async def run(self, start: StartProject) -> ProjectOutcome:
        if self._project is None:
            process = start.process or await self._load_process(start.process_id)
            self._project = start_project(
                start.profile, process, workflow.now(), start.actor, clock_rules=_new_project_clock_rules()
            )
            workflow.logger.info("project started", extra={"project_id": start.profile.project_id})
        for signal in self._early_signals:
            self.decide_signal(signal)
        # Decided once per run, before any sender starts: news of events, and refusals reported (#17).
        self._news.enabled = self._reminders.report_refusals = workflow.patched(PATCH_NEWS)
        self._reminders.catch_up = workflow.patched(PATCH_CATCH_UP)
        if self._news.enabled and workflow.patched(PATCH_NEWS_MORNINGS):
            self._news.mornings = True
            self._news.reminders_busy = lambda: (
                self._reminders.sending or bool(self._reminders.due(self._current(), workflow.now()))
            )
            self._reminders.take_news = self._news.take
        self._background.start("recorder", self._recorder.run(self._current))
        self._background.start("reminder sender", self._reminders.run(self._current, self._replace, self._wake))
        self._background.start("news sender", self._news.run(self._current, self._replace, self._wake))
        project = self._current()
        while not project.finished:
            self._project = project = note_deadlines(project, workflow.now())
            self._publish(project)
            if self._should_continue_as_new(start):
                await self._settle()
                carried = without_recorded_events(self._current(), self._recorder.recorded)
                workflow.continue_as_new(
                    start.model_copy(update={"project": carried, "process": None, "recorded_events": 0})
                )
            await self._wait_for_message_or(self._next_wake())
            project = self._current()
        self._publish(project)
        await self._settle()
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

    @workflow.update(name=Update.CHANGE_PLANNED_OPENING)
    async def change_planned_opening(self, command: ChangePlannedOpening) -> ProjectStatus:
        return await self._accept(command)

    @change_planned_opening.validator
    def _check_change_planned_opening(self, command: ChangePlannedOpening) -> None:
        self._check(command)

    @workflow.update(name=Update.UPDATE_PROFILE)
    async def update_profile(self, command: UpdateProfile) -> ProjectStatus:
        return await self._accept(command)

    @update_profile.validator
    def _check_update_profile(self, command: UpdateProfile) -> None:
        self._check(command)

    @workflow.update(name=Update.MIGRATE)
    async def migrate(self, command: MigrateProject) -> ProjectStatus:
        return await self._accept(command)

    @migrate.validator
    def _check_migrate(self, command: MigrateProject) -> None:
        self._check(command)

    # -- the start's answer, the decision as a signal, and the status query -----------------

    @workflow.update(name=Update.STARTED)
    async def started(self) -> ProjectStatus:
        """The status once the project is built: the API starts a project with this update."""
        await workflow.wait_condition(lambda: self._project is not None)
        return project_status(self._current(), workflow.now())

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
        self._wake()

    @workflow.query(name=QUERY_STATUS)
    def status(self, request: StatusRequest | None = None) -> ProjectStatus:
        if self._project is None:
            raise ApplicationError(STARTING, type="conflict", non_retryable=True)
        request = request or StatusRequest()
        now = max(workflow.now(), request.as_of) if request.as_of else workflow.now()
        return project_status(self._project, now, include_history=request.include_history)

    @workflow.query(name=QUERY_MIGRATION_PLAN)
    def migration_plan(self, process: ProcessDefinition) -> MigrationPlan:
        """A migration's dry run: what moving to `process` would change, or why it is refused."""
        if self._project is None:
            raise ApplicationError(STARTING, type="conflict", non_retryable=True)
        return plan_migration(self._project, process)

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
        self._wake()
        workflow.logger.info("command accepted", extra={"command": type(command).__name__})
        return project_status(result, workflow.now())

    def _publish(self, project: Project) -> None:
        """What the portfolio filters on (search attributes) and what Temporal's UI shows (current details)."""
        self._search.publish(project)
        self._details.publish(project)

    def _replace(self, project: Project) -> None:
        """Keep a new version of the project without waking the main loop."""
        self._project = project

    def _wake(self) -> None:
        """The project changed outside the main loop: it notes deadlines and publishes again."""
        self._changed = True

    def _next_wake(self) -> datetime | None:
        """The next deadline to note or reminder to send, whichever comes first."""
        project, now = self._current(), workflow.now()
        candidates = [t for t in (next_wakeup(project), self._reminders.next_at(project, now)) if t is not None]
        return min(candidates, default=None)

    async def _settle(self) -> None:
        """Before closing or continuing as new: handlers, reminders and news done, every event recorded."""
        await workflow.wait_condition(
            lambda: (
                self._background.ended()
                or (
                    workflow.all_handlers_finished()
                    and not self._reminders.sending
                    and self._recorder.caught_up(self._current())
                    and self._news.caught_up(self._current())
                )
            )
        )
        self._background.check()
        self._background.cancel()

    async def _load_process(self, process_id: str) -> ProcessDefinition:
        return await workflow.execute_activity_method(
            ProcessDefinitions.load_process_definition,
            LoadProcess(process_id=process_id),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=5),
        )

    async def _wait_for_message_or(self, wake_at: datetime | None) -> None:
        """Sleep until a message changes the project or the next deadline passes."""
        self._changed = False
        timeout = None if wake_at is None else max(wake_at - workflow.now(), timedelta(seconds=1))
        try:
            await workflow.wait_condition(lambda: self._changed or self._background.ended(), timeout=timeout)
        except TimeoutError:
            pass  # the deadline passed: the loop notes it
        self._background.check()

    def _should_continue_as_new(self, start: StartProject) -> bool:
        info = workflow.info()
        if info.is_continue_as_new_suggested():
            return True
        limit = start.max_history_events
        return limit is not None and info.get_current_history_length() >= limit
