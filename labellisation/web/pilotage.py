"""« Pilotage » (#19, in part): the coordinator's view of where the network's projects lose time and which are at
risk, as tables (readable without JavaScript and by screen readers), from the same figures as `GET /reports/path`
and `GET /reports/risks`; charts drawn on the server (labellisation/web/charts.py) above the tables they draw."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import Response

from labellisation.api.access import region_filter
from labellisation.api.deps import SettingsDep, StoreDep
from labellisation.process import load_process
from labellisation.records.cohorts import cohorts_of
from labellisation.records.path_report import Spread, StepFigures, path_report_of
from labellisation.records.risk import risks_of
from labellisation.regions import region_name
from labellisation.web.charts import cohort_charts, funnel_chart, region_chart, steps_chart
from labellisation.web.deps import SignedInDep
from labellisation.web.errors import FrenchErrorsRoute
from labellisation.web.pages import page
from labellisation.web.portfolio import _coordinator

router = APIRouter(include_in_schema=False, route_class=FrenchErrorsRoute)


def _spread(s: Spread) -> str:
    if s.median is None:
        return "—"
    return f"{s.median:.1f} j (de {s.q1:.1f} à {s.q3:.1f} ; 9 sur 10 sous {s.p90:.1f})".replace(".", ",")


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


@router.get("/pilotage")
async def pilotage(person: SignedInDep, store: StoreDep, settings: SettingsDep) -> Response:
    user = await _coordinator(person)
    now = datetime.now(UTC)
    _, regions = region_filter(user, None)
    definition = load_process(settings.default_process)
    step_labels = {s.id: s.label for stage in definition.stages for s in stage.steps}
    stage_labels = {stage.id: stage.label for stage in definition.stages}
    report = await path_report_of(store, list(step_labels), list(stage_labels), regions, process=definition.id)
    risks = await risks_of(store, regions, now)
    funnel = [(stage_labels.get(f.stage, f.stage), f) for f in report.funnel]
    on_time = [(region_name(r.region), r) for r in report.on_time_by_region]
    cohorts = await cohorts_of(store, regions, settings)
    return page(
        "pilotage.html.j2",
        person=person,
        here="/pilotage",
        process=definition.label,
        projects=report.projects,
        risks=[(r, region_name(r.region), stage_labels.get(r.current_stage, r.current_stage)) for r in risks],
        steps=[_step_row(f, step_labels) for f in report.steps],
        slowest=[step_labels.get(s, s) for s in report.slowest_steps],
        funnel=funnel,
        on_time=on_time,
        cohorts=cohorts,
        charts={
            "steps": steps_chart([(step_labels.get(f.step, f.step), f) for f in report.steps]),
            "funnel": funnel_chart(funnel),
            "regions": region_chart(on_time),
            "cohorts": cohort_charts(cohorts),
        },
        rate=_rate,
    )


def _step_row(f: StepFigures, labels: dict[str, str]) -> tuple[str, int, str, str, str, str, str]:
    changes = f"{f.changes_per_project or 0:.1f}".replace(".", ",")
    return (
        labels.get(f.step, f.step), f.projects, _spread(f.holder_days), _spread(f.review_days),
        _rate(f.on_time_rate), changes, _rate(f.review_within_10_working_days),
    )  # fmt: skip
