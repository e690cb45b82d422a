"""SchoolCreationWorkflow on the time-skipping test server: whole paths, refusals, idempotency."""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import SIGNAL_DECIDE, WORKFLOW_NAME, StartProject, Update
from labellisation.path.commands import (
    AbandonProject,
    DecideStep,
    MoveDeadline,
    PauseProject,
    RecordCohort,
    ResumeProject,
    SubmitStep,
)
from labellisation.path.state import Cohort, EventKind, ProjectState, StepStatus
from labellisation.process import load_process
from labellisation.records.store import RecordStore
from tests.support.driver import DOCUMENT, ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile

WORKFLOW_TASK_EVENTS = {
    "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED",
    "EVENT_TYPE_WORKFLOW_TASK_STARTED",
    "EVENT_TYPE_WORKFLOW_TASK_COMPLETED",
}
PARIS = ZoneInfo("Europe/Paris")
FNEP_STAGES = [stage.id for stage in load_process("fnep").stages]
COHORT = Cohort(label="2028-2030", enrolled=12, dropouts=1, presented=11, passed=10, positive_exits=11, job_offers=55)


async def today(env: WorkflowEnvironment) -> date:
    """The test server's date: earlier tests have skipped its clock ahead."""
    return (await env.get_current_time()).date()


def step_of(status: Any, step_id: str) -> Any:
    return next(step for step in status.steps if step.id == step_id)


async def test_whole_fnep_path_from_opportunity_study_to_label(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    months = timedelta(days=30)
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile(planned_opening=date(2028, 9, 1)))
        for stage in load_process("fnep").stages:
            await time_skipping_env.sleep(24 * months if stage.id == "seeding" else 3 * months)
            if stage.id == "seeding":
                await project.update(Update.RECORD_COHORT, RecordCohort(actor="directeur", cohort=COHORT))
            for step in stage.steps:
                status = await project.pass_step(step.id)
        outcome = await project.handle.result()
        history = (await project.status(include_history=True)).history or []

    assert outcome.state is ProjectState.COMPLETED
    assert status.state is ProjectState.COMPLETED
    assert all(step.status is StepStatus.APPROVED for step in status.steps)
    completed = [event.data["stage"] for event in history if event.kind is EventKind.STAGE_COMPLETED]
    assert completed == FNEP_STAGES
    assert history[-1].kind is EventKind.PROJECT_COMPLETED
    assert history[-1].at - history[0].at > timedelta(days=3 * 365)
    # 3 months per stage is late for the 2-month stages: their deadlines were noted as passed
    passed = {event.step for event in history if event.kind is EventKind.DEADLINE_PASSED}
    assert {"association", "pre_labellisation"} <= passed
    assert "opportunity_study" not in passed


async def test_project_loads_its_process_when_started_with_an_id_only(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile(), process="demo", snapshot=False)
        status = await project.submit("opportunity_study")
    assert status.process == "demo"
    assert step_of(status, "opportunity_study").status is StepStatus.SUBMITTED
    due = step_of(status, "opportunity_study").due_at
    started = step_of(status, "opportunity_study").started_at
    assert due - started == timedelta(minutes=6)


