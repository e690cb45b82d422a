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

from labellisation.path.clocks import FAIR_CLOCKS, FIRST_CLOCK_RULES
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
from labellisation.path.transitions import apply, note_deadlines, start_project
from labellisation.process import ProcessDefinition, load_process
from labellisation.records.rebuilt import status_from_records
from labellisation.records.schema import project_record
from tests.support.path_helpers import T0, ok, pass_step, submit
from tests.support.profiles import make_profile

DAY = timedelta(days=1)
NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
COHORT = Cohort(label="2028-2030", enrolled=12, dropouts=2, presented=10, passed=9, positive_exits=10, job_offers=50)


def run(project: Project, *commands: tuple[Any, datetime]) -> Project:
    for command, at in commands:
        project = ok(apply(note_deadlines(project, at), command, at))
    return project


def begin(rules: int = FAIR_CLOCKS) -> Project:
    """A new `fnep` project, started Monday 5 January 2026 under clock rules `rules`."""
    return start_project(make_profile("edp-belfort"), load_process("fnep"), T0, "coordination", clock_rules=rules)


def changes_requested(rules: int = FAIR_CLOCKS) -> Project:
    project = pass_step(begin(rules), "opportunity_study", T0 + 30 * DAY)
    project = submit(project, "association", T0 + 40 * DAY)
    decision = DecideStep(actor="fnep", step="association", decision="request_changes", comment="Statuts ?")
    move = MoveDeadline(actor="c", step="association", due_on=date(2026, 6, 30), reason="Vote en juin")
    return run(project, (decision, T0 + 45 * DAY), (move, T0 + 46 * DAY))


def paused(rules: int = FAIR_CLOCKS) -> Project:
    pause = PauseProject(actor="c", reason="Attente du vote", review_on=date(2026, 3, 1))
    return run(changes_requested(rules), (pause, T0 + 50 * DAY))


def resumed(rules: int = FAIR_CLOCKS) -> Project:
    return run(paused(rules), (ResumeProject(actor="c"), T0 + 75 * DAY))


def in_implementation(rules: int = FAIR_CLOCKS) -> Project:
    project = begin(rules)
    for step in ("opportunity_study", "association", "feasibility_study", "pre_labellisation"):
        project = pass_step(project, step, T0 + 10 * DAY)
    return project


def resumed_in_implementation(rules: int = FAIR_CLOCKS) -> Project:
    """The declaration is anchored on the planned opening: with the fair clocks a pause does not move it."""
    pause = PauseProject(actor="c", reason="Attente du permis", review_on=date(2026, 4, 1))
    project = submit(in_implementation(rules), "works", T0 + 15 * DAY)
    return run(project, (pause, T0 + 20 * DAY), (ResumeProject(actor="c"), T0 + 61 * DAY))


def decided_while_paused(rules: int = FAIR_CLOCKS) -> Project:
    """With the fair clocks the study submitted before the pause is approved during it; the next stage starts
    at resume (with the first rules, after it)."""
    pause = PauseProject(actor="c", reason="Attente", review_on=date(2026, 3, 1))
    approve = DecideStep(actor="fnep", step="opportunity_study", decision="approve")
    project = run(submit(begin(rules), "opportunity_study", T0 + DAY), (pause, T0 + 2 * DAY))
    if rules == FAIR_CLOCKS:
        return run(project, (approve, T0 + 5 * DAY), (ResumeProject(actor="c"), T0 + 9 * DAY))
    return run(project, (ResumeProject(actor="c"), T0 + 9 * DAY), (approve, T0 + 10 * DAY))


def opening_moved(rules: int = FAIR_CLOCKS) -> Project:
    move = ChangePlannedOpening(actor="c", planned_opening=date(2029, 3, 15), reason="Travaux")
    holder = UpdateProfile(actor="c", reason="Association créée", holder={"name": "EdP 90", "email": "d@edp90.fr"})
    return run(in_implementation(rules), (move, T0 + 20 * DAY), (holder, T0 + 21 * DAY))


def version_two() -> ProcessDefinition:
    data = load_process("fnep").model_dump(mode="json")
    data["version"] = 2
    implementation = next(s for s in data["stages"] if s["id"] == "implementation")
    implementation["steps"] = [s for s in implementation["steps"] if s["id"] != "recruitment"]
    implementation["steps"].append({"id": "insurance", "label": "Assurance des locaux", "duration": "P3M"})
    return ProcessDefinition.model_validate(data)


def migrated(rules: int = FAIR_CLOCKS) -> Project:
    """Moved to version 2 during the feasibility study, then into the implementation stage of version 2."""
    project = pass_step(pass_step(begin(rules), "opportunity_study", T0), "association", T0)
    project = run(project, (MigrateProject(actor="c", process=version_two(), reason="V2"), T0 + 20 * DAY))
    for step in ("feasibility_study", "pre_labellisation"):
        project = pass_step(project, step, T0 + 30 * DAY)
    return project


def abandoned(rules: int = FAIR_CLOCKS) -> Project:
    return run(changes_requested(rules), (AbandonProject(actor="c", reason="Porteur dissous"), T0 + 200 * DAY))


def rejected(rules: int = FAIR_CLOCKS) -> Project:
    decision = DecideStep(actor="fnep", step="opportunity_study", decision="reject", comment="Besoin non démontré")
    return run(submit(begin(rules), "opportunity_study", T0 + DAY), (decision, T0 + 2 * DAY))


def in_seeding(rules: int = FAIR_CLOCKS) -> Project:
    project = in_implementation(rules)
    for step in ("works", "equipment", "funding", "staffing", "recruitment", "opening_declaration", "opening"):
        project = pass_step(project, step, T0 + 100 * DAY)
    return run(project, (RecordCohort(actor="direction", cohort=COHORT), T0 + 110 * DAY))


def comparable(status: ProjectStatus) -> dict[str, Any]:
    return status.model_dump(exclude={"next_reminder", "upcoming_reminders", "source", "history"})


SCENARIOS: dict[str, Callable[[int], Project]] = {
    "new": begin, "changes requested, deadline moved": changes_requested, "paused": paused,
    "resumed": resumed, "opening moved, holder changed": opening_moved, "abandoned": abandoned,
    "rejected": rejected, "in seeding with a cohort": in_seeding, "migrated": migrated,
    "resumed in the implementation": resumed_in_implementation, "decided while paused": decided_while_paused,
}  # fmt: skip


@pytest.mark.parametrize("rules", [FIRST_CLOCK_RULES, FAIR_CLOCKS], ids=["first clock rules", "fair clocks"])
@pytest.mark.parametrize("make", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_rebuilt_status_is_the_workflows(make: Callable[[int], Project], rules: int) -> None:
    project = make(rules)
    assert project.clock_rules == rules
    shipped = version_two() if make is migrated else load_process("fnep")
    rebuilt = status_from_records(project_record(project), project.events, shipped, NOW)
    assert comparable(rebuilt) == comparable(project_status(project, NOW))
    assert rebuilt.source == "records" and rebuilt.next_reminder is None and rebuilt.upcoming_reminders == []


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
