"""The bounds that keep a project inside Temporal's payload limits, on the pure model."""

from __future__ import annotations

from datetime import timedelta

from labellisation.contract import StartProject
from labellisation.path.commands import DecideStep, RecordCohort, SubmitStep
from labellisation.path.limits import (
    MAX_SUBMISSION_BYTES,
    RECORD_BATCH_BYTES,
    RECORD_BATCH_EVENTS,
    oversized,
    record_batch_end,
    without_recorded_events,
)
from labellisation.path.state import Cohort, Document, Event, EventKind, StepStatus
from labellisation.path.transitions import apply
from tests.support.path_helpers import DOC, T0, approve, new_project, ok, submit

TEMPORAL_PAYLOAD_LIMIT = 2 * 1024 * 1024  # Temporal refuses a larger payload
TEMPORAL_PAYLOAD_WARNING = 512 * 1024
COHORT = Cohort(label="2028-2030", enrolled=12, dropouts=1, presented=11, passed=10, positive_exits=11, job_offers=40)


def largest_documents() -> list[Document]:
    """Documents as large as the field rules allow (50 of them, 200-character titles, 2,000-character URLs)."""
    return [Document(title="T" * 200, url="https://x.fr/" + "a" * 1987) for _ in range(50)]


def event(n: int, comment: str = "") -> Event:
    return Event(event_id=f"p-{n:06d}", at=T0, kind=EventKind.STEP_SUBMITTED, comment=comment or None)


def test_a_submission_within_the_field_rules_but_too_heavy_is_refused_naming_documents() -> None:
    command = SubmitStep(actor="porteur", step="opportunity_study", documents=largest_documents())
    reason = oversized(command)
    assert reason is not None
    assert reason.startswith("documents: ") and "Ko" in reason


def test_an_ordinary_submission_and_a_long_decision_comment_pass() -> None:
    assert oversized(SubmitStep(actor="porteur", step="opportunity_study", documents=[DOC] * 40)) is None
    decision = DecideStep(actor="fnep", step="opportunity_study", decision="reject", comment="é" * 5000)
    assert oversized(decision) is None


def test_a_submission_just_under_the_bound_passes() -> None:
    documents = [Document(title="Pièce", url="https://x.fr/" + "a" * 1000) for _ in range(20)]
    command = SubmitStep(actor="porteur", step="opportunity_study", documents=documents)
    assert len(command.model_dump_json()) < MAX_SUBMISSION_BYTES
    assert oversized(command) is None


def test_record_batches_stop_at_the_event_count() -> None:
    events = [event(n) for n in range(1, 451)]
    assert record_batch_end(events, 0) == RECORD_BATCH_EVENTS
    assert record_batch_end(events, 400) == 450
    assert record_batch_end(events, 450) == 450


def test_record_batches_stop_at_the_byte_bound_but_always_take_one_event() -> None:
    heavy = [event(n, comment="x" * 30_000) for n in range(1, 31)]
    end = record_batch_end(heavy, 0)
    size = sum(len(e.model_dump_json()) for e in heavy[:end])
    assert 1 < end < 30
    assert size <= RECORD_BATCH_BYTES
    assert size + len(heavy[end].model_dump_json()) > RECORD_BATCH_BYTES
    huge = [event(1, comment="x" * (RECORD_BATCH_BYTES + 1)), event(2)]
    assert record_batch_end(huge, 0) == 1


def test_the_carried_state_drops_recorded_events_only() -> None:
    project = submit(new_project(), "opportunity_study")
    carried = without_recorded_events(project, 2)
    assert carried.events == project.events[2:]
    assert carried.next_event_number == project.next_event_number
    assert carried.steps == project.steps and len(project.events) > 2


def test_the_heaviest_state_a_holder_can_build_still_fits_well_inside_one_payload() -> None:
    """Every step submitted with the heaviest accepted submission, changes requested many times."""
    documents = [Document(title="P" * 200, url="https://x.fr/" + "a" * 400) for _ in range(50)]
    heaviest = SubmitStep(actor="porteur", step="opportunity_study", documents=documents, comment="c" * 2000)
    while oversized(heaviest) is not None:
        heaviest = heaviest.model_copy(update={"documents": heaviest.documents[:-1]})
    project = new_project()
    now = T0
    for stage in project.process.stages:
        if stage.id == "seeding":
            project = ok(apply(project, RecordCohort(actor="direction", cohort=COHORT), now))
        for definition in stage.steps:
            for _ in range(19):
                now += timedelta(hours=1)
                project = ok(apply(project, heaviest.model_copy(update={"step": definition.id}), now))
                changes = DecideStep(actor="f", step=definition.id, decision="request_changes", comment="À revoir")
                project = ok(apply(project, changes, now))
            project = ok(apply(project, heaviest.model_copy(update={"step": definition.id}), now))
            if definition.id != "labellisation":
                project = approve(project, definition.id, now)
    assert all(s.status is not StepStatus.NOT_STARTED for s in project.steps)
    assert all(len(s.documents) == len(heaviest.documents) for s in project.steps)
    carried = StartProject(profile=project.profile, project=without_recorded_events(project, len(project.events)))
    size = len(carried.model_dump_json().encode())
    assert size < TEMPORAL_PAYLOAD_WARNING, f"carried state of {size} bytes"
    assert len(project.model_dump_json().encode()) > TEMPORAL_PAYLOAD_LIMIT  # what carrying the events would cost