async def test_changes_requested_then_resubmitted(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        await project.submit("opportunity_study")
        status = await project.decide("opportunity_study", "request_changes", comment="Chiffrer les besoins")
        assert step_of(status, "opportunity_study").status is StepStatus.CHANGES_REQUESTED
        await project.submit("opportunity_study")
        status = await project.decide("opportunity_study", "approve")
        history = (await project.status(include_history=True)).history or []
    assert step_of(status, "opportunity_study").status is StepStatus.APPROVED
    assert status.current_stage == "association"
    kinds = [event.kind for event in history if event.step == "opportunity_study"]
    assert kinds == [
        EventKind.STEP_STARTED,
        EventKind.STEP_SUBMITTED,
        EventKind.CHANGES_REQUESTED,
        EventKind.STEP_SUBMITTED,
        EventKind.STEP_APPROVED,
    ]
    assert next(e for e in history if e.kind is EventKind.CHANGES_REQUESTED).comment == "Chiffrer les besoins"


async def test_reject_ends_the_project(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        await project.submit("opportunity_study")
        status = await project.decide("opportunity_study", "reject", comment="Pas de besoin avéré")
        outcome = await project.handle.result()
    assert status.state is ProjectState.REJECTED
    assert outcome.state is ProjectState.REJECTED


async def test_abandon_ends_the_project_and_keeps_the_reason(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        status = await project.update(Update.ABANDON, AbandonProject(actor="coordination", reason="Porteur dissous"))
        outcome = await project.handle.result()
        history = (await project.status(include_history=True)).history or []
    assert status.state is ProjectState.ABANDONED
    assert outcome.state is ProjectState.ABANDONED
    assert history[-1].kind is EventKind.PROJECT_ABANDONED
    assert history[-1].comment == "Porteur dissous"


async def test_pause_then_resume_shifts_open_deadlines_by_the_whole_days_paused(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        before = step_of(await project.status(), "opportunity_study").due_at
        review_on = await today(time_skipping_env) + timedelta(days=120)
        paused = await project.update(Update.PAUSE, PauseProject(actor="coord", reason="Attente", review_on=review_on))
        assert paused.state is ProjectState.PAUSED
        assert paused.next_due_at is None
        await time_skipping_env.sleep(timedelta(days=90))
        still = await project.status()
        assert step_of(still, "opportunity_study").days_overdue == 0
        resumed = await project.update(Update.RESUME, ResumeProject(actor="coord"))
        history = (await project.status(include_history=True)).history or []
    after = step_of(resumed, "opportunity_study").due_at
    pause_at = next(e.at for e in history if e.kind is EventKind.PROJECT_PAUSED)
    resume_at = next(e.at for e in history if e.kind is EventKind.PROJECT_RESUMED)
    assert resume_at - pause_at >= timedelta(days=90)
    # Fair clocks: the days from the pause's day to the resume's (Paris), the deadline still ending a day.
    paused_days = resume_at.astimezone(PARIS).date() - pause_at.astimezone(PARIS).date()
    assert after.astimezone(PARIS) == (before.astimezone(PARIS) + paused_days)
    assert after.astimezone(PARIS).time() == time(23, 59, 59)
    assert resumed.state is ProjectState.ACTIVE
    assert resumed.next_due_at == after


async def test_move_deadline(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        new_date = await today(time_skipping_env) + timedelta(days=300)
        status = await project.update(
            Update.MOVE_DEADLINE,
            MoveDeadline(actor="coord", step="opportunity_study", due_on=new_date, reason="Étude élargie"),
        )
        due = step_of(status, "opportunity_study").due_at
        # the old six-month deadline passes silently; the new one is noted when it passes
        await time_skipping_env.sleep(timedelta(days=200))
        quiet = (await project.status(include_history=True)).history or []
        await time_skipping_env.sleep(timedelta(days=110))
        late = await project.status(include_history=True, as_of=await time_skipping_env.get_current_time())
    assert due.date() == new_date
    assert not [e for e in quiet if e.kind is EventKind.DEADLINE_PASSED]
    passed = [e for e in late.history or [] if e.kind is EventKind.DEADLINE_PASSED]
    assert [e.step for e in passed] == ["opportunity_study"]
    assert step_of(late, "opportunity_study").days_overdue >= 9


async def assert_refused(
    project: ProjectDriver, name: Update, command: Any, code: str, fragment: str, store: RecordStore
) -> ApplicationError:
    await project.recorded(store)
    await project.quiet()  # its news e-mails sent too: nothing of theirs lands in the history measured
    before = (await project.status(include_history=True)).model_dump()
    history_before = await project.history_length()
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await project.update(name, command)
    cause = raised.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == code
    assert fragment in cause.message
    assert (await project.status(include_history=True)).model_dump() == before
    # The Java test server logs a workflow task for a rejected update; nothing else may appear.
    added = (await project.handle.fetch_history()).events[history_before:]
    assert {EventType.Name(e.event_type) for e in added} <= WORKFLOW_TASK_EVENTS
    return cause


async def test_each_refusal_is_clear_and_changes_nothing(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        submit_later = SubmitStep(actor="p", step="feasibility_study", documents=[DOCUMENT])
        await assert_refused(project, Update.SUBMIT, submit_later, "conflict", "n'a pas encore commencé", sqlite_store)
        unknown = SubmitStep(actor="p", step="etude_inconnue", documents=[DOCUMENT])
        await assert_refused(
            project, Update.SUBMIT, unknown, "not_found", "étape inconnue 'etude_inconnue'", sqlite_store
        )
        approve = DecideStep(actor="r", step="opportunity_study", decision="approve")
        await assert_refused(project, Update.DECIDE, approve, "conflict", "n'a pas été soumise", sqlite_store)
        no_comment = {"actor": "r", "step": "opportunity_study", "decision": "reject"}
        await assert_refused(project, Update.DECIDE, no_comment, "invalid", "comment", sqlite_store)
        no_comment["decision"] = "request_changes"
        await assert_refused(project, Update.DECIDE, no_comment, "invalid", "comment", sqlite_store)
        bad_url = {"actor": "p", "step": "opportunity_study", "documents": [{"title": "x", "url": "ftp://x"}]}
        await assert_refused(project, Update.SUBMIT, bad_url, "invalid", "documents.0.url", sqlite_store)

        await project.pass_step("opportunity_study")
        await assert_refused(project, Update.DECIDE, approve, "conflict", "déjà décidée", sqlite_store)

        review_on = await today(time_skipping_env) + timedelta(30)
        pause = PauseProject(actor="c", reason="Attente du conseil régional", review_on=review_on)
        await project.update(Update.PAUSE, pause)
        submit_now = SubmitStep(actor="p", step="association", documents=[DOCUMENT])
        await assert_refused(project, Update.SUBMIT, submit_now, "conflict", "en pause", sqlite_store)
        move = MoveDeadline(actor="c", step="association", due_on=review_on, reason="Attente")
        await assert_refused(project, Update.MOVE_DEADLINE, move, "conflict", "en pause", sqlite_store)
        # Pausing a paused project extends the pause (fair clocks): a new review date, the same start.
        extended = await project.update(Update.PAUSE, pause.model_copy(update={"review_on": review_on + timedelta(7)}))
        assert extended.pause is not None and extended.pause.review_on == review_on + timedelta(7)

        await project.update(Update.ABANDON, AbandonProject(actor="c", reason="Fin du projet"))
        await project.handle.result()
        # A finished project's workflow is closed: Temporal itself refuses any further update.
        for name, command in ((Update.RESUME, ResumeProject(actor="c")), (Update.SUBMIT, submit_now)):
            with pytest.raises(RPCError) as closed:
                await project.update(name, command)
            assert closed.value.status is RPCStatusCode.NOT_FOUND


async def test_same_decision_id_twice_changes_nothing_the_second_time(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        await project.submit("opportunity_study")
        first = await project.decide("opportunity_study", "approve", decision_id="fnep-2026-001")
        history_first = (await project.status(include_history=True)).history or []
        second = await project.decide("opportunity_study", "approve", decision_id="fnep-2026-001")
        history_second = (await project.status(include_history=True)).history or []
        other = DecideStep(
            actor="r", step="opportunity_study", decision="reject", comment="non", decision_id="fnep-2026-001"
        )
        await assert_refused(project, Update.DECIDE, other, "conflict", "decision_id", sqlite_store)
    assert second == first
    assert history_second == history_first
    assert [e.kind for e in history_first].count(EventKind.STEP_APPROVED) == 1


async def test_decision_as_signal_applies_or_is_recorded_as_refused(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        too_early = DecideStep(actor="r", step="opportunity_study", decision="approve", decision_id="sig-1")
        await project.handle.signal(SIGNAL_DECIDE, too_early)
        refused = await project.status(include_history=True)
        await project.submit("opportunity_study")
        await project.handle.signal(SIGNAL_DECIDE, too_early)
        approved = await project.status(include_history=True)
    assert step_of(refused, "opportunity_study").status is StepStatus.IN_PROGRESS
    assert refused.current_stage == "opportunity"
    last = (refused.history or [])[-1]
    assert last.kind is EventKind.SIGNAL_REFUSED
    assert "n'a pas été soumise" in last.data["reason"]
    assert step_of(approved, "opportunity_study").status is StepStatus.APPROVED
    assert approved.current_stage == "association"


async def test_continue_as_new_keeps_the_state_and_leaves_the_history_to_the_records_database(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile(), max_history_events=100)
        first_run = project.handle.first_execution_run_id or project.handle.result_run_id
        for round_number in range(12):
            await project.submit("opportunity_study")
            await project.decide("opportunity_study", "request_changes", comment=f"Tour {round_number}")
        await project.pass_step("opportunity_study")
        # It continues as new at its next safe point: once every handler is done and every event recorded.
        for _ in range(100):
            latest = await client.get_workflow_handle(project.handle.id).fetch_history()
            started = latest.events[0].workflow_execution_started_event_attributes
            if started.original_execution_run_id != first_run:
                break
            await asyncio.sleep(0.05)
        recorded = await project.recorded(sqlite_store)
        status = await project.status(include_history=True)
    assert started.original_execution_run_id != first_run, "the project never continued as new"
    assert started.continued_execution_run_id
    carried = latest.events[0].workflow_execution_started_event_attributes.input.payloads[0].data
    # The new run's input carries the state, not the events the records database already holds.
    assert b"Tour 0" not in carried and len(carried) < 64 * 1024
    in_run = status.history or []
    assert len(in_run) < len(recorded) and recorded[len(recorded) - len(in_run) :] == in_run
    submissions = [e for e in recorded if e.kind is EventKind.STEP_SUBMITTED]
    assert len(submissions) == 13
    assert [e.comment for e in recorded if e.kind is EventKind.CHANGES_REQUESTED] == [f"Tour {n}" for n in range(12)]
    ids = [e.event_id for e in recorded]
    assert ids == sorted(set(ids))
    numbers = [int(i.rsplit("-", 1)[1]) for i in ids]
    assert numbers == list(range(1, len(ids) + 1)), "an event was lost or numbered twice across runs"
    assert status.current_stage == "association"


async def test_malformed_start_input_fails_the_workflow_naming_the_field(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    profile = make_profile().model_dump(mode="json")
    profile["holder"]["email"] = "pas-une-adresse"
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        handle = await client.start_workflow(
            WORKFLOW_NAME, {"profile": profile, "process_id": "demo"}, id="school-malformed", task_queue=task_queue
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "invalid"
    assert "profile.holder.email" in cause.message


async def test_unknown_process_id_fails_the_start_with_the_known_ids(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        start = StartProject(profile=make_profile(), process_id="inconnu")
        handle = await client.start_workflow(WORKFLOW_NAME, start, id="school-unknown-process", task_queue=task_queue)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ActivityError)
    assert isinstance(cause.cause, ApplicationError)
    assert "processus inconnu 'inconnu'" in cause.cause.message
    assert "demo, fnep" in cause.cause.message
