"""France's 18 regions and their departments, checked against counts and cases known by heart."""

from __future__ import annotations

import pytest

from labellisation.regions import BY_DEPARTMENT, REGIONS, UnknownRegion, region_from_text, region_of_department


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
