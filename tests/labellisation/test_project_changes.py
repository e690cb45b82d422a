"""Changing a running project's planned opening and profile, on the pure model.

Dates counted by hand on a calendar. The `fnep` opening declaration is due three months before the
planned opening, at the end of that day in Paris (23:59:59, UTC+2 in summer, UTC+1 in winter); the
opening itself at the end of the opening day. The project starts Monday 5 January 2026 with an opening
planned on 1 September 2028 (tests/support/profiles.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from labellisation.path.commands import (
    AbandonProject,
    ChangePlannedOpening,
    PauseProject,
    ResumeProject,
    UpdateProfile,
)
from labellisation.path.reminders import Kind, PlannedReminder, Role, send_request
from labellisation.path.state import EventKind, Project, ProjectState, StepStatus
from labellisation.path.status import project_status
from labellisation.path.transitions import (
    Refusal,
    RefusalCode,
    apply,
    first_workable_opening,
    refuse_start,
    start_project,
)
from labellisation.process import load_process
from tests.support.path_helpers import T0, new_project, ok, pass_step
from tests.support.profiles import make_profile

BEFORE_IMPLEMENTATION = ["opportunity_study", "association", "feasibility_study", "pre_labellisation"]
IMPLEMENTED = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # the implementation stage starts then
DECEMBER = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday 2 December 2026, 10:00 in Paris


def at_implementation(now: datetime = IMPLEMENTED) -> Project:
    project = new_project()
    for step_id in BEFORE_IMPLEMENTATION:
        project = pass_step(project, step_id, now)
    assert project.current_stage_id() == "implementation"
    return project


def due(project: Project, step_id: str) -> datetime | None:
    step = project.find_step(step_id)
    assert step is not None
    return step.due_at


def opening(day: date, reason: str = "Travaux retardés") -> ChangePlannedOpening:
    return ChangePlannedOpening(actor="coordination", planned_opening=day, reason=reason)


def refused(project: Project, command: Any, now: datetime) -> Refusal:
    before = project.model_dump()
    result = apply(project, command, now)
    assert isinstance(result, Refusal), "accepted"
    assert project.model_dump() == before
    return result


# -- the planned opening ------------------------------------------------------------------------


def test_belfort_moves_its_opening_and_the_declaration_follows_three_months_before() -> None:
    project = at_implementation()
    # 1 September 2028: the declaration is due 1 June 2028, 23:59:59 in Paris (summer time).
    assert due(project, "opening_declaration") == datetime(2028, 6, 1, 21, 59, 59, tzinfo=UTC)
    works_due = due(project, "works")
    now = datetime(2027, 4, 12, 8, 0, tzinfo=UTC)
    moved = ok(apply(project, opening(date(2029, 3, 15)), now))
    # 15 March 2029: the declaration is due 15 December 2028, 23:59:59 in Paris (winter time).
    assert due(moved, "opening_declaration") == datetime(2028, 12, 15, 22, 59, 59, tzinfo=UTC)
    assert due(moved, "works") == works_due  # a deadline counted from the stage start does not move
    assert moved.profile.planned_opening == date(2029, 3, 15)
    assert project_status(moved, now).planned_opening == date(2029, 3, 15)
    event = moved.events[-1]
    assert (event.kind, event.actor, event.comment, event.at) == (
        EventKind.PLANNED_OPENING_CHANGED, "coordination", "Travaux retardés", now,
    )  # fmt: skip
    assert event.data == {
        "previous_planned_opening": "2028-09-01",
        "planned_opening": "2029-03-15",
        "deadlines": {
            "opening_declaration": {
                "previous_due_at": "2028-06-01T23:59:59+02:00",
                "due_at": "2028-12-15T23:59:59+01:00",
            }
        },
    }
    declaration = moved.find_step("opening_declaration")
    assert declaration is not None and declaration.due_set_at == now and not declaration.deadline_noted


def test_the_opening_step_to_come_takes_the_new_date_when_its_stage_starts() -> None:
    project = ok(apply(at_implementation(), opening(date(2029, 3, 15)), IMPLEMENTED))
    for step_id in ["works", "equipment", "funding", "staffing", "recruitment", "opening_declaration"]:
        project = pass_step(project, step_id, datetime(2028, 11, 2, 9, 0, tzinfo=UTC))
    assert project.current_stage_id() == "opening"
    assert due(project, "opening") == datetime(2029, 3, 15, 22, 59, 59, tzinfo=UTC)  # end of 15 March, Paris


def test_before_the_implementation_the_change_moves_no_open_deadline_and_the_stage_uses_the_new_date() -> None:
    project = ok(apply(new_project(), opening(date(2029, 3, 15)), T0))
    assert project.events[-1].data["deadlines"] == {}
    for step_id in BEFORE_IMPLEMENTATION:
        project = pass_step(project, step_id, IMPLEMENTED)
    assert due(project, "opening_declaration") == datetime(2028, 12, 15, 22, 59, 59, tzinfo=UTC)


def test_a_date_whose_declaration_would_be_past_is_refused_naming_the_first_date_that_works() -> None:
    project = at_implementation(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    # On 2 December 2026, opening 1 March 2027: the declaration was due 1 December 2026, yesterday.
    refusal = refused(project, opening(date(2027, 3, 1)), DECEMBER)
    assert refusal.code is RefusalCode.INVALID
    assert refusal.message == (
        "planned_opening : avec une ouverture le 1er mars 2027, l'étape « Déclaration d'ouverture au rectorat » "
        "aurait dû être faite le 1er décembre 2026 : choisissez une date d'ouverture plus lointaine "
        "(au plus tôt le 2 mars 2027)"
    )
    # 2 March 2027: due 2 December 2026 at 23:59:59, later today: accepted.
    moved = ok(apply(project, opening(date(2027, 3, 2)), DECEMBER))
    assert due(moved, "opening_declaration") == datetime(2026, 12, 2, 22, 59, 59, tzinfo=UTC)


def test_a_past_opening_is_refused() -> None:
    refusal = refused(at_implementation(), opening(date(2027, 2, 28)), IMPLEMENTED)
    assert refusal.message == "planned_opening : l'ouverture prévue (28 février 2027) est passée"


def test_an_opening_more_than_twenty_years_ahead_is_refused_at_start_and_later() -> None:
    # 2 December 2026: twenty years of 365 days reach 27 November 2046.
    assert refuse_start(make_profile(planned_opening=date(2046, 11, 26)), load_process("fnep"), DECEMBER) is None
    refusal = refuse_start(make_profile(planned_opening=date(9999, 12, 31)), load_process("fnep"), DECEMBER)
    assert refusal is not None and refusal.message == (
        "planned_opening : l'ouverture prévue (31 décembre 9999) est à plus de 20 ans"
    )
    assert refused(at_implementation(), opening(date(2047, 1, 1)), DECEMBER).code is RefusalCode.INVALID


def test_the_start_check_names_the_first_date_that_works_too() -> None:
    refusal = refuse_start(make_profile(planned_opening=date(2027, 3, 1)), load_process("fnep"), DECEMBER)
    assert refusal is not None and refusal.message.endswith("(au plus tôt le 2 mars 2027)")
    # End of May: 31 August is the first opening whose declaration (31 May) is still ahead; 30 August's
    # declaration fell on 30 May.
    end_of_may = datetime(2027, 5, 31, 8, 0, tzinfo=UTC)
    assert first_workable_opening(make_profile(), load_process("fnep"), end_of_may) == date(2027, 8, 31)
    # demo: the declaration is three minutes before the end of the opening day: today works.
    assert first_workable_opening(make_profile(), load_process("demo"), DECEMBER) == date(2026, 12, 2)


def test_once_the_declaration_is_approved_only_the_opening_counts() -> None:
    project = pass_step(at_implementation(), "opening_declaration", datetime(2027, 5, 3, 8, 0, tzinfo=UTC))
    now = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    # 1 August 2027 is two months away: its declaration date (1 May) is past, but the declaration is made.
    moved = ok(apply(project, opening(date(2027, 8, 1)), now))
    assert moved.profile.planned_opening == date(2027, 8, 1)
    assert moved.events[-1].data["deadlines"] == {}


def test_once_the_opening_is_decided_the_date_can_no_longer_change() -> None:
    project = at_implementation()
    now = datetime(2028, 5, 20, 8, 0, tzinfo=UTC)
    for step_id in ["works", "equipment", "funding", "staffing", "recruitment", "opening_declaration"]:
        project = pass_step(project, step_id, now)
    project = pass_step(project, "opening", now)
    refusal = refused(project, opening(date(2028, 10, 1)), now)
    assert refusal.code is RefusalCode.CONFLICT
    assert "aucune étape à venir ne dépend plus de la date d'ouverture prévue" in refusal.message


def test_the_same_date_changes_nothing_and_records_nothing() -> None:
    project = at_implementation()
    same = ok(apply(project, opening(date(2028, 9, 1)), IMPLEMENTED))
    assert same.events == project.events and same.steps == project.steps


def test_a_paused_project_can_move_its_opening() -> None:
    pause = PauseProject(actor="coordination", reason="Attente du vote", review_on=date(2027, 6, 1))
    paused = ok(apply(at_implementation(), pause, IMPLEMENTED))
    moved = ok(apply(paused, opening(date(2029, 3, 15)), datetime(2027, 4, 1, 8, 0, tzinfo=UTC)))
    assert moved.state is ProjectState.PAUSED
    assert due(moved, "opening_declaration") == datetime(2028, 12, 15, 22, 59, 59, tzinfo=UTC)


def test_with_the_fair_clocks_a_resume_leaves_the_new_opening_deadlines_where_they_are() -> None:
    """Paused 5 January 2027, opening moved to 15 March 2029 on 1 February, resumed 15 March 2027: the
    declaration stays due 15 December 2028 at the end of the day, while a deadline counted from the stage
    start moves by the 69 days paused."""
    project = start_project(make_profile("edp-belfort"), load_process("fnep"), T0, "coordination", clock_rules=2)
    for step_id in BEFORE_IMPLEMENTATION:
        project = pass_step(project, step_id, datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    works_due = due(project, "works")
    assert works_due is not None
    pause = PauseProject(actor="coordination", reason="Attente du vote", review_on=date(2027, 3, 15))
    project = ok(apply(project, pause, datetime(2027, 1, 5, 9, 0, tzinfo=UTC)))
    project = ok(apply(project, opening(date(2029, 3, 15)), datetime(2027, 2, 1, 9, 0, tzinfo=UTC)))
    project = ok(apply(project, ResumeProject(actor="coordination"), datetime(2027, 3, 15, 9, 0, tzinfo=UTC)))
    assert due(project, "opening_declaration") == datetime(2028, 12, 15, 22, 59, 59, tzinfo=UTC)
    assert due(project, "works") == works_due + timedelta(days=69)  # 1 August to 9 October 2027: both summer time


def test_a_finished_project_refuses_both_changes() -> None:
    abandoned = ok(apply(new_project(), AbandonProject(actor="coordination", reason="Dissous"), T0))
    assert refused(abandoned, opening(date(2029, 3, 15)), T0).code is RefusalCode.CONFLICT
    change = UpdateProfile(actor="coordination", reason="x", city="Montbéliard")
    assert refused(abandoned, change, T0).code is RefusalCode.CONFLICT


# -- the profile ----------------------------------------------------------------------------------


NEW_HOLDER = {"name": "Association École de Production du Territoire de Belfort", "email": "direction@edp90.fr"}


def test_a_new_holder_gets_the_next_emails_and_the_history_keeps_both() -> None:
    project = new_project()
    change = UpdateProfile(actor="coordination", reason="Association créée", holder=NEW_HOLDER)
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    updated = ok(apply(project, change, now))
    assert str(updated.profile.holder.email) == "direction@edp90.fr"
    event = updated.events[-1]
    assert (event.kind, event.comment) == (EventKind.PROFILE_UPDATED, "Association créée")
    assert event.data == {
        "before": {"holder": {"name": "Association EdP Belfort", "email": "porteur@edp-belfort.fr"}},
        "after": {"holder": NEW_HOLDER},
    }
    reminder = PlannedReminder(
        reminder_id="r", kind=Kind.BEFORE_DUE, to=Role.HOLDER, step="opportunity_study", nominal=now, at=now
    )
    request = send_request(updated, reminder, now)
    assert (request.holder_email, request.holder_name) == ("direction@edp90.fr", NEW_HOLDER["name"])
    assert updated.steps == project.steps  # no deadline moves


def test_several_fields_change_at_once_and_only_what_differs_is_recorded() -> None:
    project = new_project()
    change = UpdateProfile(
        actor="coordination", reason="Fusion des régions", region="Grand Est", department="90", trades=["Usinage"],
        capacity=24,
    )  # fmt: skip
    updated = ok(apply(project, change, T0))
    assert updated.profile.region == "Grand Est" and updated.profile.capacity == 24
    assert project_status(updated, T0).region == "Grand Est"
    assert updated.events[-1].data == {  # the department was already 90
        "before": {"region": "Bourgogne-Franche-Comté", "trades": ["Usinage", "Chaudronnerie"], "capacity": 12},
        "after": {"region": "Grand Est", "trades": ["Usinage"], "capacity": 24},
    }
    again = ok(apply(updated, change, T0))
    assert again.events == updated.events  # nothing differs: nothing recorded


def test_a_paused_project_can_change_its_profile() -> None:
    pause = PauseProject(actor="coordination", reason="Attente", review_on=date(2026, 3, 1))
    paused = ok(apply(new_project(), pause, T0))
    updated = ok(apply(paused, UpdateProfile(actor="c", reason="Déménagement", city="Montbéliard"), T0))
    assert updated.profile.city == "Montbéliard" and updated.state is ProjectState.PAUSED


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"planned_opening": "2029-03-15"}, "PUT /projects/{id}/planned-opening"),
        ({"project_id": "edp-autre"}, "l'identifiant d'un projet ne change pas"),
        ({}, "rien à changer"),
        ({"trades": []}, "trades"),
        ({"holder": {"name": "X", "email": "pas-une-adresse"}}, "holder.email"),
        ({"capacity": 0}, "capacity"),
    ],
)
def test_bad_profile_changes_are_refused_before_reaching_the_project(payload: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as error:
        UpdateProfile.model_validate({"actor": "c", "reason": "r", **payload})
    assert words in str(error.value)


def test_a_step_in_progress_keeps_its_status() -> None:
    project = ok(apply(new_project(), UpdateProfile(actor="c", reason="r", name="EdP du Territoire de Belfort"), T0))
    assert project.find_step("opportunity_study") is not None
    assert {s.status for s in project.steps} == {StepStatus.IN_PROGRESS, StepStatus.NOT_STARTED}
