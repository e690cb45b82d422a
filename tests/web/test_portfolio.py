"""« Portefeuille » (#16 item 2): the coordinator's table, filters, sort, CSV, and the actions' forms.

The table reads the records database only (the `web` fixture, no Temporal); the actions send commands to real
workflows (a time-skipping server and a worker), the person signed in by a session created directly.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from labellisation.api.app import create_app
from labellisation.french_calendar import format_date_fr
from labellisation.path.state import ProjectState
from labellisation.people import Person, invite
from labellisation.records.schema import ProjectRecord, RecordEvents
from labellisation.records.store import RecordStore
from labellisation.web.security import COOKIE, sign
from labellisation.web.sessions import open_session
from tests.support.driver import running
from tests.support.mailbox import Mailbox
from tests.web.conftest import SECRET, Web, csrf_of

NOW = datetime.now(UTC)


async def seed(
    store: RecordStore,
    project_id: str,
    name: str,
    department: str,
    stage: str = "opportunity",
    state: ProjectState = ProjectState.ACTIVE,
    due: datetime | None = None,
) -> None:
    record = ProjectRecord(
        project_id=project_id, name=name, region="", department=department, city="Ville", academy=None,
        process="fnep", process_version=1, state=state, current_stage=stage, next_due_at=due,
        planned_opening=date(2029, 9, 1), holder_email="porteur@exemple.fr", updated_at=NOW, profile={},
    )  # fmt: skip
    await store.record(RecordEvents(project=record, events=[]))


async def seed_portfolio(store: RecordStore) -> None:
    """Two projects in Auvergne-Rhône-Alpes (one overdue), one in Bourgogne-Franche-Comté, one in Bretagne."""
    await seed(store, "edp-lyon", "École de Lyon", "69", due=NOW - timedelta(days=12))
    await seed(store, "edp-annecy", "École d'Annecy", "74", stage="feasibility", due=NOW + timedelta(days=40))
    await seed(store, "edp-belfort", "École de Belfort", "90", due=NOW + timedelta(days=90))
    await seed(store, "edp-brest", "École de Brest", "29", state=ProjectState.PAUSED, due=NOW - timedelta(days=3))


async def limited_coordinator(web: Web) -> httpx.AsyncClient:
    web.people["aura"] = await invite(
        web.store, role="coordinator", name="Alice Aura", email="alice@fnep.fr",
        regions=["auvergne-rhone-alpes", "bourgogne-franche-comte"], now=web.clock,
    )  # fmt: skip
    return await web.sign_in("aura")


async def test_the_coordinator_sees_their_regions_projects_and_no_other(web: Web) -> None:
    await seed_portfolio(web.store)
    http = await limited_coordinator(web)
    response = await http.get("/portefeuille")
    assert response.status_code == 200, response.text
    html = response.text
    for shown in ("École de Lyon", "École d&#39;Annecy", "École de Belfort", "Auvergne-Rhône-Alpes"):
        assert shown in html
    assert "Brest" not in html
    assert "Étude d&#39;opportunité" in html and "Étude de faisabilité" in html
    # The overdue row: a class and a word, not colour alone.
    assert 'class="en-retard"' in html and "En retard</strong> de 12 jours" in html
    assert 'href="/projets/edp-lyon"' in html
    # Counts by stage at the top: 2 in opportunity (Lyon, Belfort), 1 in feasibility.
    assert '<span class="nombre">2</span> Étude d&#39;opportunité' in html
    # A region outside theirs: 403, in French.
    outside = await http.get("/portefeuille", params={"region": "Bretagne"})
    assert outside.status_code == 403
    assert "Accès refusé" in outside.text and "hors de vos régions" in outside.text


async def test_every_project_for_an_unlimited_coordinator_and_no_page_for_others(web: Web) -> None:
    await seed_portfolio(web.store)
    await web.sign_in("coordinator")
    html = (await web.http.get("/portefeuille")).text
    assert "Brest" in html and "en pause" in html
    reviewer = await web.sign_in("reviewer", web.browser())
    refused = await reviewer.get("/portefeuille")
    assert refused.status_code == 403 and "réservée au rôle : coordinateur" in refused.text
    assert refused.headers["content-type"].startswith("text/html")


async def test_filters_and_sort(web: Web) -> None:
    await seed_portfolio(web.store)
    await web.sign_in("coordinator")
    get = web.http.get
    html = (await get("/portefeuille", params={"stage": "faisabilite"})).text
    assert "Annecy" in html and "Lyon" not in html
    assert '<span class="nombre">3</span> Étude d&#39;opportunité' in html  # the counts: every project of theirs
    html = (await get("/portefeuille", params={"region": "auvergne-rhone-alpes"})).text
    assert "Annecy" in html and "Lyon" in html and "Belfort" not in html
    html = (await get("/portefeuille", params={"state": "en pause"})).text
    assert "Brest" in html and "Lyon" not in html
    html = (await get("/portefeuille", params={"overdue": "1"})).text
    assert "Lyon" in html and "Brest" not in html and "Annecy" not in html  # paused: not overdue
    by_name = (await get("/portefeuille", params={"sort": "nom"})).text
    assert by_name.index("Annecy") < by_name.index("Belfort") < by_name.index("Brest") < by_name.index("Lyon")
    by_deadline = (await get("/portefeuille", params={"sort": "echeance"})).text
    assert by_deadline.index("Lyon") < by_deadline.index("Brest") < by_deadline.index("Annecy")
    by_delay = (await get("/portefeuille", params={"sort": "retard"})).text
    assert by_delay.index("Lyon") < by_delay.index("Belfort")
    bad = await get("/portefeuille", params={"state": "endormi"})
    assert bad.status_code == 422
    assert 'value="endormi"' in bad.text and "État : « endormi » inconnu" in bad.text


async def test_pages(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("labellisation.web.portfolio.PAGE_SIZE", 2)
    await seed_portfolio(web.store)
    await web.sign_in("coordinator")
    first = (await web.http.get("/portefeuille", params={"sort": "nom"})).text
    assert "Annecy" in first and "Belfort" in first and "Brest" not in first
    assert 'href="/portefeuille?sort=nom&amp;page=2" rel="next"' in first
    second = (await web.http.get("/portefeuille", params={"sort": "nom", "page": "2"})).text
    assert "Brest" in second and "Lyon" in second and "Annecy" not in second


async def test_the_csv_has_the_bom_semicolons_french_headers_and_the_filtered_rows(web: Web) -> None:
    await seed_portfolio(web.store)
    await web.sign_in("coordinator")
    response = await web.http.get("/portefeuille.csv", params={"region": "Auvergne-Rhône-Alpes", "sort": "nom"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:6] == ["Identifiant", "Nom", "Région", "Phase", "État", "Prochaine échéance"]
    assert [r[0] for r in rows[1:]] == ["edp-annecy", "edp-lyon"]
    lyon = rows[2]
    assert lyon[2] == "Auvergne-Rhône-Alpes" and lyon[3] == "Étude d'opportunité" and lyon[4] == "actif"
    assert datetime.strptime(lyon[5], "%d/%m/%Y")  # dd/mm/yyyy
    assert lyon[6:] == ["oui", "12"]


# ---------------------------------------------------------------------------------------- actions (Temporal)


@dataclass
class Desk:
    http: httpx.AsyncClient
    store: RecordStore
    coordinator: Person

    async def csrf(self, path: str) -> str:
        response = await self.http.get(path)
        assert response.status_code == 200, response.text
        return csrf_of(response.text)


@pytest.fixture
async def desk(
    time_skipping_env: WorkflowEnvironment, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> AsyncIterator[Desk]:
    settings = mailbox.settings.model_copy(
        update={"task_queue": task_queue, "default_process": "demo", "secret_key": SECRET}
    )
    app = create_app(settings, client=time_skipping_env.client, store=sqlite_store)
    coordinator = await invite(sqlite_store, role="coordinator", name="Claire Coordination", email="claire@fnep.fr")
    session_id = await open_session(sqlite_store, coordinator.id, datetime.now(UTC))
    async with (
        running(time_skipping_env.client, task_queue, sqlite_store, settings),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=settings.public_base_url) as http,
    ):
        http.cookies.set(COOKIE, sign(session_id, app.state.web.secret))
        yield Desk(http, sqlite_store, coordinator)


def start_form(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf, "project_id": "edp-belfort", "name": "École de Production de Belfort",
        "department": "90", "region": "", "city": "Belfort", "academy": "", "trades": "Usinage\nChaudronnerie",
        "diplomas": "", "capacity": "", "holder_name": "Association EdP Belfort",
        "holder_email": "porteur@edp-belfort.fr", "planned_opening": "2029-09-01", "process": "demo",
    }  # fmt: skip
    form.update(changes)
    return form


async def test_start_pause_and_resume_through_the_forms(desk: Desk) -> None:
    csrf = await desk.csrf("/portefeuille/nouveau")
    bad = await desk.http.post("/portefeuille/nouveau", data=start_form(csrf, planned_opening="2029-02-31"))
    assert bad.status_code == 422
    assert 'value="2029-02-31"' in bad.text and "Saisissez une date valide" in bad.text
    assert 'value="École de Production de Belfort"' in bad.text  # what was typed is kept
    assert (await desk.http.get("/projets/edp-belfort/actions")).status_code == 404  # nothing started
    elsewhere = await desk.http.post("/portefeuille/nouveau", data=start_form(csrf, region="Bretagne"))
    assert elsewhere.status_code == 422 and 'id="e-n-region"' in elsewhere.text
    assert "« Bretagne » n&#39;est pas la région du département 90" in elsewhere.text

    started = await desk.http.post("/portefeuille/nouveau", data=start_form(csrf))
    assert started.status_code == 303, started.text
    assert started.headers["location"] == "/projets/edp-belfort/actions?fait=demarre"
    page = await desk.http.get(started.headers["location"])
    assert "Le projet est démarré." in page.text and "Bourgogne-Franche-Comté" in page.text
    again = await desk.http.post("/portefeuille/nouveau", data=start_form(csrf))
    assert again.status_code == 409 and "Le projet &#39;edp-belfort&#39; existe déjà." in again.text

    no_reason = await desk.http.post(
        "/projets/edp-belfort/actions/pause", data={"csrf_token": csrf, "reason": "", "review_on": "2029-01-15"}
    )
    assert no_reason.status_code == 422 and "Ce champ est obligatoire" in no_reason.text
    assert 'value="2029-01-15"' in no_reason.text
    paused = await desk.http.post(
        "/projets/edp-belfort/actions/pause",
        data={"csrf_token": csrf, "reason": "Attente du vote de la Région", "review_on": "2029-01-15"},
    )
    assert paused.status_code == 303, paused.text
    page = await desk.http.get(paused.headers["location"])
    assert "Le projet est mis en pause." in page.text and "en pause" in page.text
    assert "Reprendre le projet" in page.text
    resumed = await desk.http.post("/projets/edp-belfort/actions/reprise", data={"csrf_token": csrf})
    assert resumed.status_code == 303, resumed.text
    page = await desk.http.get(resumed.headers["location"])
    assert "Le projet a repris." in page.text and "Mettre en pause" in page.text
    twice = await desk.http.post("/projets/edp-belfort/actions/reprise", data={"csrf_token": csrf})
    assert twice.status_code == 409, twice.text  # the workflow's one sentence, on the page
    assert "Le projet n&#39;est pas en pause. Rien n'a été modifié." in twice.text


async def test_a_form_without_its_csrf_token_changes_nothing(desk: Desk) -> None:
    csrf = await desk.csrf("/portefeuille/nouveau")
    assert (await desk.http.post("/portefeuille/nouveau", data=start_form(csrf))).status_code == 303
    form = {"reason": "Attente du vote", "review_on": "2029-01-15"}
    refused = await desk.http.post("/projets/edp-belfort/actions/pause", data=form)
    assert refused.status_code == 403 and "Formulaire refusé" in refused.text
    forged = await desk.http.post("/projets/edp-belfort/actions/pause", data={**form, "csrf_token": "x" * 43})
    assert forged.status_code == 403
    page = await desk.http.get("/projets/edp-belfort/actions")
    assert "Mettre en pause" in page.text and "Reprendre le projet" not in page.text  # still active
    started = await desk.http.post("/portefeuille/nouveau", data=start_form("", project_id="edp-autre"))
    assert started.status_code == 403
    assert (await desk.http.get("/projets/edp-autre/actions")).status_code == 404


async def test_an_unknown_project_shows_the_french_404_page(desk: Desk) -> None:
    response = await desk.http.get("/projets/edp-inconnue/actions")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in response.text and "Projet inconnu : &#39;edp-inconnue&#39;." in response.text


async def test_invite_a_person(desk: Desk) -> None:
    csrf = await desk.csrf("/personnes/inviter")
    form = {"csrf_token": csrf, "role": "reviewer", "name": "Rémi Relecteur", "email": "remi@fnep.fr"}
    bad = await desk.http.post("/personnes/inviter", data={**form, "regions": "Atlantide", "projects": ""})
    assert bad.status_code == 422 and 'value="Atlantide"' in bad.text and 'id="e-i-regions"' in bad.text
    done = await desk.http.post("/personnes/inviter", data={**form, "regions": "Grand Est", "projects": ""})
    assert done.status_code == 303
    assert "La personne est invitée" in (await desk.http.get(done.headers["location"])).text
    again = await desk.http.post("/personnes/inviter", data={**form, "regions": "", "projects": ""})
    assert again.status_code == 422 and "Une personne a déjà l&#39;adresse « remi@fnep.fr »." in again.text
    holder = {**form, "role": "holder", "email": "porteur@exemple.fr", "regions": "", "projects": ""}
    no_project = await desk.http.post("/personnes/inviter", data=holder)
    assert no_project.status_code == 422 and "donnez son identifiant dans Projets" in no_project.text
    assert 'value="porteur@exemple.fr"' in no_project.text and "--project" not in no_project.text


async def test_move_a_deadline_and_abandon_through_the_forms(
    desk: Desk, time_skipping_env: WorkflowEnvironment
) -> None:
    csrf = await desk.csrf("/portefeuille/nouveau")
    assert (await desk.http.post("/portefeuille/nouveau", data=start_form(csrf))).status_code == 303
    page = await desk.http.get("/projets/edp-belfort/actions")
    step = re.search(r'<select id="c-d-step" name="step">\s*<option value="([^"]+)" selected', page.text)
    assert step, page.text
    new_day = (await time_skipping_env.get_current_time() + timedelta(days=400)).date()  # the workflows' clock
    form = {"csrf_token": csrf, "step": step[1], "due_on": "bientôt", "reason": "Étude élargie au bassin"}
    bad = await desk.http.post("/projets/edp-belfort/actions/echeance", data=form)
    assert bad.status_code == 422 and 'value="bientôt"' in bad.text and "Saisissez une date valide" in bad.text
    moved = await desk.http.post("/projets/edp-belfort/actions/echeance", data={**form, "due_on": new_day.isoformat()})
    assert moved.status_code == 303, moved.text
    page = await desk.http.get(moved.headers["location"])
    assert "L&#39;échéance est déplacée." in page.text or "L'échéance est déplacée." in page.text
    assert format_date_fr(new_day) in page.text

    unconfirmed = await desk.http.post(
        "/projets/edp-belfort/actions/abandon", data={"csrf_token": csrf, "reason": "Plus de financement"}
    )
    assert unconfirmed.status_code == 422 and "Cochez la case" in unconfirmed.text
    assert "Plus de financement" in unconfirmed.text
    abandoned = await desk.http.post(
        "/projets/edp-belfort/actions/abandon",
        data={"csrf_token": csrf, "reason": "Plus de financement", "confirm": "oui"},
    )
    assert abandoned.status_code == 303, abandoned.text
    page = await desk.http.get(abandoned.headers["location"])
    assert "Le projet est abandonné." in page.text and "abandonné" in page.text
    assert "n&#39;accepte plus d&#39;action" in page.text or "n'accepte plus d'action" in page.text


async def test_a_coordinator_of_another_region_can_neither_see_nor_act(desk: Desk) -> None:
    csrf = await desk.csrf("/portefeuille/nouveau")
    assert (await desk.http.post("/portefeuille/nouveau", data=start_form(csrf))).status_code == 303
    other = await invite(
        desk.store, role="coordinator", name="Gaston Grand-Est", email="gaston@fnep.fr", regions=["grand-est"]
    )
    session_id = await open_session(desk.store, other.id, datetime.now(UTC))
    desk.http.cookies.set(COOKIE, sign(session_id, SECRET.get_secret_value().encode()), domain="", path="/")
    refused = await desk.http.get("/projets/edp-belfort/actions")
    assert refused.status_code == 403 and "Accès refusé" in refused.text and "hors de vos régions" in refused.text
    other_csrf = await desk.csrf("/portefeuille")
    form = {"csrf_token": other_csrf, "reason": "Essai", "review_on": "2029-01-15"}
    assert (await desk.http.post("/projets/edp-belfort/actions/pause", data=form)).status_code == 403
    outside = await desk.http.post("/portefeuille/nouveau", data=start_form(other_csrf, project_id="edp-autre"))
    assert outside.status_code == 403 and "hors de vos régions" in outside.text
    assert "Belfort" not in (await desk.http.get("/portefeuille")).text
    person = {"csrf_token": other_csrf, "role": "reviewer", "name": "Rémi", "email": "remi@fnep.fr", "projects": ""}
    elsewhere = await desk.http.post("/personnes/inviter", data={**person, "regions": "Bretagne"})
    assert elsewhere.status_code == 422 and "Hors de vos régions : Bretagne." in elsewhere.text
    everywhere = await desk.http.post("/personnes/inviter", data={**person, "regions": ""})
    assert everywhere.status_code == 422 and "donnez ses régions" in everywhere.text
    assert (await desk.http.post("/personnes/inviter", data={**person, "regions": "Grand Est"})).status_code == 303
