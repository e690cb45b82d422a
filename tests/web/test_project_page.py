"""« Fiche projet » (#16 item 3): the timeline in SVG, the history in French, and who may see the page.

The pure parts (timeline SVG, history sentences) against hand-written output; the page over the app as the API
serves it (httpx), on the time-skipping server with a worker (tests/support/api.py's `api` fixture), a person
signed in by a session opened directly in the records (labellisation/web/sessions.py).
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from html import unescape
from typing import cast

import httpx
import pytest

from labellisation.api.app import create_app
from labellisation.path.state import Event, EventKind, StepStatus
from labellisation.path.status import StepView, UpcomingReminder
from labellisation.people import invite
from labellisation.process import load_process
from labellisation.web.deps import WebState
from labellisation.web.project_page import actor_name, history_sentence, reminder_sentence
from labellisation.web.security import COOKIE, sign
from labellisation.web.sessions import open_session
from labellisation.web.timeline import short_label, timeline_svg
from tests.support import api as api_support
from tests.support.api import DOCS, PROJECT, Api, profile
from tests.support.mailbox import Mailbox

api_fixture = api_support.api  # the `api` fixture (tests/support/api.py), under this name here

STEP = "opportunity_study"


def at(month: int, day: int) -> datetime:
    return datetime(2027, month, day, 10, 0, tzinfo=UTC)


def step(id_: str, label: str, status: StepStatus, **dates: datetime | None) -> StepView:
    fields = {"started_at": None, "due_at": None, "submitted_at": None, "decided_at": None} | dates
    overdue = 0
    if status is StepStatus.IN_PROGRESS and fields["due_at"] is not None:
        overdue = 5
    return StepView(id=id_, label=label, stage="s1", status=status, days_overdue=overdue, **fields)


def test_the_timeline_draws_planned_and_real_bars_today_and_what_is_late() -> None:
    steps = [
        step("a", "Étude", StepStatus.APPROVED, started_at=at(1, 1), due_at=at(2, 1), decided_at=at(1, 21)),
        step("b", "Faisabilité & co", StepStatus.IN_PROGRESS, started_at=at(1, 21), due_at=at(2, 20)),
        step("c", "Travaux", StepStatus.NOT_STARTED),
    ]
    # From 1 January (the first start) to 2 March (today), 60 days over 480 pixels: 8 pixels a day.
    svg = timeline_svg(steps, at(3, 2), "Frise du projet <Belfort>")
    assert svg == "\n".join(
        [
            '<svg class="frise" xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 820 116" width="100%"'
            ' aria-label="Frise du projet &lt;Belfort&gt;">',
            "<title>Frise du projet &lt;Belfort&gt;</title>",
            '<text class="frise-etape" x="0" y="41">Étude</text>',
            '<rect class="barre-prevue" x="240.0" y="28" width="248.0" height="20"><title>Prévu : Étude</title></rect>',
            '<rect class="barre-reelle" x="240.0" y="33" width="160.0" height="10"><title>Réel : Étude</title></rect>',
            '<text class="frise-etape" x="0" y="69">Faisabilité &amp; co</text>',
            '<rect class="barre-prevue" x="400.0" y="56" width="240.0" height="20">'
            "<title>Prévu : Faisabilité &amp; co</title></rect>",
            '<rect class="barre-reelle en-retard" x="400.0" y="61" width="320.0" height="10">'
            "<title>Réel : Faisabilité &amp; co</title></rect>",
            '<text class="frise-retard" x="724.0" y="69">en retard de 5 jours</text>',
            '<text class="frise-etape" x="0" y="97">Travaux</text>',
            '<line class="aujourdhui" x1="720.0" y1="18" x2="720.0" y2="116"/>',
            '<text class="frise-aujourdhui" x="720.0" y="14" text-anchor="middle">aujourd\'hui</text>',
            "</svg>",
        ]
    )


def test_a_long_step_label_is_cut_in_the_drawing_only() -> None:
    label = "Recrutement du directeur et des maîtres professionnels"
    assert short_label(label) == "Recrutement du directeur et des maî…"
    assert short_label("Étude") == "Étude"
    svg = timeline_svg([step("r", label, StepStatus.IN_PROGRESS, started_at=at(1, 1), due_at=at(2, 1))], at(1, 5), "F")
    assert ">Recrutement du directeur et des maî…</text>" in svg
    assert f"<title>Prévu : {label}</title>" in svg


def event(what: EventKind, step: str | None = STEP, actor: str | None = None, **data: object) -> Event:
    return Event(event_id="e", at=datetime(2027, 3, 3, 9, 0, tzinfo=UTC), kind=what, step=step, actor=actor, data=data)


STEPS = {STEP: "Étude d'opportunité"}
STAGES = {"opportunity": "Opportunité"}


@pytest.mark.parametrize(
    ("made", "sentence"),
    [
        (
            event(EventKind.STEP_SUBMITTED, actor="Paul Porteur <paul@edp-belfort.fr>"),
            "Dossier soumis par Paul Porteur le 3 mars 2027 (étape « Étude d'opportunité »)",
        ),
        (
            event(EventKind.STEP_APPROVED, actor="Romain Relecteur <romain@fnep.fr>"),
            "Étape « Étude d'opportunité » approuvée par Romain Relecteur le 3 mars 2027",
        ),
        (
            event(EventKind.CHANGES_REQUESTED, actor="Romain Relecteur <romain@fnep.fr>"),
            "Modifications demandées par Romain Relecteur le 3 mars 2027 (étape « Étude d'opportunité »)",
        ),
        (
            event(EventKind.PROJECT_STARTED, step=None, actor="Claire Coordination <claire@fnep.fr>"),
            "Projet démarré par Claire Coordination le 3 mars 2027",
        ),
        (
            event(EventKind.STAGE_STARTED, step=None, stage="opportunity"),
            "Phase « Opportunité » commencée le 3 mars 2027",
        ),
        (
            event(EventKind.DEADLINE_MOVED, actor="claire@fnep.fr", due_at="2027-07-01T21:59:00+00:00"),
            "Échéance de l'étape « Étude d'opportunité » déplacée au 1er juillet 2027"
            " par claire@fnep.fr le 3 mars 2027",
        ),
        (
            event(EventKind.REMINDER_SENT, kind="overdue", to="holder"),
            "Rappel envoyé au porteur de projet le 3 mars 2027 : relance pour retard (étape « Étude d'opportunité »)",
        ),
        (
            event(EventKind.PROJECT_PAUSED, step=None, actor="Claire Coordination <claire@fnep.fr>"),
            "Projet mis en pause par Claire Coordination le 3 mars 2027",
        ),
        (
            event(EventKind.DELIVERY_FAILED, step=None, refused=["p@refuse.example"], reason="550 5.1.1 Inconnu"),
            "E-mail non distribué à p@refuse.example le 3 mars 2027 : adresse refusée (550 5.1.1 Inconnu)",
        ),
    ],
)
def test_history_sentences_are_plain_french(made: Event, sentence: str) -> None:
    assert history_sentence(made, STEPS, STAGES) == sentence


def test_an_upcoming_reminder_is_a_french_sentence() -> None:
    upcoming = UpcomingReminder(at=at(7, 1), kind="escalation", step=STEP, to="coordinator")
    assert reminder_sentence(upcoming, STEPS, at(3, 2), "fnep") == (
        "Le 1er juillet 2027, à la coordination : escalade à la coordination (étape « Étude d'opportunité »)"
    )
    soon = UpcomingReminder(at=at(3, 3), kind="before_due", step=None, to="holder")
    assert reminder_sentence(soon, STEPS, at(3, 2), "fnep") == (
        "Le 3 mars 2027 à 11 h 00, au porteur de projet : rappel avant échéance"
    )


def test_an_actor_is_named_by_their_name() -> None:
    assert actor_name("Paul Porteur <paul@x.fr>") == "Paul Porteur"
    assert actor_name("<paul@x.fr>") == "paul@x.fr"
    assert actor_name("porteur@x.fr") == "porteur@x.fr"
    assert actor_name(None) is None


# --- the page, over the app and the workflow ---


class Site:
    """The pages' app over the `api` fixture's Temporal client, worker and records; people signed in by session."""

    def __init__(self, api: Api, mailbox: Mailbox) -> None:
        self.api = api
        self.app = create_app(mailbox.settings, client=api.env.client, store=api.store)

    async def browser(
        self, role: str, name: str, email: str, regions: list[str] | None = None, projects: list[str] | None = None
    ) -> httpx.AsyncClient:
        person = await invite(
            self.api.store, role=role, name=name, email=email, regions=regions or [], projects=projects or []
        )
        session_id = await open_session(self.api.store, person.id, datetime.now(UTC))
        web = cast(WebState, self.app.state.web)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://127.0.0.1:8000")
        http.cookies.set(COOKIE, sign(session_id, web.secret))
        return http


@pytest.fixture
async def site(api_fixture: Api, mailbox: Mailbox) -> Site:
    return Site(api_fixture, mailbox)


async def started_and_submitted(api: Api) -> None:
    started = await api.call("coordinator", "POST", "/projects", profile())
    assert started.status_code == 201, started.text
    submitted = await api.call("holder", "POST", f"/projects/{PROJECT}/steps/{STEP}/submissions", DOCS)
    assert submitted.status_code == 200, submitted.text
    decided = await api.call(
        "reviewer",
        "POST",
        f"/projects/{PROJECT}/steps/{STEP}/decisions",
        {"decision": "request_changes", "comment": "Chiffrer les besoins"},
    )
    assert decided.status_code == 200, decided.text


async def test_the_page_shows_stages_timeline_documents_comments_reminders_and_history(site: Site) -> None:
    await started_and_submitted(site.api)
    http = await site.browser("coordinator", "Claire Coordination", "claire.c@fnep.fr")
    response = await http.get(f"/projets/{PROJECT}")
    assert response.status_code == 200, response.text
    html = unescape(response.text)
    assert "<h1>École de Production de Belfort</h1>" in html
    assert "Bourgogne-Franche-Comté" in html
    status = (await site.api.call("coordinator", "GET", f"/projects/{PROJECT}")).json()
    started = [s for s in status["steps"] if s["started_at"] is not None]
    assert started
    for stage in load_process(status["process"]).stages:  # every stage, by its French name
        assert f"<h3>{stage.label}</h3>" in html
    for s in status["steps"]:
        assert s["label"] in html
    svg = re.search(r"<svg .*?</svg>", html, re.S)
    assert svg is not None
    assert (
        'role="img"' in svg[0] and "<title>Frise des étapes du projet École de Production de Belfort</title>" in svg[0]
    )
    assert svg[0].count('class="barre-reelle') == len(started)
    assert '<line class="aujourdhui"' in svg[0]
    # The same data beside it, as a table; the documents and the comments; the reminders; the history.
    assert "<caption>Les étapes, leurs dates et leur statut</caption>" in html
    assert "modifications demandées" in html
    assert '<a href="https://docs.example.org/etude.pdf" rel="noopener noreferrer">Étude</a>' in html
    assert "Romain Relecteur, le" in html and "Chiffrer les besoins" in html
    assert "Version finale" in html
    assert "Prochains rappels" in html
    assert ", au porteur de projet : modifications attendues (étape « Étude d'opportunité »)" in html
    assert "Projet démarré par Claire Coordination le" in html
    assert "Dossier soumis par Paul Porteur le" in html
    assert "Modifications demandées par Romain Relecteur le" in html
    await http.aclose()


async def test_the_holder_sees_their_project_and_only_their_reminders_to_come(site: Site) -> None:
    await started_and_submitted(site.api)
    http = await site.browser("holder", "Paul Porteur", "paul.p@edp-belfort.fr", projects=[PROJECT])
    response = await http.get(f"/projets/{PROJECT}")
    assert response.status_code == 200, response.text
    html = unescape(response.text)
    assert "Dossier soumis par Paul Porteur" in html
    assert ", au porteur de projet : modifications attendues (étape « Étude d'opportunité »)" in html
    coordinator = await site.browser("coordinator", "Claire Coordination", "claire.c@fnep.fr")
    everything = unescape((await coordinator.get(f"/projets/{PROJECT}")).text)
    others = [label for label in (", à la coordination : ", ", aux relecteurs FNEP : ") if label in everything]
    assert others  # the coordinator sees escalations to come: the holder must not
    assert not [label for label in others if label in html]
    await http.aclose()
    await coordinator.aclose()


@pytest.mark.parametrize(
    ("role", "access"),
    [
        ("holder", {"projects": ["edp-lyon"]}),
        ("reviewer", {"regions": ["auvergne-rhone-alpes"]}),
        ("coordinator", {"regions": ["auvergne-rhone-alpes"]}),
    ],
)
async def test_another_holder_or_region_is_refused(site: Site, role: str, access: dict[str, list[str]]) -> None:
    await started_and_submitted(site.api)
    http = await site.browser(role, "Autre Personne", "autre@exemple.fr", **access)
    response = await http.get(f"/projets/{PROJECT}")
    assert response.status_code == 403
    assert "<h1>Accès refusé</h1>" in response.text
    assert "École de Production de Belfort" not in response.text
    await http.aclose()


@pytest.mark.parametrize("project_id", ["edp-nulle-part", "Pas-Un-Identifiant", "x" * 300])
async def test_an_unknown_project_is_404(site: Site, project_id: str) -> None:
    http = await site.browser("coordinator", "Claire Coordination", "claire.c@fnep.fr")
    response = await http.get(f"/projets/{project_id}")
    assert response.status_code == 404
    assert "<h1>Page introuvable</h1>" in response.text
    assert "Projet inconnu : &#39;" in response.text
    await http.aclose()


async def test_without_a_session_the_page_sends_to_sign_in(site: Site) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site.app), base_url="http://127.0.0.1") as http:
        response = await http.get(f"/projets/{PROJECT}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion")


async def test_a_refused_address_is_shown_on_the_page(site: Site) -> None:
    holder = {"name": "Association EdP Belfort", "email": "porteur@refuse.example"}  # the SMTP sink refuses it
    started = await site.api.call("coordinator", "POST", "/projects", profile(holder=holder))
    assert started.status_code == 201, started.text
    http = await site.browser("coordinator", "Claire Coordination", "claire.c@fnep.fr")
    for _ in range(100):  # the welcome news is refused a moment after the start
        html = unescape((await http.get(f"/projets/{PROJECT}")).text)
        if "E-mails non distribués" in html:
            break
        await asyncio.sleep(0.05)
    box = re.search(r'<section class="carte alerte".*?</section>', html, re.S)
    assert box is not None, "no box of refused e-mails on the page"
    assert "E-mail non distribué à porteur@refuse.example le " in box[0] and "550 5.1.1" in box[0]
    await http.aclose()
