"""The French catalogue: complete for every id a person could meet, and French in its numbers and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from labellisation.catalogue import (
    ADDRESSEE_LABELS,
    DECISION_LABELS,
    EVENT_LABELS,
    REMINDER_LABELS,
    ROLE_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    UnknownWord,
    days,
    format_moment,
    parse_stage,
    parse_state,
    plural,
    stage_label,
    step_label,
)
from labellisation.path.commands import Decision
from labellisation.path.reminders import Kind, Role
from labellisation.path.state import EventKind, ProjectState, StepStatus
from labellisation.process import load_process, shipped_process_ids
from labellisation.tokens import UserRole


@pytest.mark.parametrize(
    ("ids", "labels"),
    [
        (list(EventKind), EVENT_LABELS),
        (list(ProjectState), STATE_LABELS),
        (list(StepStatus), STATUS_LABELS),
        (list(Kind), REMINDER_LABELS),
        (list(Decision), DECISION_LABELS),
    ],
    ids=["event kinds", "project states", "step statuses", "reminder kinds", "decisions"],
)
def test_every_id_has_a_french_label_that_is_not_the_id(ids: list[str], labels: dict[str, str]) -> None:
    assert sorted(labels) == sorted(ids)
    for id_ in ids:
        assert labels[id_] and labels[id_] != id_ and "_" not in labels[id_]


def test_every_role_a_person_meets_has_a_label() -> None:
    for role in [*Role, *UserRole]:
        assert ROLE_LABELS[role.value] and "_" not in ROLE_LABELS[role.value]
    assert sorted(ADDRESSEE_LABELS) == sorted(Role)


@pytest.mark.parametrize("process_id", shipped_process_ids())
def test_every_stage_and_step_of_the_shipped_processes_has_a_label(process_id: str) -> None:
    process = load_process(process_id)
    for stage in process.stages:
        assert stage_label(process, stage.id) not in ("", stage.id)
        for step in stage.steps:
            assert step_label(process, step.id) not in ("", step.id)


def test_an_unknown_step_or_stage_reads_as_its_id_instead_of_failing() -> None:
    process = load_process("fnep")
    assert step_label(process, "gone") == "gone"
    assert stage_label(process, "gone") == "gone"


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 jour"), (1, "1 jour"), (2, "2 jours"), (45, "45 jours"), (-1, "-1 jour")]
)
def test_days_agree_in_number_as_french_writes_them(count: int, expected: str) -> None:
    assert days(count) == expected


def test_plural_takes_an_irregular_form() -> None:
    assert plural(3, "travail", "travaux") == "3 travaux"
    assert plural(1, "travail", "travaux") == "1 travail"


NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def test_a_far_deadline_reads_as_a_day() -> None:
    assert format_moment(datetime(2027, 9, 1, 21, 59, tzinfo=UTC), NOW, "fnep") == "1er septembre 2027"


def test_a_deadline_within_two_days_also_gives_its_paris_time() -> None:
    soon = datetime(2027, 3, 2, 13, 5, tzinfo=UTC)
    assert format_moment(soon, NOW, "fnep") == "2 mars 2027 à 14 h 05"


def test_a_deadline_just_past_also_gives_its_time() -> None:
    assert format_moment(NOW - timedelta(hours=3), NOW, "fnep") == "1er mars 2027 à 7 h 00"


def test_demo_deadlines_always_give_their_time() -> None:
    later = datetime(2027, 6, 1, 8, 30, tzinfo=UTC)  # summer time: 10:30 in Paris
    assert format_moment(later, NOW, "demo") == "1er juin 2027 à 10 h 30"


@pytest.mark.parametrize(
    ("typed", "state"),
    [("active", ProjectState.ACTIVE), ("actif", ProjectState.ACTIVE), ("En pause", ProjectState.PAUSED),
     ("labellise", ProjectState.COMPLETED), ("abandoned", ProjectState.ABANDONED)],
)  # fmt: skip
def test_a_state_is_understood_by_its_id_or_its_french_word(typed: str, state: ProjectState) -> None:
    assert parse_state(typed) is state


def test_an_unknown_state_is_refused_with_the_words_that_work() -> None:
    with pytest.raises(UnknownWord) as refused:
        parse_state("fini")
    assert str(refused.value) == (
        "state : « fini » inconnu ; valeurs possibles : actif (active), en pause (paused), labellisé (completed), "
        "rejeté (rejected), abandonné (abandoned)"
    )


PROCESSES = [load_process("fnep"), load_process("demo")]


@pytest.mark.parametrize(
    ("typed", "stage"),
    [("feasibility", "feasibility"), ("Étude de faisabilité", "feasibility"), ("faisabilite", "feasibility"),
     ("mise en oeuvre", "implementation"), ("Amorçage", "seeding"), ("opportunite", "opportunity")],
)  # fmt: skip
def test_a_stage_is_understood_by_its_id_its_label_or_a_word_of_it(typed: str, stage: str) -> None:
    assert parse_stage(typed, PROCESSES) == stage


def test_an_ambiguous_or_unknown_stage_is_refused_with_the_list() -> None:
    with pytest.raises(UnknownWord) as refused:
        parse_stage("etude", PROCESSES)  # opportunité and faisabilité both are "études"
    assert "Étude de faisabilité (feasibility)" in str(refused.value)
    with pytest.raises(UnknownWord):
        parse_stage("cantine", PROCESSES)
