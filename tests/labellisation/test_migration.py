"""Moving a running project to a new version of its process, on the pure model.

The new versions are the shipped `fnep` definition edited here as FNEP would edit its YAML. The project
starts Monday 5 January 2026 (10:00 in Paris); the steps of a stage started by the migration count their
deadline from the migration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from labellisation.path.commands import AbandonProject, MigrateProject, PauseProject
from labellisation.path.migration import plan_migration
from labellisation.path.state import EventKind, Project, StepStatus
from labellisation.path.status import project_status
from labellisation.path.transitions import Refusal, RefusalCode, apply
from labellisation.process import ProcessDefinition, load_process
from tests.support.path_helpers import T0, new_project, ok, pass_step

PARIS = ZoneInfo("Europe/Paris")
LATER = datetime(2026, 9, 14, 8, 0, tzinfo=UTC)  # Monday 14 September 2026, 10:00 in Paris
INSURANCE = {"id": "insurance", "label": "Assurance des locaux", "duration": "P3M"}


def fnep(version: int = 2, edit: Callable[[dict[str, Any]], None] | None = None) -> ProcessDefinition:
    """The shipped `fnep` definition at another version, edited by `edit` (the YAML as a dict)."""
    data = load_process("fnep").model_dump(mode="json")
    data["version"] = version
    if edit is not None:
        edit(data)
    return ProcessDefinition.model_validate(data)


def stage(data: dict[str, Any], stage_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["stages"] if s["id"] == stage_id)
    return found


def at_feasibility() -> Project:
    project = pass_step(new_project(), "opportunity_study", T0)
    return pass_step(project, "association", T0)


def migrate(process: ProcessDefinition, reason: str = "Version 2 du parcours") -> MigrateProject:
    return MigrateProject(actor="coordination", process=process, reason=reason)


def refused(project: Project, process: ProcessDefinition) -> Refusal:
    before = project.model_dump()
    result = apply(project, migrate(process), LATER)
    assert isinstance(result, Refusal), "accepted"
    assert project.model_dump() == before
    assert plan_migration(project, process).refusal == result.message  # the dry run says the same
    return result


def test_a_step_added_to_a_stage_to_come_waits_for_it() -> None:
    process = fnep(edit=lambda d: stage(d, "implementation")["steps"].insert(1, INSURANCE))
    project = at_feasibility()
    plan = plan_migration(project, process)
    assert plan.refusal is None and (plan.from_version, plan.to_version) == (1, 2)
    assert (plan.added, plan.removed, plan.starting) == (["insurance"], [], [])
    assert plan.changes == [
        "parcours « fnep » : version 1 → 2",
        "nouvelle étape « Assurance des locaux » (phase « Mise en œuvre »)",
    ]
    moved = ok(apply(project, migrate(process), LATER))
    assert moved.process == process and moved.current_stage_id() == "feasibility"
    assert [s.id for s in moved.steps][4:7] == ["works", "insurance", "equipment"]  # the new definition's order
    assert project_status(moved, LATER).process_version == 2
    event = moved.events[-1]
    assert (event.kind, event.actor, event.comment) == (
        EventKind.PROJECT_MIGRATED,
        "coordination",
        "Version 2 du parcours",
    )
    assert event.data == {
        "process": "fnep", "from_version": 1, "to_version": 2, "changes": plan.changes, "added": ["insurance"],
        "removed": [],
    }  # fmt: skip
    for step_id in ["feasibility_study", "pre_labellisation"]:
        moved = pass_step(moved, step_id, LATER)
    insurance = moved.find_step("insurance")
    assert insurance is not None and insurance.status is StepStatus.IN_PROGRESS and insurance.started_at == LATER


def test_a_step_added_to_the_current_stage_starts_with_the_migration() -> None:
    process = fnep(edit=lambda d: stage(d, "feasibility")["steps"].append(INSURANCE))
    moved = ok(apply(at_feasibility(), migrate(process), LATER))
    insurance = moved.find_step("insurance")
    assert insurance is not None
    assert (insurance.status, insurance.started_at, insurance.stage) == (StepStatus.IN_PROGRESS, LATER, "feasibility")
    assert insurance.due_at is not None
    assert insurance.due_at.astimezone(PARIS).date() == date(2026, 12, 14)  # 14 September + 3 months
    assert [(e.kind, e.step) for e in moved.events[-2:]] == [
        (EventKind.PROJECT_MIGRATED, None),
        (EventKind.STEP_STARTED, "insurance"),
    ]
    # The stage now waits for both of its steps.
    moved = pass_step(moved, "feasibility_study", LATER)
    assert moved.current_stage_id() == "feasibility"
    assert pass_step(moved, "insurance", LATER).current_stage_id() == "pre_labellisation"


def test_a_step_not_started_can_go_and_open_deadlines_stay() -> None:
    def edit(data: dict[str, Any]) -> None:
        implementation = stage(data, "implementation")
        implementation["steps"] = [s for s in implementation["steps"] if s["id"] != "recruitment"]
        stage(data, "feasibility")["steps"][0]["duration"] = "P5M"

    project = at_feasibility()
    study_due = project.find_step("feasibility_study").due_at  # type: ignore[union-attr]
    assert study_due is not None
    plan = plan_migration(project, fnep(edit=edit))
    assert plan.removed == ["recruitment"]
    kept_until = f"l'échéance en cours reste le {study_due.astimezone(PARIS).day} mai 2026"
    assert plan.changes == [
        "parcours « fnep » : version 1 → 2",
        f"« Étude de faisabilité » : échéance P4M → P5M ; {kept_until}",
        "étape « Recrutement des jeunes » retirée (pas commencée)",
    ]
    moved = ok(apply(project, migrate(fnep(edit=edit)), LATER))
    assert moved.find_step("recruitment") is None
    assert moved.find_step("feasibility_study").due_at == study_due  # type: ignore[union-attr]


def test_a_step_worked_on_can_never_vanish() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["stages"] = [s for s in data["stages"] if s["id"] != "opportunity"]

    refusal = refused(at_feasibility(), fnep(edit=edit))
    assert refusal.code is RefusalCode.CONFLICT
    assert refusal.message == (
        "l'étape « Étude d'opportunité » (approuvée) disparaîtrait de la version 2 : "
        "un projet ne perd pas une étape commencée ou décidée"
    )

    def drop_current(data: dict[str, Any]) -> None:
        stage(data, "feasibility")["steps"] = [INSURANCE]

    assert (
        "« Étude de faisabilité » (en cours) disparaîtrait"
        in refused(at_feasibility(), fnep(edit=drop_current)).message
    )


def test_steps_never_move_behind_the_project_or_away_from_their_stage() -> None:
    def into_the_past(data: dict[str, Any]) -> None:
        implementation = stage(data, "implementation")
        works = implementation["steps"].pop(0)
        stage(data, "association")["steps"].append(works)

    message = refused(at_feasibility(), fnep(edit=into_the_past)).message
    assert message == "l'étape « Locaux et travaux » passerait dans une phase déjà passée"

    def new_in_the_past(data: dict[str, Any]) -> None:
        stage(data, "opportunity")["steps"].append(INSURANCE)

    message = refused(at_feasibility(), fnep(edit=new_in_the_past)).message
    assert message == (
        "la nouvelle étape « Assurance des locaux » appartient à la phase « Étude d'opportunité », déjà passée"
    )

    def approved_later(data: dict[str, Any]) -> None:
        data["stages"].insert(3, data["stages"].pop(1))  # the association after the feasibility stage

    message = refused(at_feasibility(), fnep(edit=approved_later)).message
    assert message == (
        "l'étape « Création de l'association porteuse » (approuvée) serait dans une phase à venir "
        "(« Association porteuse »)"
    )


def test_a_future_step_may_join_the_current_stage_and_starts_at_once() -> None:
    def edit(data: dict[str, Any]) -> None:
        pre = stage(data, "pre_labellisation")
        stage(data, "feasibility")["steps"].extend(pre["steps"])
        data["stages"] = [s for s in data["stages"] if s["id"] != "pre_labellisation"]

    plan = plan_migration(at_feasibility(), fnep(edit=edit))
    assert plan.starting == ["pre_labellisation"]
    assert "« Demande de pré-labellisation » passe dans la phase « Étude de faisabilité »" in plan.changes
    moved = ok(apply(at_feasibility(), migrate(fnep(edit=edit)), LATER))
    step = moved.find_step("pre_labellisation")
    assert step is not None and (step.status, step.stage) == (StepStatus.IN_PROGRESS, "feasibility")
    assert moved.stage_index == 2 and len(moved.process.stages) == 7


@pytest.mark.parametrize(
    ("make", "process", "code", "message", "up_to_date"),
    [
        (at_feasibility, fnep(version=1), RefusalCode.CONFLICT,
         "le projet suit déjà la version 1 du parcours « fnep »", True),
        (at_feasibility, load_process("demo"), RefusalCode.INVALID,
         "process : la définition « demo » n'est pas le parcours du projet (« fnep »)", False),
        (lambda: ok(apply(at_feasibility(), PauseProject(actor="c", reason="r", review_on=date(2027, 1, 4)), T0)),
         fnep(), RefusalCode.CONFLICT, "le projet est en pause : reprenez-le d'abord", False),
        (lambda: ok(apply(at_feasibility(), AbandonProject(actor="c", reason="r"), T0)), fnep(), RefusalCode.CONFLICT,
         "le projet est terminé (abandonné) : il n'accepte plus de commande", False),
    ],
    ids=["same version", "another process", "paused", "finished"],
)  # fmt: skip
def test_what_is_refused_before_looking_at_the_steps(
    make: Callable[[], Project], process: ProcessDefinition, code: RefusalCode, message: str, up_to_date: bool
) -> None:
    project = make()
    refusal = refused(project, process)
    assert (refusal.code, refusal.message) == (code, message)
    assert plan_migration(project, process).up_to_date is up_to_date


def test_an_older_version_is_refused() -> None:
    project = ok(apply(at_feasibility(), migrate(fnep(version=3)), LATER))
    assert refused(project, fnep(version=2)).message == "le projet suit la version 3, plus récente que la version 2"


def test_the_reminder_policy_and_labels_changes_are_listed() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["reminders"]["before_due"] = ["P21D", "P7D"]
        stage(data, "implementation")["steps"][0]["label"] = "Locaux, travaux et sécurité"

    plan = plan_migration(at_feasibility(), fnep(edit=edit))
    assert plan.changes == [
        "parcours « fnep » : version 1 → 2",
        "étape « Locaux et travaux » renommée « Locaux, travaux et sécurité »",
        "politique de rappels changée : les rappels à venir suivent la nouvelle",
    ]
