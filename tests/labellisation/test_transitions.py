"""The pure path model: what each command does to a project, and what it refuses.

Time is never read from the clock: every test passes `now` by hand, starting
from Monday 5 January 2026, 09:00 UTC, and every expected deadline is counted
on a calendar from the durations of DOMAIN.md (planned opening: 1 September 2028).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

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
from labellisation.path.state import Cohort, EventKind, Project, ProjectState, StepState, StepStatus
from labellisation.path.status import project_status
from labellisation.path.transitions import (
    Refusal,
    RefusalCode,
    apply,
    note_deadlines,
    record_refused_signal,
    start_project,
)
from labellisation.process import load_process
from tests.support.path_helpers import DOC, T0, approve, new_project, ok, pass_step, submit
from tests.support.profiles import make_profile

IMPLEMENTATION = ["works", "equipment", "funding", "staffing", "recruitment", "opening_declaration"]
STEP_INDEX = {s.id: i for i, s in enumerate(s for stage in load_process("fnep").stages for s in stage.steps)}
COHORT = Cohort(label="2028-2030", enrolled=12, dropouts=2, presented=10, passed=9, positive_exits=10, job_offers=50)

# When the tests below approve each of the first stages (submission and approval at the same moment).
OPPORTUNITY_DONE = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
ASSOCIATION_DONE = datetime(2026, 8, 10, 10, 0, tzinfo=UTC)
FEASIBILITY_DONE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PRE_LABEL_DONE = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # the implementation starts then


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def step(project: Project, step_id: str) -> StepState:
    found = project.find_step(step_id)
    assert found is not None, step_id
    return found


def statuses(project: Project) -> dict[str, StepStatus]:
    return {s.id: s.status for s in project.steps}


def refused(project: Project, command: Command, now: datetime = T0) -> Refusal:
    """Apply a command that must be refused, and check the project given is untouched."""
    before = project.model_dump()
    result = apply(project, command, now)
    assert isinstance(result, Refusal), f"{type(command).__name__} was accepted"
    assert project.model_dump() == before, "a refusal changed the project"
    assert result.message
    return result


def decide(project: Project, step_id: str, decision: str, now: datetime = T0, comment: str = "") -> Project:
    command = DecideStep(actor="fnep", step=step_id, decision=decision, comment=comment)
    return ok(apply(project, command, now))


def at_implementation() -> Project:
    project = pass_step(new_project(), "opportunity_study", OPPORTUNITY_DONE)
    project = pass_step(project, "association", ASSOCIATION_DONE)
    project = pass_step(project, "feasibility_study", FEASIBILITY_DONE)
    return pass_step(project, "pre_labellisation", PRE_LABEL_DONE)


def at_opening(now: datetime = utc(2028, 5, 20, 10, 0)) -> Project:  # noqa: B008 (an immutable value)
    project = at_implementation()
    for step_id in IMPLEMENTATION:
        project = pass_step(project, step_id, now)
    return project


def completed() -> Project:
    project = pass_step(at_opening(), "opening", utc(2028, 9, 2, 8, 0))
    project = ok(apply(project, RecordCohort(actor="direction", cohort=COHORT), utc(2030, 7, 10, 9, 0)))
    project = pass_step(project, "first_graduates", utc(2030, 7, 20, 9, 0))
    return pass_step(project, "labellisation", utc(2030, 9, 15, 9, 0))


def rejected() -> Project:
    return decide(
        submit(new_project(), "opportunity_study"), "opportunity_study", "reject", comment="Besoin non démontré"
    )


def abandoned() -> Project:
    return ok(apply(new_project(), AbandonProject(actor="coordination", reason="Porteur dissous"), T0))


# -- starting and walking the path ------------------------------------------------------


def test_start_puts_the_opportunity_study_in_progress_for_six_months() -> None:
    project = new_project()
    assert project.state is ProjectState.ACTIVE
    assert project.current_stage_id() == "opportunity"
    study = step(project, "opportunity_study")
    assert study.status is StepStatus.IN_PROGRESS
    assert study.started_at == T0
    assert study.due_at == utc(2026, 7, 5, 9, 0)  # 5 January + 6 months
    assert all(s.status is StepStatus.NOT_STARTED and s.due_at is None for s in project.steps[1:])
    assert [(e.kind, e.step) for e in project.events] == [
        (EventKind.PROJECT_STARTED, None),
        (EventKind.STAGE_STARTED, None),
        (EventKind.STEP_STARTED, "opportunity_study"),
    ]
    assert project.events[0].data == {"process": "fnep", "process_version": 1, "planned_opening": "2028-09-01"}
    assert project.events[0].actor == "coordination"


def test_submit_then_approve_walks_to_the_association_stage() -> None:
    submitted_at = utc(2026, 2, 4, 9, 0)
    project = ok(
        apply(
            new_project(),
            SubmitStep(actor="porteur", step="opportunity_study", documents=[DOC], comment="Étude jointe"),
            submitted_at,
        )
    )
    study = step(project, "opportunity_study")
    assert (study.status, study.submitted_at, study.submissions, study.documents) == (
        StepStatus.SUBMITTED,
        submitted_at,
        1,
        [DOC],
    )
    assert project.current_stage_id() == "opportunity"
    assert project.updated_at == submitted_at

    approved_at = utc(2026, 2, 6, 14, 0)
    project = decide(project, "opportunity_study", "approve", approved_at)
    assert step(project, "opportunity_study").status is StepStatus.APPROVED
    assert step(project, "opportunity_study").decided_at == approved_at
    assert project.current_stage_id() == "association"
    association = step(project, "association")
    assert association.status is StepStatus.IN_PROGRESS
    assert association.started_at == approved_at
    assert association.due_at == utc(2026, 4, 6, 14, 0)  # 6 February + 2 months
    assert [(e.kind, e.step, e.data.get("stage")) for e in project.events[-5:]] == [
        (EventKind.STEP_SUBMITTED, "opportunity_study", None),
        (EventKind.STEP_APPROVED, "opportunity_study", None),
        (EventKind.STAGE_COMPLETED, None, "opportunity"),
        (EventKind.STAGE_STARTED, None, "association"),
        (EventKind.STEP_STARTED, "association", None),
    ]


def test_each_stage_starts_when_the_previous_one_is_approved_with_its_own_duration() -> None:
    project = pass_step(new_project(), "opportunity_study", OPPORTUNITY_DONE)
    assert step(project, "association").due_at == utc(2026, 8, 15, 10, 0)  # + 2 months
    assert step(project, "feasibility_study").status is StepStatus.NOT_STARTED
    project = pass_step(project, "association", ASSOCIATION_DONE)
    assert step(project, "feasibility_study").due_at == utc(2026, 12, 10, 10, 0)  # + 4 months
    project = pass_step(project, "feasibility_study", FEASIBILITY_DONE)
    assert step(project, "pre_labellisation").due_at == utc(2027, 2, 1, 10, 0)  # + 2 months, across the new year
    project = pass_step(project, "pre_labellisation", PRE_LABEL_DONE)
    assert project.current_stage_id() == "implementation"


def test_implementation_starts_six_parallel_steps_and_ends_only_when_all_six_are_approved() -> None:
    project = at_implementation()
    assert {s: step(project, s).status for s in IMPLEMENTATION} == dict.fromkeys(IMPLEMENTATION, StepStatus.IN_PROGRESS)
    assert all(step(project, s).started_at == PRE_LABEL_DONE for s in IMPLEMENTATION)
    assert {s: step(project, s).due_at for s in IMPLEMENTATION[:-1]} == {
        "works": utc(2027, 11, 1, 10, 0),  # 1 March 2027 + 8 months
        "equipment": utc(2027, 11, 1, 10, 0),
        "funding": utc(2027, 9, 1, 10, 0),  # + 6 months
        "staffing": utc(2027, 10, 1, 10, 0),  # + 7 months
        "recruitment": utc(2027, 11, 1, 10, 0),
    }
    # In any order, one of them sent back once: the stage waits for all six.
    now = utc(2027, 6, 1, 9, 0)
    project = decide(submit(project, "staffing", now), "staffing", "request_changes", now, comment="Fiche de poste ?")
    for step_id in ["opening_declaration", "recruitment", "funding", "works", "equipment"]:
        project = pass_step(project, step_id, now)
        assert project.current_stage_id() == "implementation"
        assert step(project, "opening").status is StepStatus.NOT_STARTED
    project = pass_step(project, "staffing", now)
    assert project.current_stage_id() == "opening"
    assert step(project, "opening").status is StepStatus.IN_PROGRESS
    assert [e.data["stage"] for e in project.events if e.kind is EventKind.STAGE_COMPLETED][-1] == "implementation"


def test_the_opening_declaration_is_due_three_months_before_the_planned_opening_at_the_end_of_the_day() -> None:
    project = at_implementation()
    # 1 September 2028 - 3 months = 1 June 2028, 23:59:59 in Paris (summer time, UTC+2).
    assert step(project, "opening_declaration").due_at == utc(2028, 6, 1, 21, 59, 59)


def test_the_opening_is_due_on_the_planned_opening_day() -> None:
    project = at_opening()
    opening = step(project, "opening")
    assert opening.started_at == utc(2028, 5, 20, 10, 0)
    assert opening.due_at == utc(2028, 9, 1, 21, 59, 59)  # 1 September 2028, 23:59:59 in Paris


def test_anchored_deadlines_use_the_paris_day_in_winter_too() -> None:
    """A January opening: the declaration falls in summer time, the opening in winter time."""
    project = start_project(
        make_profile("edp-janvier", planned_opening=date(2029, 1, 8)), load_process("fnep"), T0, "c"
    )
    project = pass_step(project, "opportunity_study", OPPORTUNITY_DONE)
    project = pass_step(project, "association", ASSOCIATION_DONE)
    project = pass_step(project, "feasibility_study", FEASIBILITY_DONE)
    project = pass_step(project, "pre_labellisation", PRE_LABEL_DONE)
    assert step(project, "opening_declaration").due_at == utc(2028, 10, 8, 21, 59, 59)  # UTC+2
    for step_id in IMPLEMENTATION:
        project = pass_step(project, step_id, utc(2028, 9, 1, 9, 0))
    assert step(project, "opening").due_at == utc(2029, 1, 8, 22, 59, 59)  # UTC+1


def test_the_whole_fnep_path_to_the_label() -> None:
    project = pass_step(at_opening(), "opening", utc(2028, 9, 2, 8, 0))
    assert project.current_stage_id() == "seeding"
    graduates = step(project, "first_graduates")
    assert graduates.due_at == utc(2030, 9, 2, 8, 0)  # two school years after the opening

    # The first graduates cannot be submitted before a cohort's results are recorded.
    submission = SubmitStep(actor="porteur", step="first_graduates", documents=[DOC])
    refusal = refused(project, submission, utc(2030, 7, 1, 9, 0))
    assert refusal.code is RefusalCode.CONFLICT
    assert "cohorte" in refusal.message
    project = ok(apply(project, RecordCohort(actor="direction", cohort=COHORT), utc(2030, 7, 10, 9, 0)))
    assert project.cohorts == [COHORT]
    assert project.events[-1].kind is EventKind.COHORT_RECORDED
    assert project.events[-1].data["passed"] == 9

    project = pass_step(project, "first_graduates", utc(2030, 7, 20, 9, 0))
    assert project.current_stage_id() == "labellisation"
    assert step(project, "labellisation").due_at == utc(2030, 9, 20, 9, 0)  # + 2 months
    assert project.state is ProjectState.ACTIVE

    project = pass_step(project, "labellisation", utc(2030, 9, 15, 9, 0))
    assert project.state is ProjectState.COMPLETED
    assert project.finished
    assert all(s.status is StepStatus.APPROVED for s in project.steps)
    assert project.events[-1].kind is EventKind.PROJECT_COMPLETED
    assert [e.data["stage"] for e in project.events if e.kind is EventKind.STAGE_COMPLETED] == [
        "opportunity",
        "association",
        "feasibility",
        "pre_labellisation",
        "implementation",
        "opening",
        "seeding",
        "labellisation",
    ]
    assert project == completed()  # the path is deterministic


def test_the_demo_path_runs_in_minutes() -> None:
    project = new_project("demo")
    assert step(project, "opportunity_study").due_at == T0 + timedelta(minutes=6)
    project = pass_step(project, "opportunity_study", T0 + timedelta(minutes=5))
    assert step(project, "association").due_at == T0 + timedelta(minutes=7)


# -- decisions --------------------------------------------------------------------------


def test_request_changes_sends_the_step_back_then_a_resubmission_is_approved() -> None:
    project = submit(new_project(), "opportunity_study", utc(2026, 3, 2, 9, 0))
    project = decide(project, "opportunity_study", "request_changes", utc(2026, 3, 9, 9, 0), "Préciser les métiers")
    study = step(project, "opportunity_study")
    assert study.status is StepStatus.CHANGES_REQUESTED
    assert study.decided_at == utc(2026, 3, 9, 9, 0)
    assert study.due_at == utc(2026, 7, 5, 9, 0)  # the holder's deadline does not move
    assert project.current_stage_id() == "opportunity"
    assert (project.events[-1].kind, project.events[-1].comment) == (
        EventKind.CHANGES_REQUESTED,
        "Préciser les métiers",
    )

    project = submit(project, "opportunity_study", utc(2026, 3, 20, 9, 0))
    study = step(project, "opportunity_study")
    assert (study.status, study.submissions, study.submitted_at, study.decided_at) == (
        StepStatus.SUBMITTED,
        2,
        utc(2026, 3, 20, 9, 0),
        None,
    )
    assert project.events[-1].data["submission"] == 2
    project = approve(project, "opportunity_study", utc(2026, 3, 25, 9, 0))
    assert project.current_stage_id() == "association"


def test_reject_ends_the_project_as_rejected_and_keeps_the_record() -> None:
    project = submit(new_project(), "opportunity_study")
    project = decide(project, "opportunity_study", "reject", utc(2026, 2, 1, 9, 0), "Besoin non démontré")
    assert project.state is ProjectState.REJECTED
    assert project.finished
    assert step(project, "opportunity_study").status is StepStatus.REJECTED
    assert step(project, "association").status is StepStatus.NOT_STARTED
    assert (project.events[-1].kind, project.events[-1].comment) == (EventKind.STEP_REJECTED, "Besoin non démontré")
    assert [e.kind for e in project.events][:3] == [
        EventKind.PROJECT_STARTED,
        EventKind.STAGE_STARTED,
        EventKind.STEP_STARTED,
    ]


@pytest.mark.parametrize("paused_first", [False, True])
def test_abandon_ends_the_project_with_its_reason(paused_first: bool) -> None:
    project = new_project()
    if paused_first:
        project = ok(apply(project, PauseProject(actor="c", reason="Attente", review_on=date(2026, 3, 1)), T0))
    project = ok(apply(project, AbandonProject(actor="coordination", reason="Porteur dissous"), utc(2026, 2, 1, 9, 0)))
    assert project.state is ProjectState.ABANDONED
    assert project.finished
    assert (project.events[-1].kind, project.events[-1].actor, project.events[-1].comment) == (
        EventKind.PROJECT_ABANDONED,
        "coordination",
        "Porteur dissous",
    )
    assert step(project, "opportunity_study").status is StepStatus.IN_PROGRESS  # the record is kept as it stood
    assert project_status(project, utc(2026, 9, 1, 9, 0)).next_due_at is None


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
@pytest.mark.parametrize("comment", [None, "", "   "])
def test_a_decision_other_than_approve_needs_a_comment(decision: str, comment: str | None) -> None:
    extra = {} if comment is None else {"comment": comment}
    with pytest.raises(ValidationError, match="comment"):
        DecideStep(actor="fnep", step="opportunity_study", decision=decision, **extra)


def test_an_approval_needs_no_comment() -> None:
    assert DecideStep(actor="fnep", step="opportunity_study", decision="approve").comment == ""


def test_a_retried_decision_returns_the_identical_project() -> None:
    project = submit(new_project(), "opportunity_study")
    project = approve(project, "opportunity_study", utc(2026, 2, 1, 9, 0), decision_id="d-1")
    retry = DecideStep(actor="fnep", step="opportunity_study", decision="approve", decision_id="d-1")
    events = len(project.events)
    assert apply(project, retry, utc(2026, 2, 1, 9, 5)) is project
    assert len(project.events) == events


@pytest.mark.parametrize(
    ("step_id", "decision", "comment"),
    [("association", "approve", ""), ("opportunity_study", "reject", "Non"), ("nope", "approve", "")],
)
def test_a_decision_id_cannot_be_reused_for_another_decision(step_id: str, decision: str, comment: str) -> None:
    project = submit(new_project(), "opportunity_study")
    project = approve(project, "opportunity_study", decision_id="d-1")
    project = submit(project, "association")
    other = DecideStep(actor="fnep", step=step_id, decision=decision, comment=comment, decision_id="d-1")
    refusal = refused(project, other)
    assert refusal.code is RefusalCode.CONFLICT
    assert "decision_id 'd-1' a déjà servi" in refusal.message


def test_a_refused_decision_does_not_use_up_its_decision_id() -> None:
    project = new_project()
    early = DecideStep(actor="fnep", step="opportunity_study", decision="approve", decision_id="d-1")
    refused(project, early)  # not submitted yet
    project = ok(apply(submit(project, "opportunity_study"), early, T0))
    assert step(project, "opportunity_study").status is StepStatus.APPROVED


# -- pause, resume and deadlines ----------------------------------------------------------


def test_pause_then_resume_shifts_every_open_deadline_by_exactly_the_paused_time() -> None:
    project = at_implementation()
    now = utc(2027, 4, 1, 9, 0)
    project = submit(project, "funding", now)  # submitted steps keep a deadline too
    project = decide(submit(project, "works", now), "works", "request_changes", now, "Devis manquant")
    project = pass_step(project, "equipment", now)
    before = {s.id: s.due_at for s in project.steps}

    paused_at = utc(2027, 4, 10, 9, 0)
    project = ok(
        apply(project, PauseProject(actor="c", reason="Vote du budget", review_on=date(2027, 6, 1)), paused_at)
    )
    assert project.state is ProjectState.PAUSED
    assert project.pause is not None and project.pause.since == paused_at
    status = project_status(project, utc(2028, 12, 1, 9, 0))  # every deadline is behind that day
    assert status.next_due_at is None
    assert all(view.days_overdue == 0 for view in status.steps)

    resumed_at = paused_at + timedelta(days=40, hours=3)
    project = ok(apply(project, ResumeProject(actor="c"), resumed_at))
    assert project.state is ProjectState.ACTIVE
    assert project.pause is None
    assert project.events[-1].data == {"paused_seconds": 40 * 86400 + 3 * 3600}
    shifted = {"works", "funding", "staffing", "recruitment", "opening_declaration"}
    for s in project.steps:
        expected = before[s.id] + timedelta(days=40, hours=3) if s.id in shifted else before[s.id]  # type: ignore[operator]
        assert s.due_at == expected, s.id
    assert step(project, "staffing").due_at == utc(2027, 11, 10, 13, 0)  # 1 October 10:00 + 40 days 3 hours


def test_deadlines_are_not_noted_while_paused() -> None:
    project = ok(apply(new_project(), PauseProject(actor="c", reason="Attente", review_on=date(2026, 2, 1)), T0))
    assert note_deadlines(project, utc(2027, 1, 1, 9, 0)) is project


def test_move_a_deadline_to_the_end_of_the_given_day() -> None:
    command = MoveDeadline(actor="coordination", step="opportunity_study", due_on=date(2026, 12, 15), reason="Élargie")
    project = ok(apply(new_project(), command, utc(2026, 2, 1, 9, 0)))
    study = step(project, "opportunity_study")
    assert study.due_at == utc(2026, 12, 15, 22, 59, 59)  # 23:59:59 in Paris, winter time
    assert study.due_set_at == utc(2026, 2, 1, 9, 0)
    event = project.events[-1]
    assert (event.kind, event.step, event.comment) == (EventKind.DEADLINE_MOVED, "opportunity_study", "Élargie")
    assert event.data == {"previous_due_at": "2026-07-05T09:00:00+00:00", "due_at": "2026-12-15T23:59:59+01:00"}


def test_a_deadline_can_be_moved_to_today_but_not_into_the_past() -> None:
    project = new_project()  # T0 is 10:00 in Paris on 5 January 2026
    today = MoveDeadline(actor="c", step="opportunity_study", due_on=date(2026, 1, 5), reason="Urgence")
    assert step(ok(apply(project, today, T0)), "opportunity_study").due_at == utc(2026, 1, 5, 22, 59, 59)
    yesterday = MoveDeadline(actor="c", step="opportunity_study", due_on=date(2026, 1, 4), reason="Erreur")
    refusal = refused(project, yesterday)
    assert refusal.code is RefusalCode.INVALID
    assert "due_on" in refusal.message and "déjà passée" in refusal.message


@pytest.mark.parametrize("step_id", ["association", "opportunity_study"])
def test_only_an_open_step_has_its_deadline_moved(step_id: str) -> None:
    project = pass_step(new_project(), "opportunity_study")  # approved, association in progress...
    project = pass_step(project, "association")  # ... and approved too: nothing to move on either
    refusal = refused(project, MoveDeadline(actor="c", step=step_id, due_on=date(2027, 1, 1), reason="x"))
    assert refusal.code is RefusalCode.CONFLICT
    assert "approuvée" in refusal.message
    not_started = refused(project, MoveDeadline(actor="c", step="works", due_on=date(2027, 1, 1), reason="x"))
    assert "pas commencée" in not_started.message


def test_a_pause_review_date_in_the_past_is_refused() -> None:
    refusal = refused(new_project(), PauseProject(actor="c", reason="Attente", review_on=date(2026, 1, 4)))
    assert refusal.code is RefusalCode.INVALID
    assert "review_on" in refusal.message


# -- passed deadlines ---------------------------------------------------------------------


def test_a_passed_deadline_is_noted_once() -> None:
    project = new_project()
    due = utc(2026, 7, 5, 9, 0)
    assert note_deadlines(project, due - timedelta(seconds=1)) is project
    noted = note_deadlines(project, due)
    assert len(noted.events) == len(project.events) + 1
    event = noted.events[-1]
    assert (event.kind, event.step, event.at, event.data) == (
        EventKind.DEADLINE_PASSED,
        "opportunity_study",
        due,
        {"due_at": "2026-07-05T09:00:00+00:00"},
    )
    assert note_deadlines(noted, due + timedelta(days=30)) is noted
    assert len(project.events) == 3  # the project given is untouched


def test_each_passed_deadline_is_noted_in_its_own_event() -> None:
    project = submit(at_implementation(), "equipment", utc(2027, 8, 1, 9, 0))  # submitted: not the holder's to meet
    project = note_deadlines(project, utc(2027, 10, 15, 9, 0))
    assert [(e.kind, e.step) for e in project.events[-2:]] == [
        (EventKind.DEADLINE_PASSED, "funding"),  # due 1 September
        (EventKind.DEADLINE_PASSED, "staffing"),  # due 1 October
    ]
    count = len(project.events)
    project = note_deadlines(project, utc(2027, 11, 2, 9, 0))  # works and recruitment were due on 1 November
    assert [(e.kind, e.step) for e in project.events[count:]] == [
        (EventKind.DEADLINE_PASSED, "works"),
        (EventKind.DEADLINE_PASSED, "recruitment"),
    ]
    assert note_deadlines(project, utc(2028, 1, 1, 9, 0)) is project


def test_a_moved_deadline_is_noted_again_when_it_passes() -> None:
    project = note_deadlines(new_project(), utc(2026, 7, 6, 9, 0))
    move = MoveDeadline(actor="c", step="opportunity_study", due_on=date(2026, 8, 31), reason="Délai accordé")
    project = ok(apply(project, move, utc(2026, 7, 6, 9, 0)))
    assert note_deadlines(project, utc(2026, 8, 31, 21, 59, 58)) is project  # 23:59:58 in Paris
    project = note_deadlines(project, utc(2026, 8, 31, 22, 0, 0))
    passed = [e for e in project.events if e.kind is EventKind.DEADLINE_PASSED]
    assert [e.data["due_at"] for e in passed] == ["2026-07-05T09:00:00+00:00", "2026-08-31T23:59:59+02:00"]


# -- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        SubmitStep(actor="p", step="inconnue", documents=[DOC]),
        DecideStep(actor="f", step="inconnue", decision="approve"),
        MoveDeadline(actor="c", step="inconnue", due_on=date(2027, 1, 1), reason="x"),
    ],
)
def test_an_unknown_step_is_not_found(command: Command) -> None:
    refusal = refused(new_project(), command)
    assert refusal.code is RefusalCode.NOT_FOUND
    assert refusal.message.startswith("étape inconnue 'inconnue' (étapes du parcours : opportunity_study, association")


def test_a_step_of_a_later_stage_cannot_be_submitted_yet() -> None:
    refusal = refused(new_project(), SubmitStep(actor="p", step="works", documents=[DOC]))
    assert refusal.code is RefusalCode.CONFLICT
    assert refusal.message == (
        "l'étape « Locaux et travaux » n'a pas encore commencé (phase en cours : Étude d'opportunité)"
    )


def test_a_step_that_was_not_submitted_cannot_be_decided() -> None:
    project = new_project()
    for step_id in ("opportunity_study", "works"):
        refusal = refused(project, DecideStep(actor="f", step=step_id, decision="approve"))
        assert refusal.code is RefusalCode.CONFLICT
        assert "n'a pas été soumise" in refusal.message


def test_a_step_is_decided_once() -> None:
    project = pass_step(new_project(), "opportunity_study")
    for decision, comment in (("approve", ""), ("request_changes", "Encore ?"), ("reject", "Non")):
        command = DecideStep(actor="f", step="opportunity_study", decision=decision, comment=comment)
        refusal = refused(project, command)
        assert refusal.code is RefusalCode.CONFLICT
        assert refusal.message == "l'étape « Étude d'opportunité » est déjà décidée (approuvée)"
    again = refused(project, SubmitStep(actor="p", step="opportunity_study", documents=[DOC]))
    assert again.code is RefusalCode.CONFLICT and "déjà décidée" in again.message


def test_a_submitted_step_cannot_be_submitted_again_before_the_decision() -> None:
    project = submit(new_project(), "opportunity_study")
    refusal = refused(project, SubmitStep(actor="p", step="opportunity_study", documents=[DOC]))
    assert refusal.code is RefusalCode.CONFLICT
    assert "déjà soumise et attend la décision" in refusal.message


@pytest.mark.parametrize(
    "command",
    [
        SubmitStep(actor="p", step="association", documents=[DOC]),
        DecideStep(actor="f", step="opportunity_study", decision="approve"),
        MoveDeadline(actor="c", step="association", due_on=date(2026, 12, 1), reason="x"),
        PauseProject(actor="c", reason="Encore", review_on=date(2026, 6, 1)),
        RecordCohort(actor="d", cohort=COHORT),
    ],
)
def test_a_paused_project_accepts_only_resume_and_abandon(command: Command) -> None:
    project = submit(new_project(), "opportunity_study")
    project = ok(apply(project, PauseProject(actor="c", reason="Attente", review_on=date(2026, 3, 1)), T0))
    refusal = refused(project, command)
    assert refusal.code is RefusalCode.CONFLICT
    assert refusal.message == "le projet est en pause : reprenez-le d'abord"
    assert isinstance(apply(project, ResumeProject(actor="c"), T0), Project)
    assert isinstance(apply(project, AbandonProject(actor="c", reason="Fin"), T0), Project)


def test_resume_needs_a_paused_project() -> None:
    refusal = refused(new_project(), ResumeProject(actor="c"))
    assert refusal.code is RefusalCode.CONFLICT
    assert refusal.message == "le projet n'est pas en pause"


FINISHED = {
    "completed": (completed, "labellisé"),
    "rejected": (rejected, "rejeté"),
    "abandoned": (abandoned, "abandonné"),
}
EVERY_COMMAND: list[Command] = [
    SubmitStep(actor="p", step="labellisation", documents=[DOC]),
    SubmitStep(actor="p", step="association", documents=[DOC]),
    DecideStep(actor="f", step="opportunity_study", decision="approve"),
    DecideStep(actor="f", step="labellisation", decision="reject", comment="Non", decision_id="late-1"),
    MoveDeadline(actor="c", step="opportunity_study", due_on=date(2031, 1, 1), reason="x"),
    PauseProject(actor="c", reason="Attente", review_on=date(2031, 1, 1)),
    ResumeProject(actor="c"),
    AbandonProject(actor="c", reason="Fin"),
    RecordCohort(actor="d", cohort=COHORT.model_copy(update={"label": "2030-2032"})),
]


@pytest.mark.parametrize("how", FINISHED)
@pytest.mark.parametrize("command", EVERY_COMMAND, ids=lambda c: type(c).__name__)
def test_a_finished_project_refuses_every_command(how: str, command: Command) -> None:
    build, label = FINISHED[how]
    project = build()
    assert project.finished
    refusal = refused(project, command, utc(2030, 12, 1, 9, 0))
    assert refusal.code is RefusalCode.CONFLICT
    assert refusal.message == f"le projet est terminé ({label}) : il n'accepte plus de commande"
    assert note_deadlines(project, utc(2040, 1, 1)) is project


# -- cohorts ------------------------------------------------------------------------------


def test_a_cohort_is_recorded_from_the_seeding_stage_on() -> None:
    refusal = refused(at_opening(), RecordCohort(actor="direction", cohort=COHORT))
    assert refusal.code is RefusalCode.CONFLICT
    assert "à partir de l'amorçage" in refusal.message


def test_a_cohort_is_recorded_once() -> None:
    project = pass_step(at_opening(), "opening", utc(2028, 9, 2, 8, 0))
    project = ok(apply(project, RecordCohort(actor="direction", cohort=COHORT), utc(2029, 7, 1, 9, 0)))
    refusal = refused(project, RecordCohort(actor="direction", cohort=COHORT))
    assert refusal.code is RefusalCode.CONFLICT
    assert "« 2028-2030 » est déjà enregistrée" in refusal.message


def test_a_project_records_at_most_thirty_cohorts() -> None:
    project = pass_step(at_opening(), "opening", utc(2028, 9, 2, 8, 0))
    for year in range(2028, 2058):
        cohort = COHORT.model_copy(update={"label": f"{year}-{year + 2}"})
        project = ok(apply(project, RecordCohort(actor="direction", cohort=cohort), utc(2029, 7, 1, 9, 0)))
    assert len(project.cohorts) == 30
    refusal = refused(project, RecordCohort(actor="direction", cohort=COHORT.model_copy(update={"label": "2058-2060"})))
    assert refusal.code is RefusalCode.CONFLICT
    assert refusal.message == "30 cohortes sont déjà enregistrées : c'est le maximum par projet"
    assert len(project.cohorts) == 30


@pytest.mark.parametrize(
    ("counts", "field"),
    [
        ({"dropouts": 13}, "cohort.dropouts"),
        ({"presented": 11}, "cohort.presented"),
        ({"passed": 11, "presented": 10}, "cohort.passed"),
        ({"positive_exits": 13}, "cohort.positive_exits"),
    ],
)
def test_inconsistent_cohort_counts_are_refused_at_construction(counts: dict[str, int], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        RecordCohort(actor="direction", cohort=COHORT.model_copy(update=counts))


# -- history, status and refused signals ----------------------------------------------------


def test_event_ids_are_sequential_and_unique_and_a_refusal_uses_none() -> None:
    project = submit(at_implementation(), "works", utc(2027, 4, 1, 9, 0))
    refused(project, SubmitStep(actor="p", step="works", documents=[DOC]))
    project = note_deadlines(project, utc(2027, 10, 2, 9, 0))
    project = approve(project, "works", utc(2027, 10, 2, 9, 0))
    ids = [e.event_id for e in project.events]
    assert ids == [f"edp-belfort-{n:06d}" for n in range(1, len(ids) + 1)]
    assert project.next_event_number == len(ids) + 1


def test_the_status_shows_the_current_stage_the_next_deadline_and_days_overdue() -> None:
    project = submit(at_implementation(), "funding", utc(2027, 8, 1, 9, 0))
    status = project_status(project, utc(2027, 10, 11, 9, 0))
    assert (status.project_id, status.process, status.state) == ("edp-belfort", "fnep", ProjectState.ACTIVE)
    assert (status.current_stage, status.current_stage_label) == ("implementation", "Mise en œuvre")
    # funding (1 September) is submitted: the holder's next deadline is staffing's, 1 October.
    assert status.next_due_at == utc(2027, 10, 1, 10, 0)
    overdue = {view.id: view.days_overdue for view in status.steps}
    assert overdue["staffing"] == 9  # 1 October 10:00 -> 11 October 09:00: nine whole days
    assert overdue["funding"] == 0  # submitted: waiting on FNEP, not on the holder
    assert overdue["works"] == 0  # due 1 November
    assert project_status(project, utc(2027, 10, 11, 10, 0)).steps[STEP_INDEX["staffing"]].days_overdue == 10
    assert [view.id for view in status.steps][:2] == ["opportunity_study", "association"]
    assert status.steps[0].label == "Étude d'opportunité"


def test_the_status_of_a_completed_project() -> None:
    status = project_status(completed(), utc(2031, 1, 1, 9, 0), include_history=True)
    assert (status.state, status.current_stage, status.next_due_at) == (ProjectState.COMPLETED, "labellisation", None)
    assert status.history is not None and status.history[-1].kind is EventKind.PROJECT_COMPLETED
    assert all(view.days_overdue == 0 for view in status.steps)


def test_a_refused_signal_is_kept_in_the_history_and_changes_nothing_else() -> None:
    project = new_project()
    command = DecideStep(actor="fnep", step="opportunity_study", decision="approve", decision_id="sig-1")
    refusal = refused(project, command)
    before = project.model_dump()
    recorded = record_refused_signal(project, command, refusal, utc(2026, 1, 6, 9, 0))
    assert project.model_dump() == before
    event = recorded.events[-1]
    assert (event.event_id, event.kind, event.step, event.actor) == (
        "edp-belfort-000004",
        EventKind.SIGNAL_REFUSED,
        "opportunity_study",
        "fnep",
    )
    assert event.data == {
        "decision": "approve",
        "decision_id": "sig-1",
        "reason": refusal.message,
        "code": "conflict",
    }
    assert recorded.model_dump(exclude={"events", "next_event_number"}) == project.model_dump(
        exclude={"events", "next_event_number"}
    )
    assert "sig-1" not in recorded.decisions


def test_the_same_command_on_the_same_project_gives_the_same_result() -> None:
    """The workflow replays commands: a transition must not depend on anything but its inputs."""
    project = at_implementation()
    command = SubmitStep(actor="p", step="works", documents=[DOC])
    first, second = apply(project, command, utc(2027, 5, 1, 9, 0)), apply(project, command, utc(2027, 5, 1, 9, 0))
    assert first == second
    assert first is not project
