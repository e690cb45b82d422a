"""« Pilotage » (#19, in part): the coordinator reads which projects are at risk and why, and where projects lose
time, as tables; on real workflow runs (the `api` fixture)."""

from __future__ import annotations

from tests.support.api import DOCS, PROJECT, profile
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
