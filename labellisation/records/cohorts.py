"""Cohort outcomes against the network (#19 item 2): each school's recorded cohorts summed, its rates, the
network's, and the references the Écoles de Production announce (settings, with their source).

Pure: `cohort_report` reads the `cohort_recorded` events of each project. Rates: success at the diploma = passed /
presented; positive exits = positive exits / (enrolled - dropouts), the young people who finished; job offers per
young person = job offers / (enrolled - dropouts). Each school is placed among the others (the share of schools
whose success rate is below its own), and flagged when its success rate is more than `FAR_BELOW` under the
reference or its job offers under half the reference's lower bound.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from labellisation.records.path_report import Event, report_events
from labellisation.records.store import RecordStore
from labellisation.settings import Settings

#: How far under the reference success rate a school is flagged (in rate: 0.15 is 15 points).
#: The only events the cohorts read.
COHORT_KIND = "cohort_recorded"
FAR_BELOW = 0.15


class References(BaseModel):
    success_rate: float
    job_offers_per_young: float
    source: str


class Outcomes(BaseModel):
    cohorts: int
    enrolled: int
    dropouts: int
    presented: int
    passed: int
    positive_exits: int
    job_offers: int
    success_rate: float | None
    positive_exit_rate: float | None
    job_offers_per_young: float | None


class SchoolOutcomes(BaseModel):
    project_id: str
    name: str
    outcomes: Outcomes
    #: The share of the other schools whose success rate is below this one's (None without a rate).
    success_rank: float | None
    flags: list[str]


class CohortReport(BaseModel):
    references: References
    network: Outcomes
    schools: list[SchoolOutcomes]


def network_references(settings: Settings) -> References:
    """The references of the settings (`LABELLISATION_NETWORK_*`)."""
    return References(
        success_rate=settings.network_success_rate,
        job_offers_per_young=settings.network_job_offers_per_young,
        source=settings.network_references_source,
    )


def _outcomes(cohorts: list[dict[str, int]]) -> Outcomes:
    total = {k: sum(int(c.get(k, 0)) for c in cohorts) for k in
             ("enrolled", "dropouts", "presented", "passed", "positive_exits", "job_offers")}  # fmt: skip
    finished = total["enrolled"] - total["dropouts"]
    return Outcomes(
        cohorts=len(cohorts), **total,
        success_rate=round(total["passed"] / total["presented"], 3) if total["presented"] else None,
        positive_exit_rate=round(total["positive_exits"] / finished, 3) if finished > 0 else None,
        job_offers_per_young=round(total["job_offers"] / finished, 2) if finished > 0 else None,
    )  # fmt: skip


def cohort_report(projects: dict[str, list[Event]], names: dict[str, str], references: References) -> CohortReport:
    per_school: dict[str, list[dict[str, int]]] = {}
    for project_id, events in projects.items():
        cohorts = [dict(e[3]) for e in events if e[0] == COHORT_KIND]
        if cohorts:
            per_school[project_id] = cohorts  # type: ignore[assignment]
    outcomes = {p: _outcomes(c) for p, c in per_school.items()}
    rates = {p: o.success_rate for p, o in outcomes.items() if o.success_rate is not None}
    schools = []
    for project_id, found in sorted(outcomes.items()):
        rank = None
        if found.success_rate is not None and len(rates) > 1:
            others = [r for p, r in rates.items() if p != project_id]
            rank = round(sum(r < found.success_rate for r in others) / len(others), 3)
        flags = []
        reference = round(references.success_rate * 100)
        if found.success_rate is not None and found.success_rate < references.success_rate - FAR_BELOW:
            rate = round(found.success_rate * 100)
            flags.append(f"réussite au diplôme {rate} % contre {reference} % pour le réseau")
        offers, expected = found.job_offers_per_young, references.job_offers_per_young
        if offers is not None and offers < expected / 2:
            said = f"{offers:.1f}".replace(".", ",")
            flags.append(f"{said} offres d'emploi par jeune contre {expected:.0f} pour le réseau")
        schools.append(SchoolOutcomes(project_id=project_id, name=names.get(project_id, project_id), outcomes=found,
                                      success_rank=rank, flags=flags))  # fmt: skip
    every = [c for cohorts in per_school.values() for c in cohorts]
    return CohortReport(references=references, network=_outcomes(every), schools=schools)


async def cohorts_of(store: RecordStore, regions: Sequence[str] | None, settings: Settings) -> CohortReport:
    """The cohort report of the schools of `regions` (None: all), against the network's references."""
    names = {r["project_id"]: r["name"] for r in await store.portfolio(regions=regions)}
    events = await report_events(store, regions, None, None, kinds=[COHORT_KIND])
    return cohort_report(events, names, network_references(settings))
