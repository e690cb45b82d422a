"""« Pilotage » as files (#19 item 6): the figures per step, the funnel and the cohorts as CSV and XLSX.

The figures are the API's own (`GET /reports/path`, `GET /reports/cohorts`: labellisation/api/reports.py's route
functions called as the portfolio page calls the project commands), so a file says what the page and the API
say; the access is the page's: a coordinator, of their regions. The files are written by labellisation/exports.py
(French spreadsheet conventions there). Optional filters as in the API: `region`, `year`, `process`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response

from labellisation.api import reports
from labellisation.api.deps import SettingsDep, StoreDep
from labellisation.exports import Column, Kind, Table, csv_bytes, xlsx_bytes
from labellisation.french_calendar import PARIS
from labellisation.process import load_process
from labellisation.records.cohorts import CohortReport, Outcomes
from labellisation.records.path_report import PathReport
from labellisation.tokens import ApiUser
from labellisation.web.deps import SignedInDep
from labellisation.web.errors import FrenchErrorsRoute, WebError
from labellisation.web.portfolio import _coordinator, download

router = APIRouter(include_in_schema=False, route_class=FrenchErrorsRoute)

Filter = Annotated[str, Query(max_length=200)]
DAYS, PERCENT, PER = Kind.DECIMAL, Kind.PERCENT, Kind.DECIMAL

STEP_COLUMNS = [
    Column("Étape"),
    Column("Projets", Kind.INTEGER),
    Column("Porteur : médiane (jours)", DAYS),
    Column("Porteur : 1er quartile (jours)", DAYS),
    Column("Porteur : 3e quartile (jours)", DAYS),
    Column("Porteur : 90e centile (jours)", DAYS),
    Column("Relecture : médiane (jours)", DAYS),
    Column("Relecture : 1er quartile (jours)", DAYS),
    Column("Relecture : 3e quartile (jours)", DAYS),
    Column("Relecture : 90e centile (jours)", DAYS),
    Column("Dans les délais (%)", PERCENT),
    Column("Demandes de modifications par projet", PER),
    Column("Relecture sous 10 jours ouvrés (%)", PERCENT),
    Column("Relecture sous 20 jours ouvrés (%)", PERCENT),
    Column("Rang parmi les plus lentes", Kind.INTEGER),
]
FUNNEL_COLUMNS = [
    Column("Phase"),
    Column("Projets entrés", Kind.INTEGER),
    Column("Encore dans la phase", Kind.INTEGER),
    Column("Passés à la suite", Kind.INTEGER),
    Column("Abandonnés", Kind.INTEGER),
    Column("Rejetés", Kind.INTEGER),
]
COHORT_COLUMNS = [
    Column("École"),
    Column("Identifiant"),
    Column("Cohortes", Kind.INTEGER),
    Column("Inscrits", Kind.INTEGER),
    Column("Abandons", Kind.INTEGER),
    Column("Présentés au diplôme", Kind.INTEGER),
    Column("Diplômés", Kind.INTEGER),
    Column("Sorties positives", Kind.INTEGER),
    Column("Offres d'emploi", Kind.INTEGER),
    Column("Réussite au diplôme (%)", PERCENT),
    Column("Sorties positives (%)", PERCENT),
    Column("Offres d'emploi par jeune", PER),
    Column("Écoles en dessous (%)", PERCENT),
    Column("À signaler"),
    Column("Source"),
]


def _year(text: str) -> int | None:
    """The `year` filter: empty, or a year the API accepts (its bounds), else the page's 422."""
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 2000 <= int(text) <= 2100:
        raise WebError(422, f"Année : « {text} » n'est pas une année entre 2000 et 2100, par exemple 2027.")
    return int(text)


async def _path(
    user: ApiUser, store: StoreDep, settings: SettingsDep, region: str, year: str, process: str
) -> tuple[PathReport, str, dict[str, str], dict[str, str]]:
    """The API's report with the filters, its process id, and the step and stage labels of that process."""
    report = await reports.path_analytics(
        user=user, store=store, settings=settings, region=region.strip() or None, year=_year(year),
        process=process.strip() or None,
    )  # fmt: skip
    definition = load_process(process.strip() or settings.default_process)  # known: the API checked it
    steps = {step.id: step.label for stage in definition.stages for step in stage.steps}
    return report, definition.id, steps, {stage.id: stage.label for stage in definition.stages}


