"""The status rebuilt from the records (a project whose workflow is gone) says what the workflow said.

Pure: each project is walked on the model, its records row and events are what the workflow would have
written, and the status rebuilt from them must match the model's own status, but for the reminders
(nothing sends them any more) and its source.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from labellisation.path.commands import (
    AbandonProject,
    ChangePlannedOpening,
    DecideStep,
    MigrateProject,
    MoveDeadline,
    PauseProject,
    RecordCohort,
    ResumeProject,
    UpdateProfile,
)
from labellisation.path.state import Cohort, Project
from labellisation.path.status import ProjectStatus, project_status
from labellisation.path.transitions import apply, note_deadlines
from labellisation.process import ProcessDefinition, load_process
from labellisation.records.rebuilt import status_from_records
from labellisation.records.schema import project_record
from tests.support.path_helpers import T0, new_project, ok, pass_step, submit

DAY = timedelta(days=1)
NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
COHORT = Cohort(label="2028-2030", enrolled=12, dropouts=2, presented=10, passed=9, positive_exits=10, job_offers=50)


def run(project: Project, *commands: tuple[Any, datetime]) -> Project:
    for command, at in commands:
        project = ok(apply(note_deadlines(project, at), command, at))
    return project


def changes_requested() -> Project:
    project = pass_step(new_project(), "opportunity_study", T0 + 30 * DAY)
    project = submit(project, "association", T0 + 40 * DAY)
    decision = DecideStep(actor="fnep", step="association", decision="request_changes", comment="Statuts ?")
    move = MoveDeadline(actor="c", step="association", due_on=date(2026, 6, 30), reason="Vote en juin")
    return run(project, (decision, T0 + 45 * DAY), (move, T0 + 46 * DAY))


def paused() -> Project:
    pause = PauseProject(actor="c", reason="Attente du vote", review_on=date(2026, 3, 1))
    return run(changes_requested(), (pause, T0 + 50 * DAY))


def resumed() -> Project:
    return run(paused(), (ResumeProject(actor="c"), T0 + 75 * DAY))


def in_implementation() -> Project:
    project = new_project()
    for step in ("opportunity_study", "association", "feasibility_study", "pre_labellisation"):
        project = pass_step(project, step, T0 + 10 * DAY)
    return project


def opening_moved() -> Project:
    move = ChangePlannedOpening(actor="c", planned_opening=date(2029, 3, 15), reason="Travaux")
    holder = UpdateProfile(actor="c", reason="Association créée", holder={"name": "EdP 90", "email": "d@edp90.fr"})
    return run(in_implementation(), (move, T0 + 20 * DAY), (holder, T0 + 21 * DAY))


def version_two() -> ProcessDefinition:
    data = load_process("fnep").model_dump(mode="json")
    data["version"] = 2
    implementation = next(s for s in data["stages"] if s["id"] == "implementation")
    implementation["steps"] = [s for s in implementation["steps"] if s["id"] != "recruitment"]
    implementation["steps"].append({"id": "insurance", "label": "Assurance des locaux", "duration": "P3M"})
    return ProcessDefinition.model_validate(data)


def migrated() -> Project:
    """Moved to version 2 during the feasibility study, then into the implementation stage of version 2."""
    project = pass_step(pass_step(new_project(), "opportunity_study", T0), "association", T0)
    project = run(project, (MigrateProject(actor="c", process=version_two(), reason="V2"), T0 + 20 * DAY))
    for step in ("feasibility_study", "pre_labellisation"):
        project = pass_step(project, step, T0 + 30 * DAY)
    return project


def abandoned() -> Project:
    return run(changes_requested(), (AbandonProject(actor="c", reason="Porteur dissous"), T0 + 200 * DAY))


def rejected() -> Project:
    decision = DecideStep(actor="fnep", step="opportunity_study", decision="reject", comment="Besoin non démontré")
    return run(submit(new_project(), "opportunity_study", T0 + DAY), (decision, T0 + 2 * DAY))


def in_seeding() -> Project:
    project = in_implementation()
    for step in ("works", "equipment", "funding", "staffing", "recruitment", "opening_declaration", "opening"):
        project = pass_step(project, step, T0 + 100 * DAY)
    return run(project, (RecordCohort(actor="direction", cohort=COHORT), T0 + 110 * DAY))


def comparable(status: ProjectStatus) -> dict[str, Any]:
    return status.model_dump(exclude={"next_reminder", "upcoming_reminders", "source", "history"})


SCENARIOS: dict[str, Callable[[], Project]] = {
    "new": new_project, "changes requested, deadline moved": changes_requested, "paused": paused,
    "resumed": resumed, "opening moved, holder changed": opening_moved, "abandoned": abandoned,
    "rejected": rejected, "in seeding with a cohort": in_seeding,
}  # fmt: skip


@pytest.mark.parametrize("make", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_rebuilt_status_is_the_workflows(make: Callable[[], Project]) -> None:
    project = make()
    rebuilt = status_from_records(project_record(project), project.events, load_process("fnep"), NOW)
    assert comparable(rebuilt) == comparable(project_status(project, NOW))
    assert rebuilt.source == "records" and rebuilt.next_reminder is None


def test_a_migrated_project_is_rebuilt_with_the_version_it_follows() -> None:
    project = migrated()
    rebuilt = status_from_records(project_record(project), project.events, version_two(), NOW)
    assert comparable(rebuilt) == comparable(project_status(project, NOW))
    assert rebuilt.process_version == 2


def test_steps_the_shipped_definition_lacks_come_from_the_events() -> None:
    """A project on version 2 read with the version 1 shipped: the insurance step keeps its id as label."""
    project = migrated()
    rebuilt = status_from_records(project_record(project), project.events, load_process("fnep"), NOW)
    insurance = next(s for s in rebuilt.steps if s.id == "insurance")
    assert (insurance.label, insurance.stage, insurance.status.value) == ("insurance", "implementation", "in_progress")
    assert insurance.due_at == next(s.due_at for s in project_status(project, NOW).steps if s.id == "insurance")
    assert "recruitment" not in [s.id for s in rebuilt.steps]  # removed by the migration


def test_without_a_shipped_definition_the_events_give_the_steps() -> None:
    project = changes_requested()
    rebuilt = status_from_records(project_record(project), project.events, None, NOW)
    expected = {s.id: (s.status, s.due_at, s.decided_at) for s in project_status(project, NOW).steps if s.started_at}
    assert {s.id: (s.status, s.due_at, s.decided_at) for s in rebuilt.steps} == expected
    assert rebuilt.state == project.state and rebuilt.current_stage == "association"
