"""« Pilotage » (#19, in part): the coordinator reads which projects are at risk and why, and where projects lose
time, as tables; on real workflow runs (the `api` fixture)."""

from __future__ import annotations

from labellisation.contract import Update, workflow_id
from labellisation.path.commands import RecordCohort
from labellisation.path.state import Cohort
from labellisation.process import load_process
from tests.support.api import DOCS, PROJECT, profile
from tests.support.demo_path import approve_stages
from tests.support.driver import ProjectDriver
from tests.web.test_project_page import Site, api_fixture, site

__all__ = ["api_fixture", "site"]
STEP = "opportunity_study"


async def test_the_coordinator_sees_risks_with_their_reasons_and_days_per_step(site: Site) -> None:
    api = site.api
    assert (await api.call("coordinator", "POST", "/projects", profile(process="fnep"))).status_code == 201
    for _ in range(3):
        assert (await api.call("holder", "POST", f"/projects/{PROJECT}/steps/{STEP}/submissions", DOCS)).is_success
        changes = {"decision": "request_changes", "comment": "Chiffrer"}
        assert (await api.call("reviewer", "POST", f"/projects/{PROJECT}/steps/{STEP}/decisions", changes)).is_success
    await api.history()
    coordinator = await site.browser("coordinator", "Cora", "cora@fnep.fr", regions=["bourgogne-franche-comte"])
    answered = await coordinator.get("/pilotage")
    assert answered.status_code == 200, answered.text
    html = answered.text
    assert "<h1>Pilotage</h1>" in html and '<a href="/pilotage" aria-current="page">Pilotage</a>' in html
    risks = html[html.index('id="risques"') : html.index('id="etapes"')]
    assert f'<a href="/projets/{PROJECT}">École de Production de Belfort</a>' in risks
    assert "3 demandes de modifications dans la phase (4 pts)" in risks
    steps = html[html.index('id="etapes"') : html.index('id="entonnoir"')]
    assert '<th scope="row">Étude d&#39;opportunité</th><td>1</td>' in steps
    assert "<td>3,0</td>" in steps  # requests for changes per project
    elsewhere = await site.browser("coordinator", "Bob", "bob@fnep.fr", regions=["bretagne"])
    assert "École de Production de Belfort" not in (await elsewhere.get("/pilotage")).text
    holder = await site.browser("holder", "Léa", "lea@edp-belfort.fr", projects=[PROJECT])
    assert (await holder.get("/pilotage")).status_code == 403


async def test_the_cohorts_of_a_school_far_below_the_network_are_flagged(site: Site) -> None:
    api = site.api
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    project = ProjectDriver(api.env.client.get_workflow_handle(workflow_id(PROJECT)))
    stages = load_process("demo").stages
    await approve_stages(project, stages[: next(i for i, s in enumerate(stages) if s.id == "seeding")])
    weak = Cohort(label="2027-2029", enrolled=10, dropouts=0, presented=10, passed=6, positive_exits=5, job_offers=20)
    await project.update(Update.RECORD_COHORT, RecordCohort(actor="direction", cohort=weak))
    await api.history()
    coordinator = await site.browser("coordinator", "Cora", "cora@fnep.fr")
    html = (await coordinator.get("/pilotage")).text
    cohorts = html[html.index('id="cohortes"') :]
    assert "Références : 93 % de réussite au diplôme, 5 offres d'emploi par jeune" in cohorts
    assert "<td>60 %</td><td>50 %</td><td>2,0</td>" in cohorts
    assert "réussite au diplôme 60 % contre 93 % pour le réseau" in cohorts