def steps_table(report: PathReport, labels: dict[str, str]) -> Table:
    """One row per step: holder and review days, on-time rate, requests for changes, review turnaround."""
    slowest = {step: rank for rank, step in enumerate(report.slowest_steps, start=1)}
    table = Table("Étapes", STEP_COLUMNS)
    for f in report.steps:
        h, r = f.holder_days, f.review_days
        table.rows.append(
            [
                labels.get(f.step, f.step), f.projects, h.median, h.q1, h.q3, h.p90, r.median, r.q1, r.q3, r.p90,
                f.on_time_rate, f.changes_per_project, f.review_within_10_working_days,
                f.review_within_20_working_days, slowest.get(f.step),
            ]
        )  # fmt: skip
    return table


def funnel_table(report: PathReport, labels: dict[str, str]) -> Table:
    table = Table("Entonnoir", FUNNEL_COLUMNS)
    for f in report.funnel:
        table.rows.append([labels.get(f.stage, f.stage), f.started, f.still_there, f.passed, f.abandoned, f.rejected])
    return table


def _outcomes(o: Outcomes) -> list[int | float | None]:
    return [
        o.cohorts, o.enrolled, o.dropouts, o.presented, o.passed, o.positive_exits, o.job_offers, o.success_rate,
        o.positive_exit_rate, o.job_offers_per_young,
    ]  # fmt: skip


def cohorts_table(report: CohortReport) -> Table:
    """Each school, then the network, then the network's references with their source."""
    table = Table("Cohortes", COHORT_COLUMNS)
    for s in report.schools:
        flags = " ; ".join(s.flags) or None
        table.rows.append([s.name, s.project_id, *_outcomes(s.outcomes), s.success_rank, flags, None])
    table.rows.append(["Réseau", None, *_outcomes(report.network), None, None, None])
    ref = report.references
    table.rows.append(
        ["Références du réseau", *[None] * 8, ref.success_rate, None, ref.job_offers_per_young, None, None, ref.source]
    )
    return table


def _name(stem: str, extension: str) -> str:
    return f"{stem}-{datetime.now(UTC).astimezone(ZoneInfo(PARIS)):%Y-%m-%d}.{extension}"


@router.get("/pilotage/etapes.csv")
async def steps_csv(
    person: SignedInDep, store: StoreDep, settings: SettingsDep, region: Filter = "", year: Filter = "",
    process: Filter = "",
) -> Response:  # fmt: skip
    """The figures per step of « Pilotage », for a French spreadsheet."""
    user = await _coordinator(person)
    report, process_id, steps, _stages = await _path(user, store, settings, region, year, process)
    return download(csv_bytes(steps_table(report, steps)), _name(f"etapes-{process_id}", "csv"))


@router.get("/pilotage/etapes.xlsx")
async def steps_xlsx(
    person: SignedInDep, store: StoreDep, settings: SettingsDep, region: Filter = "", year: Filter = "",
    process: Filter = "",
) -> Response:  # fmt: skip
    """The figures per step (sheet « Étapes ») and the funnel (sheet « Entonnoir »)."""
    user = await _coordinator(person)
    report, process_id, steps, stages = await _path(user, store, settings, region, year, process)
    content = xlsx_bytes(steps_table(report, steps), funnel_table(report, stages))
    return download(content, _name(f"etapes-{process_id}", "xlsx"))


@router.get("/pilotage/entonnoir.csv")
async def funnel_csv(
    person: SignedInDep, store: StoreDep, settings: SettingsDep, region: Filter = "", year: Filter = "",
    process: Filter = "",
) -> Response:  # fmt: skip
    """The funnel per stage (a CSV file holds one table: the XLSX of the steps has it as its second sheet)."""
    user = await _coordinator(person)
    report, process_id, _steps, stages = await _path(user, store, settings, region, year, process)
    return download(csv_bytes(funnel_table(report, stages)), _name(f"entonnoir-{process_id}", "csv"))


@router.get("/pilotage/cohortes.csv")
async def cohorts_csv(person: SignedInDep, store: StoreDep, settings: SettingsDep) -> Response:
    """The cohorts per school of the person's regions, the network and the references, for a French spreadsheet."""
    user = await _coordinator(person)
    report = await reports.cohorts(user=user, store=store, settings=settings)
    return download(csv_bytes(cohorts_table(report)), _name("cohortes", "csv"))


@router.get("/pilotage/cohortes.xlsx")
async def cohorts_xlsx(person: SignedInDep, store: StoreDep, settings: SettingsDep) -> Response:
    user = await _coordinator(person)
    report = await reports.cohorts(user=user, store=store, settings=settings)
    return download(xlsx_bytes(cohorts_table(report)), _name("cohortes", "xlsx"))
