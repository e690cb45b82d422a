"""Process definitions: the shipped paths, and one clear sentence for a broken file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from labellisation.durations import Duration
from labellisation.process import (
    Calendar,
    DateAnchor,
    ProcessDefinition,
    ProcessDefinitionError,
    StepDefinition,
    _load_unchanged,
    load_definition_file,
    load_process,
    shipped_process_ids,
)

#: DOMAIN.md, "The path": (stage label, [(step id, default duration or anchored offset)]).
DOMAIN_PATH = [
    ("Étude d'opportunité", [("opportunity_study", "P6M")]),
    ("Association porteuse", [("association", "P2M")]),
    ("Étude de faisabilité", [("feasibility_study", "P4M")]),
    ("Demande de pré-labellisation", [("pre_labellisation", "P2M")]),
    (
        "Mise en œuvre",
        [
            ("works", "P8M"),
            ("equipment", "P8M"),
            ("funding", "P6M"),
            ("staffing", "P7M"),
            ("recruitment", "P8M"),
            ("opening_declaration", "planned_opening-P3M"),  # 3 months before the planned opening
        ],
    ),
    ("Ouverture", [("opening", "planned_opening+P0D")]),  # on the planned opening date
    ("Amorçage", [("first_graduates", "P2Y")]),  # two school years after the opening
    ("Labellisation", [("labellisation", "P2M")]),
]
DOMAIN_STEPS = [
    "opportunity_study",
    "association",
    "feasibility_study",
    "pre_labellisation",
    "works",
    "equipment",
    "funding",
    "staffing",
    "recruitment",
    "opening_declaration",
    "opening",
    "first_graduates",
    "labellisation",
]


def _deadline_rule(step: StepDefinition) -> str:
    if step.due is not None:
        sign = "" if step.due.offset.startswith("-") else "+"
        return f"{step.due.anchor.value}{sign}{step.due.offset}"
    assert step.duration is not None
    return step.duration


def test_the_shipped_definitions_are_fnep_and_demo() -> None:
    assert shipped_process_ids() == ["demo", "fnep"]
    for process_id in ("fnep", "demo"):
        definition = load_process(process_id)
        assert definition.id == process_id
        assert definition.version >= 1
        assert definition.timezone == "Europe/Paris"


def test_fnep_is_the_path_of_the_domain() -> None:
    fnep = load_process("fnep")
    assert len(fnep.stages) == 8
    assert [stage.label for stage in fnep.stages] == [label for label, _ in DOMAIN_PATH]
    assert [step.id for stage in fnep.stages for step in stage.steps] == DOMAIN_STEPS
    assert [[(step.id, _deadline_rule(step)) for step in stage.steps] for stage in fnep.stages] == [
        steps for _, steps in DOMAIN_PATH
    ]
    assert fnep.calendar is Calendar.FR_WORKING_DAYS
    # Only the first graduates need a cohort's results before they can be submitted.
    assert [step.id for stage in fnep.stages for step in stage.steps if step.requires_cohort] == ["first_graduates"]


def test_fnep_reminders_are_the_domain_defaults() -> None:
    reminders = load_process("fnep").reminders
    assert reminders.before_due == ["P30D", "P7D"]
    assert reminders.overdue_every == "P7D"
    assert reminders.escalate_after == "P21D"
    assert reminders.pause_advised_after == "P45D"
    assert reminders.review_reminder_after == "P10D"
    assert reminders.review_escalation_after == "P20D"
    assert reminders.changes_pending_after == "P14D"


def _at_demo_speed(fnep_text: str) -> Duration:
    """What a fnep duration becomes in demo: a month lasts one minute, a day two seconds."""
    fnep = Duration.parse(fnep_text)
    assert fnep.seconds == 0, f"fnep counts in years, months and days, not {fnep_text}"
    return Duration(negative=fnep.negative, seconds=60 * (12 * fnep.years + fnep.months) + 2 * fnep.days)


@pytest.mark.parametrize(
    ("fnep", "demo"),
    [("P6M", "PT6M"), ("P2Y", "PT24M"), ("-P3M", "-PT3M"), ("P0D", "P0D"), ("P7D", "PT14S"), ("P30D", "PT60S")],
)
def test_the_demo_speed_rule(fnep: str, demo: str) -> None:
    assert _at_demo_speed(fnep) == Duration.parse(demo)


def test_demo_is_the_same_path_at_one_minute_a_month_and_two_seconds_a_day() -> None:
    fnep, demo = load_process("fnep"), load_process("demo")
    assert demo.calendar is Calendar.NONE
    assert [(s.id, s.label) for s in demo.stages] == [(s.id, s.label) for s in fnep.stages]
    compared = 0
    for fnep_stage, demo_stage in zip(fnep.stages, demo.stages, strict=True):
        for f, d in zip(fnep_stage.steps, demo_stage.steps, strict=True):
            assert (d.id, d.label, d.requires_cohort) == (f.id, f.label, f.requires_cohort)
            if f.duration is not None:
                assert d.duration is not None and d.due is None, f.id
                assert Duration.parse(d.duration) == _at_demo_speed(f.duration), f.id
            else:
                assert f.due is not None and d.due is not None and d.duration is None, f.id
                assert d.due.anchor is f.due.anchor is DateAnchor.PLANNED_OPENING
                assert Duration.parse(d.due.offset) == _at_demo_speed(f.due.offset), f.id
            compared += 1
    assert compared == len(DOMAIN_STEPS)


def test_demo_reminders_are_the_fnep_ones_at_demo_speed() -> None:
    fnep, demo = load_process("fnep").reminders, load_process("demo").reminders
    assert [Duration.parse(d) for d in demo.before_due] == [_at_demo_speed(f) for f in fnep.before_due]
    for field in (
        "overdue_every",
        "escalate_after",
        "pause_advised_after",
        "review_reminder_after",
        "review_escalation_after",
        "changes_pending_after",
    ):
        assert Duration.parse(getattr(demo, field)) == _at_demo_speed(getattr(fnep, field)), field


def test_a_definition_survives_the_copy_into_a_workflow_input() -> None:
    """A project carries its definition as JSON: the round trip must give the same path."""
    fnep = load_process("fnep")
    assert ProcessDefinition.model_validate_json(fnep.model_dump_json()) == fnep


# -- broken definitions -----------------------------------------------------------------

VALID = """\
id: essai
version: 1
label: Essai
calendar: none
stages:
  - id: first
    label: Première
    steps:
      - {id: one, label: Un, duration: P1M}
      - {id: two, label: Deux, duration: P2M}
  - id: second
    label: Deuxième
    steps:
      - {id: three, label: Trois, due: {anchor: planned_opening, offset: -P1M}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "parcours.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_valid_sample_loads(tmp_path: Path) -> None:
    """The broken cases below each change one thing in a file that is otherwise fine."""
    definition = load_definition_file(_write(tmp_path, VALID))
    assert [step.id for stage in definition.stages for step in stage.steps] == ["one", "two", "three"]


@pytest.mark.parametrize(
    ("old", "new", "location", "reason"),
    [
        pytest.param(
            "duration: P1M", "duration: 1 mois", "stages.0.steps.0.duration", "'1 mois' n'est pas une durée ISO 8601",
            id="bad-duration",
        ),
        pytest.param(
            "offset: -P1M", "offset: -1M", "stages.1.steps.0.due.offset", "'-1M' n'est pas une durée ISO 8601",
            id="bad-anchored-offset",
        ),
        pytest.param(
            "anchor: planned_opening", "anchor: rentree", "stages.1.steps.0.due.anchor", "'planned_opening'",
            id="unknown-date-anchor",
        ),
        pytest.param(
            "id: three", "id: one", "stages.1.steps.0.id", "'one' apparaît deux fois",
            id="duplicate-step-id",
        ),
        pytest.param(
            "id: second", "id: first", "stages.1.id", "même identifiant 'first'",
            id="duplicate-stage-id",
        ),
        pytest.param(
            "calendar: none", "calendar: lunaire", "calendar", "'fr_working_days' or 'none'",
            id="unknown-calendar",
        ),
        pytest.param(
            "label: Essai", "label: Essai\ncolour: blue", "colour", "Extra inputs are not permitted",
            id="unknown-top-level-key",
        ),
        pytest.param(
            "{id: two, label: Deux, duration: P2M}", "{id: two, label: Deux, duration: P2M, owner: fnep}",
            "stages.0.steps.1.owner", "Extra inputs are not permitted",
            id="unknown-step-key",
        ),
        pytest.param(
            "{id: two, label: Deux, duration: P2M}", "{id: two, label: Deux}", "stages.0.steps.1",
            "soit une durée (duration), soit une échéance ancrée (due)",
            id="step-without-deadline",
        ),
        pytest.param(
            "offset: -P1M}", "offset: -P1M}, duration: P1M", "stages.1.steps.0",
            "soit une durée (duration), soit une échéance ancrée (due)",
            id="step-with-two-deadlines",
        ),
        pytest.param(
            "label: Essai", "label: Essai\ntimezone: Europe/Atlantis", "timezone", "fuseau horaire inconnu",
            id="unknown-timezone",
        ),
        pytest.param(
            "label: Essai", "label: Essai\nreminders: {overdue_every: 7 jours}", "reminders.overdue_every",
            "n'est pas une durée ISO 8601",
            id="bad-reminder-delay",
        ),
        pytest.param(
            "id: one,", "id: Un,", "stages.0.steps.0.id", "String should match pattern", id="bad-step-id",
        ),
        pytest.param("version: 1", "version: 0", "version", "greater than or equal to 1", id="version-zero"),
    ],
)  # fmt: skip
def test_a_broken_definition_names_the_file_the_field_and_the_reason(
    tmp_path: Path, old: str, new: str, location: str, reason: str
) -> None:
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(ProcessDefinitionError) as error:
        load_definition_file(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert f"{location}: " in message
    assert reason in message
    assert "\n" not in message  # one sentence, not pydantic's report


def test_an_empty_stage_is_refused(tmp_path: Path) -> None:
    broken = VALID.replace(
        "    steps:\n      - {id: three, label: Trois, due: {anchor: planned_opening, offset: -P1M}}", "    steps: []"
    )
    assert broken != VALID
    with pytest.raises(ProcessDefinitionError) as error:
        load_definition_file(_write(tmp_path, broken))
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'parcours.yaml'}: ")
    assert "stages.1.steps: List should have at least 1 item" in message


def test_a_definition_without_stages_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProcessDefinitionError, match=r"stages: List should have at least 1 item"):
        load_definition_file(_write(tmp_path, VALID.split("stages:")[0] + "stages: []\n"))


