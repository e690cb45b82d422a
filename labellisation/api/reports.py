"""/reports/portfolio and /health."""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from labellisation.api.access import region_filter
from labellisation.api.deps import ClientDep, CoordinatorDep, SettingsDep, StoreDep
from labellisation.api.errors import ApiError
from labellisation.api.schemas import ERRORS, Health, OverdueProject, PortfolioReport
from labellisation.log_setup import get_logger
from labellisation.path.state import ProjectState
from labellisation.process import ProcessDefinitionError, load_process
from labellisation.records.cohorts import CohortReport, cohorts_of
from labellisation.records.path_report import PathReport, path_report_of
from labellisation.records.risk import ProjectRisk, risks_of

router = APIRouter(tags=["rapports"])
#: How long /health waits for each of Temporal and the records database.
HEALTH_TIMEOUT = timedelta(seconds=3)
log = get_logger("labellisation.api")


@router.get("/reports/portfolio", summary="Le portefeuille en chiffres", responses=ERRORS)
async def portfolio_report(user: CoordinatorDep, store: StoreDep) -> PortfolioReport:
    """Every project's counts (`by_region` by region slug); a coordinator limited to regions, those regions'."""
    now = datetime.now(UTC)
    _, regions = region_filter(user, None)
    rows = await store.portfolio(regions=regions)  # plain rows: thousands of projects
    active = ProjectState.ACTIVE.value
    overdue = [
        OverdueProject(
            project_id=r["project_id"],
            name=r["name"],
            current_stage=r["current_stage"],
            next_due_at=r["next_due_at"],
            days_overdue=(now - r["next_due_at"]).days,
        )
        for r in rows
        if r["state"] == active and r["next_due_at"] is not None and r["next_due_at"] < now
    ]
    durations = await store.step_durations(regions)
    return PortfolioReport(
        projects=len(rows),
        by_stage=dict(Counter(r["current_stage"] for r in rows)),
        by_region=dict(Counter(r["region"] for r in rows)),
        by_state=dict(Counter(r["state"] for r in rows)),
        overdue=sorted(overdue, key=lambda o: o.next_due_at),
        median_days_per_step={step: round(statistics.median(days), 2) for step, days in durations.items()},
    )


@router.get("/reports/path", summary="Où les projets perdent du temps : jours par étape, délais, boucles, entonnoir",
            responses=ERRORS)  # fmt: skip
async def path_analytics(
    user: CoordinatorDep,
    store: StoreDep,
    settings: SettingsDep,
    region: Annotated[str | None, Query(description="Une région (nom ou identifiant).")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="L'année de démarrage des projets.")] = None,
    process: Annotated[str | None, Query(description="Le parcours (fnep, demo).")] = None,
) -> PathReport:
    """Per step: holder and review days (median, quartiles, p90), on-time rate, requests for changes, review
    turnaround in working days against 10 and 20; the three slowest steps; the funnel per stage. A coordinator
    limited to regions sees theirs."""
    slug, regions = region_filter(user, region)
    process_id = process or settings.default_process
    try:
        definition = load_process(process_id)
    except ProcessDefinitionError:
        raise ApiError(422, f"process : parcours inconnu « {process_id} »") from None
    steps = [step.id for stage in definition.stages for step in stage.steps]
    return await path_report_of(
        store, steps, [stage.id for stage in definition.stages], regions, slug, process_id, year
    )


@router.get("/reports/cohorts", summary="Résultats des cohortes, par école et pour le réseau, face aux références",
            responses=ERRORS)  # fmt: skip
async def cohorts(user: CoordinatorDep, store: StoreDep, settings: SettingsDep) -> CohortReport:
    """Each school's cohorts summed (success at the diploma, positive exits, job offers per young person), the
    network's, the references (settings, with their source), each school's place among the others, and flags for a
    school far below (labellisation/records/cohorts.py)."""
    _, regions = region_filter(user, None)
    return await cohorts_of(store, regions, settings)


@router.get("/reports/risks", summary="Projets à risque : un indicateur expliqué, du plus au moins exposé",
            responses=ERRORS)  # fmt: skip
async def risks(
    user: CoordinatorDep,
    store: StoreDep,
    as_of: Annotated[datetime | None, Query(description="Le moment où juger (défaut : maintenant).")] = None,
) -> list[ProjectRisk]:
    """Every project under way of the person's regions with a risk above zero, highest first; each point with its
    reason in French (labellisation/records/risk.py)."""
    now = as_of.astimezone(UTC) if as_of is not None and as_of.tzinfo is not None else datetime.now(UTC)
    _, regions = region_filter(user, None)
    return await risks_of(store, regions, now)


@router.get(
    "/health",
    summary="Temporal et la base sont-ils joignables ?",
    response_model=Health,
    responses={503: {"model": Health, "description": "Une des deux parties ne répond pas"}},
)
async def health(client: ClientDep, store: StoreDep) -> JSONResponse:
    result = {"temporal": "ok", "database": "ok"}
    # Each check within HEALTH_TIMEOUT; what failed is said, not how (no exception names for anyone to read).
    try:
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=HEALTH_TIMEOUT)
    except Exception:  # health reports any failure, it never raises
        log.warning("health: temporal unreachable", exc_info=True)
        result["temporal"] = "injoignable"
    try:
        await asyncio.wait_for(store.ping(), HEALTH_TIMEOUT.total_seconds())
    except Exception:
        log.warning("health: records database unreachable", exc_info=True)
        result["database"] = "injoignable"
    healthy = result == {"temporal": "ok", "database": "ok"}
    return JSONResponse(result, status_code=200 if healthy else 503)
