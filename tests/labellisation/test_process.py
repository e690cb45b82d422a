"""Process definitions: the shipped ones, and clear failures for broken ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labellisation.process import Calendar, ProcessDefinitionError, load_definition_file, load_process

DOMAIN_STEPS = [
    "opportunity_study", "association", "feasibility_study", "pre_labellisation",
    "works", "equipment", "funding", "staffing", "recruitment", "opening_declaration",
    "opening", "first_graduates", "labellisation",
]  # fmt: skip
DOMAIN_STAGES = [
    "Étude d'opportunité", "Association porteuse", "Étude de faisabilité", "Demande de pré-labellisation",
    "Mise en œuvre", "Ouverture", "Amorçage", "Labellisation",
]  # fmt: skip


def test_fnep_is_the_path_of_the_domain() -> None:
    fnep = load_process("fnep")
    assert [stage.label for stage in fnep.stages] == DOMAIN_STAGES
    assert [step.id for stage in fnep.stages for step in stage.steps] == DOMAIN_STEPS
    assert fnep.calendar is Calendar.FR_WORKING_DAYS
    declaration = fnep.step("opening_declaration")
    assert declaration is not None and declaration.due is not None
    assert declaration.due.anchor == "planned_opening" and declaration.due.offset == "-P3M"
    assert fnep.step("opportunity_study").duration == "P6M"  # type: ignore[union-attr]


def _demo_of(fnep_duration: str) -> str:
    """Each month of fnep lasts one minute in demo, each day two seconds."""
    sign, body = ("-", fnep_duration[1:]) if fnep_duration.startswith("-") else ("", fnep_duration)
    match = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?", body)
    assert match, fnep_duration
    years, months, days = (int(g or 0) for g in match.groups())
    minutes, seconds = years * 12 + months, days * 2
    if not minutes and not seconds:
        return f"{sign}P0D"
    return f"{sign}PT" + (f"{minutes}M" if minutes else "") + (f"{seconds}S" if seconds else "")


def test_demo_is_the_same_path_at_one_minute_a_month() -> None:
    fnep, demo = load_process("fnep"), load_process("demo")
    assert demo.calendar is Calendar.NONE
    assert [s.id for s in demo.stages] == [s.id for s in fnep.stages]
    for fnep_stage, demo_stage in zip(fnep.stages, demo.stages, strict=True):
        for f, d in zip(fnep_stage.steps, demo_stage.steps, strict=True):
            assert d.id == f.id
            if f.duration is not None:
                assert d.duration == _demo_of(f.duration), f.id
            else:
                assert f.due is not None and d.due is not None
                assert d.due.anchor == f.due.anchor
                assert d.due.offset == _demo_of(f.due.offset), f.id


VALID = """
id: broken
version: 1
label: Essai
calendar: none
stages:
  - id: first
    label: Première
    steps:
      - {id: one, label: Un, duration: P1M}
      - {id: two, label: Deux, duration: P2M}
"""


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (("duration: P1M", "duration: 1 mois"), "stages.0.steps.0.duration", "n'est pas une durée ISO 8601"),
        (("duration: P1M", "due: {anchor: rentree, offset: -P1M}"), "stages.0.steps.0.due.anchor", "planned_opening"),
        (("id: two", "id: one"), "", "'one' apparaît deux fois"),
        (("calendar: none", "calendar: lunaire"), "calendar", "fr_working_days"),
        (("label: Essai", "label: Essai\ncolour: blue"), "colour", "Extra inputs are not permitted"),
    ],
)
def test_a_broken_definition_names_the_file_the_field_and_the_reason(
    tmp_path: Path, change: tuple[str, str], field: str, reason: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(VALID.replace(*change, 1), encoding="utf-8")
    with pytest.raises(ProcessDefinitionError) as error:
        load_definition_file(path)
    message = str(error.value)
    assert message.startswith(str(path))
    assert field in message
    assert reason in message


def test_an_empty_stage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    text = VALID.split("    steps:")[0] + "    steps: []\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProcessDefinitionError, match=r"stages\.0\.steps: List should have at least 1 item"):
        load_definition_file(path)


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(ProcessDefinitionError, match="YAML invalide"):
        load_definition_file(path)


def test_unknown_process_names_the_known_ones() -> None:
    with pytest.raises(ProcessDefinitionError, match="processus inconnu 'nope' \\(connus : demo, fnep\\)"):
        load_process("nope")
