"""The pure path model: transitions, deadlines, refusals."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from labellisation.path.commands import (
    AbandonProject,
    DecideStep,
    MoveDeadline,
    PauseProject,
    RecordCohort,
    ResumeProject,
    SubmitStep,
)
from labellisation.path.state import Cohort, EventKind, Project, ProjectState, StepState, StepStatus
from labellisation.path.status import project_status
from labellisation.path.transitions import Refusal, RefusalCode, apply, note_deadlines
from labellisation.process import load_process
from tests.labellisation.path_helpers import DOC, T0, approve, new_project, ok, pass_step, submit

PARIS = ZoneInfo("Europe/Paris")
COHORT = Cohort(label="2028-2030", enrolled=12, dropouts=2, presented=10, passed=9, positive_exits=10, job_offers=50)


def step(project: Project, step_id: str) -> StepState:
    found = project.find_step(step_id)
    assert found is not None
    return found


def refused(project: Project, command: object, now: datetime = T0) -> Refusal:
    before = project.model_dump()
    result = apply(project, command, now)  # type: ignore[arg-type]
    assert isinstance(result, Refusal)
    assert project.model_dump() == before
    return result


def test_start_puts_the_opportunity_study_in_progress_for_six_months() -> None:
    project = new_project()
    study = step(project, "opportunity_study")
    assert study.status is StepStatus.IN_PROGRESS
    assert study.due_at == datetime(2026, 7, 5, 9, 0, tzinfo=T0.tzinfo)
    assert step(project, "association").status is StepStatus.NOT_STARTED
    assert [e.kind for e in project.events] == [
        EventKind.PROJECT_STARTED,
        EventKind.STAGE_STARTED,
        EventKind.STEP_STARTED,
    ]


def test_approval_starts_the_next_stage() -> None:
    later = T0 + timedelta(days=100)
    project = pass_step(new_project(), "opportunity_study", later)
    assert project.current_stage_id() == "association"
    association = step(project, "association")
    assert association.started_at == later
    assert association.due_at == later.replace(month=6)  # 2 months later: 15 June


def walk_to_implementation(project: Project) -> Project:
    for step_id in ("opportunity_study", "association", "feasibility_study", "pre_labellisation"):
        project = pass_step(project, step_id)
    return project


def test_implementation_runs_six_steps_in_parallel_and_ends_when_all_are_approved() -> None:
    project = walk_to_implementation(new_project())
    implementation = ["works", "equipment", "funding", "staffing", "recruitment", "opening_declaration"]
    assert all(step(project, s).status is StepStatus.IN_PROGRESS for s in implementation)
    for step_id in implementation[:-1]:
        project = pass_step(project, step_id)
        assert project.current_stage_id() == "implementation"
    project = pass_step(project, "opening_declaration")
    assert project.current_stage_id() == "opening"


def test_anchored_deadlines_follow_the_planned_opening_date() -> None:
    project = walk_to_implementation(new_project())  # planned opening: 1 September 2028
    declaration = step(project, "opening_declaration").due_at
    assert declaration is not None
    assert declaration.astimezone(PARIS).replace(tzinfo=None) == datetime(2028, 6, 1, 23, 59, 59)
    for step_id in ("works", "equipment", "funding", "staffing", "recruitment", "opening_declaration"):
        project = pass_step(project, step_id)
    opening = step(project, "opening").due_at
    assert opening is not None
    assert opening.astimezone(PARIS).replace(tzinfo=None) == datetime(2028, 9, 1, 23, 59, 59)


def test_the_whole_path_to_the_label_needs_a_cohort_before_the_first_graduates() -> None:
    project = new_project()
    for stage in load_process("fnep").stages:
        for definition in stage.steps:
            if definition.id == "first_graduates":
                submission = SubmitStep(actor="porteur", step="first_graduates", documents=[DOC])
                assert "cohorte" in refused(project, submission).message
                project = ok(apply(project, RecordCohort(actor="direction", cohort=COHORT), T0))
            project = pass_step(project, definition.id)
    assert project.state is ProjectState.COMPLETED
    assert project.finished
    assert project.events[-1].kind is EventKind.PROJECT_COMPLETED
    assert [e.data["stage"] for e in project.events if e.kind is EventKind.STAGE_COMPLETED] == [
        s.id for s in load_process("fnep").stages
    ]


def test_a_cohort_is_refused_before_the_seeding_stage() -> None:
    result = refused(new_project(), RecordCohort(actor="direction", cohort=COHORT))
    assert result.code is RefusalCode.CONFLICT
    assert "amorçage" in result.message


def test_request_changes_then_resubmit_then_approve() -> None:
    project = submit(new_project(), "opportunity_study")
    project = ok(
        apply(
            project,
            DecideStep(
                actor="f",
                step="opportunity_study",
                decision="request_changes",
                comment="Préciser les métiers en tension",
            ),
            T0,
        )
    )
    assert step(project, "opportunity_study").status is StepStatus.CHANGES_REQUESTED
    project = approve(submit(project, "opportunity_study"), "opportunity_study")
    assert step(project, "opportunity_study").submissions == 2
    assert project.current_stage_id() == "association"


def test_reject_ends_the_project() -> None:
    project = submit(new_project(), "opportunity_study")
    project = ok(
        apply(
            project,
            DecideStep(actor="f", step="opportunity_study", decision="reject", comment="Besoin non démontré"),
            T0,
        )
    )
    assert project.state is ProjectState.REJECTED
    assert step(project, "opportunity_study").status is StepStatus.REJECTED


def test_abandon_keeps_the_reason() -> None:
    project = ok(apply(new_project(), AbandonProject(actor="c", reason="Porteur dissous"), T0))
    assert project.state is ProjectState.ABANDONED
    assert project.events[-1].comment == "Porteur dissous"


def test_pause_then_resume_shifts_every_open_deadline_by_the_paused_time() -> None:
    project = walk_to_implementation(new_project())
    before = {s.id: s.due_at for s in project.steps if s.due_at and s.status is StepStatus.IN_PROGRESS}
    project = ok(apply(project, PauseProject(actor="c", reason="Vote", review_on=date(2026, 3, 1)), T0))
    assert project_status(project, T0).next_due_at is None
    resumed_at = T0 + timedelta(days=40, hours=3)
    project = ok(apply(project, ResumeProject(actor="c"), resumed_at))
    assert project.state is ProjectState.ACTIVE
    for step_id, due in before.items():
        assert step(project, step_id).due_at == due + timedelta(days=40, hours=3)


def test_move_deadline_to_a_later_date_and_not_into_the_past() -> None:
    project = ok(
        apply(
            new_project(),
            MoveDeadline(actor="c", step="opportunity_study", due_on=date(2026, 12, 15), reason="Étude élargie"),
            T0,
        )
    )
    due = step(project, "opportunity_study").due_at
    assert due is not None and due.astimezone(PARIS).date() == date(2026, 12, 15)
    result = refused(project, MoveDeadline(actor="c", step="opportunity_study", due_on=date(2025, 1, 1), reason="x"))
    assert result.code is RefusalCode.INVALID
    assert "due_on" in result.message


def test_refusals_have_a_code_and_a_french_reason() -> None:
    project = new_project()
    unknown = refused(project, SubmitStep(actor="p", step="inconnue", documents=[DOC]))
    assert unknown.code is RefusalCode.NOT_FOUND and "étape inconnue 'inconnue'" in unknown.message
    later = refused(project, SubmitStep(actor="p", step="works", documents=[DOC]))
    assert later.code is RefusalCode.CONFLICT and "n'a pas encore commencé" in later.message
    not_submitted = refused(project, DecideStep(actor="f", step="opportunity_study", decision="approve"))
    assert "n'a pas été soumise" in not_submitted.message
    project = pass_step(project, "opportunity_study")
    twice = refused(project, DecideStep(actor="f", step="opportunity_study", decision="approve"))
    assert "déjà décidée" in twice.message
    paused = ok(apply(project, PauseProject(actor="c", reason="Attente", review_on=date(2026, 2, 1)), T0))
    assert "en pause" in refused(paused, SubmitStep(actor="p", step="association", documents=[DOC])).message
    assert "n'est pas en pause" in refused(project, ResumeProject(actor="c")).message
    finished = ok(apply(paused, AbandonProject(actor="c", reason="Fin"), T0))
    for command in (
        ResumeProject(actor="c"),
        AbandonProject(actor="c", reason="x"),
        SubmitStep(actor="p", step="association", documents=[DOC]),
    ):
        assert "terminé" in refused(finished, command).message


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_a_decision_other_than_approve_needs_a_comment(decision: str) -> None:
    with pytest.raises(ValidationError, match="comment"):
        DecideStep(actor="f", step="opportunity_study", decision=decision)


def test_a_retried_decision_id_changes_nothing_and_cannot_be_reused() -> None:
    project = approve(submit(new_project(), "opportunity_study"), "opportunity_study", decision_id="d-1")
    again = apply(project, DecideStep(actor="f", step="opportunity_study", decision="approve", decision_id="d-1"), T0)
    assert again is project
    other = refused(project, DecideStep(actor="f", step="association", decision="approve", decision_id="d-1"))
    assert "decision_id 'd-1'" in other.message


def test_passed_deadlines_are_noted_once_each() -> None:
    project = new_project()
    after = T0 + timedelta(days=200)
    noted = note_deadlines(project, after)
    assert [(e.kind, e.step) for e in noted.events[-1:]] == [(EventKind.DEADLINE_PASSED, "opportunity_study")]
    assert note_deadlines(noted, after + timedelta(days=1)) is noted
    status = project_status(noted, after)
    assert status.steps[0].days_overdue == (after - noted.steps[0].due_at).days  # type: ignore[operator]
    assert status.steps[0].days_overdue >= 18


def test_event_ids_are_sequential_and_unique() -> None:
    project = walk_to_implementation(new_project())
    numbers = [int(e.event_id.rsplit("-", 1)[1]) for e in project.events]
    assert numbers == list(range(1, len(numbers) + 1))
