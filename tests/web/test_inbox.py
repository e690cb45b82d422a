"""« À décider » (issue #16, item 1): the submitted steps of a reviewer's regions and the decision form."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from labellisation.api.app import create_app
from labellisation.people import find_person, invite
from labellisation.process import load_process
from labellisation.records.store import RecordStore
from labellisation.tokens import ApiUser, UserRole, create_token
from labellisation.web.deps import WebState
from labellisation.web.inbox import waiting_time
from labellisation.web.security import COOKIE, sign
from labellisation.web.sessions import open_session
from tests.support.api import DOCS, OTHER, PROJECT, profile
from tests.support.driver import running
from tests.support.mailbox import Mailbox
from tests.web.conftest import csrf_of

LYON = profile(OTHER, name="École de Production de Lyon", region="Auvergne-Rhône-Alpes", department="69", city="Lyon")


@dataclass
class Site:
    """The app over the time-skipping server and a worker; API tokens for setting up, browsers for the pages."""

    app: FastAPI
    store: RecordStore
    api: httpx.AsyncClient
    tokens: dict[str, str]
    browsers: list[httpx.AsyncClient] = field(default_factory=list)

    async def call(self, who: str, method: str, path: str, json: Any = None) -> httpx.Response:
        return await self.api.request(method, path, json=json, headers={"Authorization": f"Bearer {self.tokens[who]}"})

    async def browser(self, role: str, name: str, email: str, **access: Any) -> httpx.AsyncClient:
        """A browser signed in as a new person (the session made directly, as the sign-in link would)."""
        person = await find_person(self.store, email) or await invite(
            self.store, role=role, name=name, email=email, **access
        )
        session_id = await open_session(self.store, person.id, datetime.now(UTC))
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://suivi")
        http.cookies.set(COOKIE, sign(session_id, cast(WebState, self.app.state.web).secret))
        self.browsers.append(http)
        return http

    async def events(self, project_id: str = PROJECT, kind: str | None = None) -> list[dict[str, Any]]:
        response = await self.call("coordinator", "GET", f"/projects/{project_id}/history")
        assert response.status_code == 200, response.text
        return [e for e in response.json() if kind is None or e["kind"] == kind]

    async def step_status(self, step: str, project_id: str = PROJECT) -> str:
        response = await self.call("coordinator", "GET", f"/projects/{project_id}")
        return str(next(s["status"] for s in response.json()["steps"] if s["id"] == step))


@pytest.fixture
async def site(
    time_skipping_env: WorkflowEnvironment, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> AsyncIterator[Site]:
    settings = mailbox.settings.model_copy(
        update={
            "task_queue": task_queue,
            "default_process": "demo",
            "secret_key": SecretStr("test-secret-key-with-at-least-32-characters"),
        }
    )
    tokens = {
        "coordinator": await create_token(
            sqlite_store, ApiUser(role=UserRole.COORDINATOR, name="Claire Coordination", email="claire@fnep.fr")
        ),
        "reviewer": await create_token(
            sqlite_store, ApiUser(role=UserRole.REVIEWER, name="Romain Relecteur", email="romain@fnep.fr")
        ),
        "holder": await create_token(
            sqlite_store,
            ApiUser(role=UserRole.HOLDER, name="Paul Porteur", email="paul@edp-belfort.fr", projects=[PROJECT]),
        ),
        "other_holder": await create_token(
            sqlite_store, ApiUser(role=UserRole.HOLDER, name="Léa Lyon", email="lea@edp-lyon.fr", projects=[OTHER])
        ),
    }
    app = create_app(settings, client=time_skipping_env.client, store=sqlite_store)
    async with (
        running(time_skipping_env.client, task_queue, sqlite_store, settings),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api,
    ):
        made = Site(app, sqlite_store, api, tokens)
        yield made
        for browser in made.browsers:
            await browser.aclose()


async def start_and_submit(site: Site, body: dict[str, Any], holder: str) -> None:
    started = await site.call("coordinator", "POST", "/projects", body)
    assert started.status_code == 201, started.text
    path = f"/projects/{body['project_id']}/steps/opportunity_study/submissions"
    submitted = await site.call(holder, "POST", path, DOCS)
    assert submitted.status_code == 200, submitted.text


async def reviewer_of_belfort(site: Site) -> httpx.AsyncClient:
    return await site.browser("reviewer", "Rita Relectrice", "rita@fnep.fr", regions=["bourgogne-franche-comte"])


def form_fields(page: str, decision: str, comment: str = "") -> dict[str, str]:
    """The first decision form of the page, filled in."""
    form = page[page.index('action="/a-decider"') :]
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form[: form.index("</form>")]))
    return {**{k: html.unescape(v) for k, v in hidden.items()}, "decision": decision, "comment": comment}


async def test_the_reviewer_sees_the_submitted_steps_of_their_region_only(site: Site) -> None:
    await start_and_submit(site, profile(), "holder")
    await start_and_submit(site, LYON, "other_holder")
    reviewer = await reviewer_of_belfort(site)
    page = await reviewer.get("/a-decider")
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert "École de Production de Belfort" in text
    assert "Étude d'opportunité" in text
    assert 'href="https://docs.example.org/etude.pdf"' in text
    assert "Version finale" in text  # the holder's comment
    assert 'href="/projets/edp-belfort"' in text  # its « Fiche projet »
    assert "Soumis le" in text and re.search(r"\d{1,2}(er)? \w+ 20\d\d", text)
    assert "délai : 20 s, escalade à 40 s" in text  # the demo process's review delays
    assert "École de Production de Lyon" not in text
    # A reviewer of every region sees both; a holder is not a reviewer.
    everyone = await site.browser("reviewer", "Victor Partout", "victor@fnep.fr")
    both = html.unescape((await everyone.get("/a-decider")).text)
    assert "École de Production de Belfort" in both and "École de Production de Lyon" in both
    holder = await site.browser("holder", "Paul Porteur", "paul@edp-belfort.fr", projects=[PROJECT])
    refused = await holder.get("/a-decider")
    assert refused.status_code == 403 and "Accès refusé" in html.unescape(refused.text)


async def test_deciding_with_the_form_changes_the_workflow_and_a_second_post_decides_once(site: Site) -> None:
    await start_and_submit(site, profile(), "holder")
    reviewer = await reviewer_of_belfort(site)
    page = await reviewer.get("/a-decider")
    fields = form_fields(page.text, "approve")
    assert fields["decision_id"].startswith("web-")
    first = await reviewer.post("/a-decider", data=fields)
    assert first.status_code == 303, first.text
    assert first.headers["location"].startswith("/a-decider?")
    assert await site.step_status("opportunity_study") == "approved"
    # The same form again (a double click, a refresh re-posting): the same outcome, no second event.
    second = await reviewer.post("/a-decider", data=fields)
    assert second.status_code == 303, second.text
    assert second.headers["location"] == first.headers["location"]
    assert len(await site.events(kind="step_approved")) == 1
    after = await reviewer.get(first.headers["location"])
    text = html.unescape(after.text)
    assert "Décision enregistrée — Étude d'opportunité (École de Production de Belfort) : étape approuvée." in text
    assert "Aucune étape soumise" in text


async def test_a_missing_comment_on_request_changes_shows_the_error_and_sends_nothing(site: Site) -> None:
    await start_and_submit(site, profile(), "holder")
    reviewer = await reviewer_of_belfort(site)
    fields = form_fields((await reviewer.get("/a-decider")).text, "request_changes", "   ")
    refused = await reviewer.post("/a-decider", data=fields)
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Commentaire : obligatoire pour demander des modifications ou rejeter" in text
    assert 'value="request_changes" checked' in text  # what was chosen is kept
    assert fields["decision_id"] in text  # the same form, the same decision id
    assert await site.step_status("opportunity_study") == "submitted"
    assert await site.events(kind="changes_requested") == []
    # With its comment, the request goes through; the typed comment is kept on a refusal too.
    fields["comment"] = "Chiffrer le carnet de commandes"
    asked = await reviewer.post("/a-decider", data=fields)
    assert asked.status_code == 303, asked.text
    [event] = await site.events(kind="changes_requested")
    assert event["comment"] == "Chiffrer le carnet de commandes"


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(site: Site) -> None:
    await start_and_submit(site, profile(), "holder")
    reviewer = await reviewer_of_belfort(site)
    fields = form_fields((await reviewer.get("/a-decider")).text, "approve")
    assert fields.pop("csrf_token") == csrf_of((await reviewer.get("/a-decider")).text)
    refused = await reviewer.post("/a-decider", data=fields)
    assert refused.status_code == 403
    assert "Formulaire refusé" in refused.text
    assert await site.step_status("opportunity_study") == "submitted"


async def test_a_refused_decision_shows_the_workflows_reason(site: Site) -> None:
    await start_and_submit(site, profile(), "holder")
    reviewer = await reviewer_of_belfort(site)
    fields = form_fields((await reviewer.get("/a-decider")).text, "approve")
    fields["step"] = "association"  # not submitted: the workflow refuses it
    refused = await reviewer.post("/a-decider", data=fields)
    assert refused.status_code == 409, refused.text
    assert "Décision refusée : " in html.unescape(refused.text)
    assert await site.step_status("opportunity_study") == "submitted"


async def test_a_reviewer_of_another_region_cannot_decide_there(site: Site) -> None:
    await start_and_submit(site, LYON, "other_holder")
    everyone = await site.browser("reviewer", "Victor Partout", "victor@fnep.fr")
    fields = form_fields((await everyone.get("/a-decider")).text, "approve")
    reviewer = await reviewer_of_belfort(site)
    fields["csrf_token"] = csrf_of((await reviewer.get("/a-decider")).text)
    refused = await reviewer.post("/a-decider", data=fields)
    assert refused.status_code == 403
    assert "hors de vos régions" in html.unescape(refused.text)
    assert await site.step_status("opportunity_study", OTHER) == "submitted"


def test_the_waiting_time_counts_working_days_against_the_fnep_review_delays() -> None:
    fnep = load_process("fnep")
    submitted = datetime(2027, 4, 30, 14, 0, tzinfo=UTC)  # a Friday
    assert waiting_time(submitted, datetime(2027, 5, 3, 8, 0, tzinfo=UTC), fnep) == (
        "1 jour ouvré",
        "délai : 10 jours ouvrés, escalade à 20",
        None,
    )
    # Ascension (6 May) and Whit Monday (17 May) are holidays: the tenth working day is 18 May, the twentieth 1 June.
    assert waiting_time(submitted, datetime(2027, 5, 14, 8, 0, tzinfo=UTC), fnep)[::2] == ("9 jours ouvrés", None)
    assert waiting_time(submitted, datetime(2027, 5, 17, 8, 0, tzinfo=UTC), fnep)[::2] == ("9 jours ouvrés", None)
    assert waiting_time(submitted, datetime(2027, 5, 18, 8, 0, tzinfo=UTC), fnep)[::2] == (
        "10 jours ouvrés",
        "délai dépassé",
    )
    assert waiting_time(submitted, datetime(2027, 6, 1, 8, 0, tzinfo=UTC), fnep)[2] == "escaladé à la coordination"


async def test_a_paused_project_is_listed_without_its_decision_form(
    site: Site, time_skipping_env: WorkflowEnvironment
) -> None:
    await start_and_submit(site, profile(), "holder")
    review_on = (await time_skipping_env.get_current_time()).date() + timedelta(days=90)  # ahead, whatever the date
    paused = await site.call(
        "coordinator", "POST", f"/projects/{PROJECT}/pause", {"reason": "Vote", "review_on": review_on.isoformat()}
    )
    assert paused.status_code == 200, paused.text
    reviewer = await reviewer_of_belfort(site)
    text = html.unescape((await reviewer.get("/a-decider")).text)
    assert "École de Production de Belfort" in text
    assert "Projet en pause : la décision sera possible à sa reprise" in text
    assert 'action="/a-decider"' not in text