def test_invalid_yaml_is_refused_with_its_line_and_column(tmp_path: Path) -> None:
    # Line 4 is "  bad: x": a key indented under a plain value; the colon is in column 6.
    path = _write(tmp_path, VALID.replace("label: Essai\n", "label: Essai\n  bad: x\n", 1))
    with pytest.raises(ProcessDefinitionError) as error:
        load_definition_file(path)
    message = str(error.value)
    assert message.startswith(f"{path}: YAML invalide")
    assert "ligne 4, colonne 6" in message
    assert "\n" not in message


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(VALID.encode("latin-1"))  # "Première" with a single byte for the è
    with pytest.raises(ProcessDefinitionError, match="pas en UTF-8"):
        load_definition_file(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ProcessDefinitionError, match=f"^{path}: illisible"):
        load_definition_file(path)


@pytest.mark.parametrize("process_id", ["nope", "../processes/fnep", "FNEP"])
def test_an_unknown_process_names_the_known_ones(process_id: str) -> None:
    with pytest.raises(ProcessDefinitionError) as error:
        load_process(process_id)
    assert str(error.value) == f"processus inconnu {process_id!r} (connus : demo, fnep)"


def test_a_definition_is_parsed_once_per_version_of_its_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    source = Path(str(resources.files("labellisation") / "processes" / "demo.yaml")).read_text(encoding="utf-8")
    path.write_text(source, encoding="utf-8")
    stat = path.stat()
    first = _load_unchanged(path, stat.st_mtime_ns, stat.st_size)
    assert _load_unchanged(path, stat.st_mtime_ns, stat.st_size) is first
    path.write_text(source.replace("version: ", "version: 9", 1), encoding="utf-8")
    stat = path.stat()
    edited = _load_unchanged(path, stat.st_mtime_ns, stat.st_size)
    assert edited.version != first.version
    assert load_process("demo") is load_process("demo")
