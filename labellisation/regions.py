"""France's 18 regions (since 2016): stable slugs, French names, and the region of every department. Pure data.

A project's department gives its region; reviewers and coordinators may be limited to regions (issue #15).
Source: the official geographic code (INSEE), 96 metropolitan departments (Corsica as 2A and 2B) and the
five overseas departments that are regions of their own.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    slug: str
    name: str
    departments: tuple[str, ...]


REGIONS: tuple[Region, ...] = (
    Region("auvergne-rhone-alpes", "Auvergne-Rhône-Alpes",
           ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74")),
    Region("bourgogne-franche-comte", "Bourgogne-Franche-Comté", ("21", "25", "39", "58", "70", "71", "89", "90")),
    Region("bretagne", "Bretagne", ("22", "29", "35", "56")),
    Region("centre-val-de-loire", "Centre-Val de Loire", ("18", "28", "36", "37", "41", "45")),
    Region("corse", "Corse", ("2A", "2B")),
    Region("grand-est", "Grand Est", ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88")),
    Region("hauts-de-france", "Hauts-de-France", ("02", "59", "60", "62", "80")),
    Region("ile-de-france", "Île-de-France", ("75", "77", "78", "91", "92", "93", "94", "95")),
    Region("normandie", "Normandie", ("14", "27", "50", "61", "76")),
    Region("nouvelle-aquitaine", "Nouvelle-Aquitaine",
           ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87")),
    Region("occitanie", "Occitanie", ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82")),
    Region("pays-de-la-loire", "Pays de la Loire", ("44", "49", "53", "72", "85")),
    Region("provence-alpes-cote-d-azur", "Provence-Alpes-Côte d'Azur", ("04", "05", "06", "13", "83", "84")),
    Region("guadeloupe", "Guadeloupe", ("971",)),
    Region("martinique", "Martinique", ("972",)),
    Region("guyane", "Guyane", ("973",)),
    Region("la-reunion", "La Réunion", ("974",)),
    Region("mayotte", "Mayotte", ("976",)),
)  # fmt: skip

BY_SLUG: dict[str, Region] = {region.slug: region for region in REGIONS}
BY_DEPARTMENT: dict[str, Region] = {code: region for region in REGIONS for code in region.departments}


class UnknownRegion(ValueError):
    """A region or department that names nothing; the message lists what would."""


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else "-" for c in plain).strip("-").replace("--", "-")


def region_of_department(department: str) -> Region:
    """The region of a department code ("69", "2A", "974"); "1" reads as "01"."""
    code = department.strip().upper()
    code = code.zfill(2) if code.isdigit() and len(code) < 2 else code
    region = BY_DEPARTMENT.get(code)
    if region is None:
        raise UnknownRegion(
            f"department : « {department} » n'est pas un département français (01 à 95, 2A, 2B, 971 à 976)"
        )
    return region


def region_from_text(text: str) -> Region:
    """A region from its slug or its French name, accents, case and punctuation optional; else the list."""
    folded = _folded(text)
    for region in REGIONS:
        if folded in (region.slug, _folded(region.name)):
            return region
    names = ", ".join(f"{region.name} ({region.slug})" for region in REGIONS)
    raise UnknownRegion(f"region : « {text} » n'est pas une région ; régions : {names}")


def region_of_profile(department: str, region: str | None = None) -> Region:
    """The region a new or changed profile gets: its department's; a region given must name that same region.

    Raises UnknownRegion naming the field: an unknown department, a region that names none (with the list),
    or a region other than the department's (naming the department's).
    """
    expected = region_of_department(department)
    if region is not None and region.strip():
        given = region_from_text(region)
        if given != expected:
            raise UnknownRegion(
                f"region : « {region} » n'est pas la région du département {department.strip()}, "
                f"qui est en {expected.name} ({expected.slug}) ; sans region, le département la donne"
            )
    return expected


def project_region(region: str | None, department: str | None) -> Region | None:
    """A running project's region, never failing: its region read as one of the 18 (a slug since issue #15, or
    the French name typed before), else its department's; None when neither names one (an old free text)."""
    for text, read in ((region, region_from_text), (department, region_of_department)):
        if text:
            try:
                return read(text)
            except UnknownRegion:
                pass
    return None


def region_name(text: str) -> str:
    """What people read for a project's region: the French name of a slug, an old project's text as it was typed."""
    region = BY_SLUG.get(text)
    return region.name if region is not None else text
