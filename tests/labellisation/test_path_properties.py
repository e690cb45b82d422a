"""Property tests: random command sequences never break the path's invariants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labellisation.path.commands import (
    AbandonProject,
    DecideStep,
    MoveDeadline,
    PauseProject,
    RecordCohort,
    ResumeProject,
    SubmitStep,
)
from labellisation.path.state import Cohort, Project, StepStatus
from labellisation.path.transitions import Refusal, apply, note_deadlines
from labellisation.process import load_process
from tests.labellisation.path_helpers import DOC, T0, new_project

STEPS = [s.id for stage in load_process("fnep").stages for s in stage.steps] + ["inconnue"]
DECIDED = {StepStatus.APPROVED, StepStatus.REJECTED}


def build(kind: str, step: str, day: int, label: int) -> Any:
    due_on = date(2026, 1, 1) + timedelta(days=day)
    builders: dict[str, Callable[[], Any]] = {
        "submit": lambda: SubmitStep(actor="p", step=step, documents=[DOC]),
        "approve": lambda: DecideStep(actor="f", step=step, decision="approve", decision_id=f"d{label}"),
        "request_changes": lambda: DecideStep(actor="f", step=step, decision="request_changes", comment="À revoir"),
        "reject": lambda: DecideStep(actor="f", step=step, decision="reject", comment="Non"),
        "move": lambda: MoveDeadline(actor="c", step=step, due_on=due_on, reason="Décalage"),
        "pause": lambda: PauseProject(actor="c", reason="Attente", review_on=due_on),
        "resume": lambda: ResumeProject(actor="c"),
        "abandon": lambda: AbandonProject(actor="c", reason="Fin"),
        "cohort": lambda: RecordCohort(
            actor="d",
            cohort=Cohort(
                label=f"c{label}", enrolled=10, dropouts=1, presented=9, passed=8, positive_exits=9, job_offers=20
            ),
        ),
    }
    return builders[kind]()


KINDS = st.sampled_from(
    ["advance"] * 10
    + ["submit"] * 6
    + ["approve"] * 6
    + ["request_changes", "reject", "move", "pause", "resume", "abandon", "cohort"]
)
ACTIONS = st.lists(
    st.tuples(
        KINDS,
        st.sampled_from(STEPS + ["current"] * len(STEPS)),
        st.integers(0, 2000),
        st.integers(0, 20),
        st.integers(0, 24 * 90),
    ),
    max_size=120,
)


def started_stages_are_preceded_by_approved_ones(project: Project) -> bool:
    stages = project.process.stages
    for index, stage in enumerate(stages):
        started = any(project.find_step(s.id).status is not StepStatus.NOT_STARTED for s in stage.steps)  # type: ignore[union-attr]
        if started:
            earlier = [s.id for st_ in stages[:index] for s in st_.steps]
            if any(project.find_step(i).status is not StepStatus.APPROVED for i in earlier):  # type: ignore[union-attr]
                return False
    return True


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS)
def test_random_command_sequences_keep_the_invariants(actions: list[tuple[str, str, int, int, int]]) -> None:
    project = new_project()
    now: datetime = T0
    paused_dues: dict[str, datetime] | None = None
    for kind, step, day, label, hours in actions:
        now += timedelta(hours=hours)
        project = note_deadlines(project, now)
        if step == "current":  # aim at an open step, so sequences get deep into the path
            open_steps = [s.id for s in project.steps if s.status not in DECIDED | {StepStatus.NOT_STARTED}]
            step = open_steps[label % len(open_steps)] if open_steps else "inconnue"
        if kind == "advance":  # the holder submits and FNEP approves at once: walks the path deeper
            submitted = apply(project, build("submit", step, day, label), now)
            if isinstance(submitted, Project):
                project = submitted
            kind = "approve"
            label = len(project.events)  # a fresh decision_id
        command = build(kind, step, day, label)
        before = project.model_dump()
        decided_before = {s.id: s.status for s in project.steps if s.status in DECIDED}
        was_finished = project.finished
        result = apply(project, command, now)
        if isinstance(result, Refusal):
            assert project.model_dump() == before, "a refusal changed the project"
            assert result.message
            continue
        assert not was_finished, "a finished project accepted a command"
        if kind == "pause":
            paused_dues = {s.id: s.due_at for s in project.steps if s.due_at is not None}
        if kind == "resume" and paused_dues is not None:
            for s in result.steps:
                if s.id in paused_dues and s.due_at is not None:
                    assert s.due_at >= paused_dues[s.id], "pausing moved a deadline backwards"
            paused_dues = None
        for step_id, status in decided_before.items():
            assert result.find_step(step_id).status is status, "a decided step changed"  # type: ignore[union-attr]
        assert started_stages_are_preceded_by_approved_ones(result)
        ids = [e.event_id for e in result.events]
        assert ids == sorted(set(ids)), "event ids are not strictly increasing"
        project = result
