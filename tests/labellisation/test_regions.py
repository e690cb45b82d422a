"""France's 18 regions and their departments, checked against counts and cases known by heart."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from labellisation import cli_render
from labellisation.regions import (
    BY_DEPARTMENT,
    REGIONS,
    UnknownRegion,
    project_region,
    region_from_text,
    region_name,
    region_of_department,
    region_of_profile,
)


def test_eighteen_regions_with_unique_slugs_covering_101_departments_once_each() -> None:
    assert len(REGIONS) == 18
    assert len({region.slug for region in REGIONS}) == 18
    codes = [code for region in REGIONS for code in region.departments]
    assert len(codes) == len(set(codes)) == 101  # 96 metropolitan (2A and 2B for Corsica) and 5 overseas
    metropolitan = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"}
    assert metropolitan | {"971", "972", "973", "974", "976"} == set(BY_DEPARTMENT)


@pytest.mark.parametrize(
    ("department", "slug"),
    [("69", "auvergne-rhone-alpes"), ("90", "bourgogne-franche-comte"), ("67", "grand-est"), ("57", "grand-est"),
     ("2A", "corse"), ("2b", "corse"), ("1", "auvergne-rhone-alpes"), ("75", "ile-de-france"),
     ("44", "pays-de-la-loire"), ("974", "la-reunion"), ("13", "provence-alpes-cote-d-azur"),
     ("59", "hauts-de-france")],
)  # fmt: skip
def test_a_department_gives_its_region(department: str, slug: str) -> None:
    assert region_of_department(department).slug == slug


@pytest.mark.parametrize("department", ["20", "96", "975", "00", "abc", ""])
def test_a_code_that_is_no_department_is_refused_naming_the_field(department: str) -> None:
    with pytest.raises(UnknownRegion, match=r"^department : « .* » n'est pas un département français"):
        region_of_department(department)


@pytest.mark.parametrize(
    ("text", "slug"),
    [("Auvergne-Rhône-Alpes", "auvergne-rhone-alpes"), ("auvergne-rhone-alpes", "auvergne-rhone-alpes"),
     ("Provence-Alpes-Côte d'Azur", "provence-alpes-cote-d-azur"), ("ÎLE-DE-FRANCE", "ile-de-france"),
     ("Pays de la Loire", "pays-de-la-loire"), ("La Réunion", "la-reunion")],
)  # fmt: skip
def test_a_region_is_read_from_its_slug_or_its_french_name(text: str, slug: str) -> None:
    assert region_from_text(text).slug == slug


def test_a_free_text_region_is_refused_with_the_list() -> None:
    with pytest.raises(UnknownRegion) as refused:
        region_from_text("Rhône-Alpes")
    message = str(refused.value)
    assert message.startswith("region : « Rhône-Alpes » n'est pas une région ; régions : Auvergne-Rhône-Alpes")
    assert message.count("(") == 18


@pytest.mark.parametrize(
    ("department", "region", "slug"),
    [("90", None, "bourgogne-franche-comte"), ("90", "", "bourgogne-franche-comte"),
     ("90", "Bourgogne-Franche-Comté", "bourgogne-franche-comte"), ("67", "grand-est", "grand-est"),
     ("2A", "CORSE", "corse")],
)  # fmt: skip
def test_a_profile_s_region_is_its_department_s(department: str, region: str | None, slug: str) -> None:
    assert region_of_profile(department, region).slug == slug


def test_a_region_other_than_the_department_s_is_refused_naming_the_right_one() -> None:
    with pytest.raises(UnknownRegion) as refused:
        region_of_profile("90", "Grand Est")
    assert str(refused.value) == (
        "region : « Grand Est » n'est pas la région du département 90, qui est en Bourgogne-Franche-Comté "
        "(bourgogne-franche-comte) ; sans region, le département la donne"
    )
    with pytest.raises(UnknownRegion, match=r"^department : « 20 »"):
        region_of_profile("20", "Corse")
    with pytest.raises(UnknownRegion, match=r"^region : « Rhône-Alpes » n'est pas une région ; régions : "):
        region_of_profile("69", "Rhône-Alpes")


@pytest.mark.parametrize(
    ("region", "department", "slug"),
    [("auvergne-rhone-alpes", "69", "auvergne-rhone-alpes"), ("Grand Est", "90", "grand-est"),
     ("Rhône-Alpes", "69", "auvergne-rhone-alpes"), ("ARA", "1", "auvergne-rhone-alpes"),
     ("Région lyonnaise", "Rhône", None), ("", "", None), (None, None, None)],
)  # fmt: skip
def test_an_old_project_s_region_is_read_from_its_text_else_its_department_never_failing(
    region: str | None, department: str | None, slug: str | None
) -> None:
    found = project_region(region, department)
    assert (found.slug if found else None) == slug


def test_people_read_a_slug_as_its_french_name_and_an_old_text_as_it_was() -> None:
    assert region_name("provence-alpes-cote-d-azur") == "Provence-Alpes-Côte d'Azur"
    assert region_name("Région lyonnaise") == "Région lyonnaise"


def test_the_command_line_shows_the_french_names(monkeypatch: pytest.MonkeyPatch) -> None:
    console = Console(file=io.StringIO(), width=200)
    monkeypatch.setattr(cli_render, "out", console)
    row = {"project_id": "edp-belfort", "name": "EdP", "region": "bourgogne-franche-comte", "process": "demo",
           "state": "active", "current_stage": "opportunity", "next_due_at": None, "overdue": False}  # fmt: skip
    cli_render.render_portfolio([row, row | {"project_id": "edp-vieux", "region": "Région lyonnaise"}])
    cli_render.render_report({"projects": 2, "by_stage": {}, "by_state": {}, "overdue": [],
                              "by_region": {"bourgogne-franche-comte": 1, "Région lyonnaise": 1}})  # fmt: skip
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert "bourgogne-franche-comte" not in printed
    assert printed.count("Bourgogne-Franche-Comté") == 2 and printed.count("Région lyonnaise") == 2
    assert "par région : Bourgogne-Franche-Comté 1, Région lyonnaise 1" in printed
