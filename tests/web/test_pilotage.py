"""« Pilotage » (#19, in part): the coordinator reads which projects are at risk and why, and where projects lose
time, as charts (inline SVG named for screen readers) and tables; on real workflow runs (the `api` fixture)."""

from __future__ import annotations

from datetime import timedelta

from labellisation.contract import Update, workflow_id
from labellisation.path.commands import RecordCohort
from labellisation.path.state import Cohort
from labellisation.process import load_process
from tests.support.api import DOCS, OTHER, PROJECT, profile
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
    # The days per step as box plots, named for screen readers by one sentence, the table after it.
    assert 'xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="graphique-etapes-titre"' in steps
    assert '<title id="graphique-etapes-titre">Jours par étape en boîtes à moustaches' in steps
    assert "porteur 0 j" in steps and steps.index("<svg") < steps.index("<table")
    funnel = html[html.index('id="entonnoir"') : html.index('id="regions"')]
    assert (
        'aria-labelledby="graphique-entonnoir-titre"' in funnel
        and "1 projet a commencé « Étude d&#39;opportunité », aucun n&#39;a franchi" in funnel
    )
    assert "<title>1 projet : en cours</title>" in funnel and "aria-hidden" not in html
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
    assert '<title id="graphique-reussite-titre">Réussite au diplôme par école et pour le réseau' in cohorts
    assert "face à la référence de 93 % : le réseau est à 60 %" in cohorts and ">référence 93 %</text>" in cohorts
    assert '<title id="graphique-offres-titre">' in cohorts and "le réseau est à 2." in cohorts


async def test_the_on_time_rate_of_each_region_is_drawn_and_tabled(site: Site) -> None:
    api = site.api
    lyon = profile(OTHER, name="École de Production de Lyon", region="Auvergne-Rhône-Alpes", department="69",
                   process="fnep")  # fmt: skip
    assert (await api.call("coordinator", "POST", "/projects", lyon)).status_code == 201
    await api.env.sleep(timedelta(days=200))  # past the study's 6 months: submitted late
    assert (await api.call("coordinator", "POST", "/projects", profile(process="fnep"))).status_code == 201
    for who, project in (("other_holder", OTHER), ("holder", PROJECT)):
        assert (await api.call(who, "POST", f"/projects/{project}/steps/{STEP}/submissions", DOCS)).is_success
        approve = {"decision": "approve", "comment": "Bien"}
        assert (await api.call("reviewer", "POST", f"/projects/{project}/steps/{STEP}/decisions", approve)).is_success
        await api.history(project)  # recorded before the page reads the records
    coordinator = await site.browser("coordinator", "Cora", "cora@fnep.fr")
    html = (await coordinator.get("/pilotage")).text
    regions = html[html.index('id="regions"') : html.index('id="cohortes"')]
    assert "de 0 % (Auvergne-Rhône-Alpes) à 100 % (Bourgogne-Franche-Comté). Les chiffres" in regions
    assert regions.index('aria-labelledby="graphique-regions-titre"') < regions.index("<table")
    assert (
        '<tr><th scope="row">Auvergne-Rhône-Alpes</th><td>1</td><td>0 %</td></tr>\n'
        '<tr><th scope="row">Bourgogne-Franche-Comté</th><td>1</td><td>100 %</td></tr>'
    ) in regions
    assert "<title>1 étape approuvée</title>" in regions  # Bourgogne's bar (0 % draws none)
    one_region = await site.browser("coordinator", "Bob", "bob@fnep.fr", regions=["auvergne-rhone-alpes"])
    html = (await one_region.get("/pilotage")).text
    assert "Bourgogne-Franche-Comté" not in html[html.index('id="regions"') :]
